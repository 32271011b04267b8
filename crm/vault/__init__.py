"""The vault on disk: finding customer files, the syntax of a file, parsing and loading."""
