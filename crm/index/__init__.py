"""The SQLite cache of a vault (store, build, schema) and the facade every command uses."""
