"""The one exception family: failures that stop a command, each with its exit code."""

from __future__ import annotations


class CrmError(Exception):
    """A failure that stops a command; ``cli`` prints it once and exits with ``exit_code``."""

    def __init__(self, message: str, *, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code
