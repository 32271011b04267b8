"""Safe edits: one atomic writer, line-level changes that keep every other byte, init, merging."""
