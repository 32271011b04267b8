"""Domain objects that carry their origin, the one field table, dates, config, errors (no I/O
but reading ``crm.toml``; imports nothing else of crm)."""
