"""crm: a plain-text, git-friendly customer relationship manager."""

__version__ = "0.1.0"
