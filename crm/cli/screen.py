"""What a command prints never drives the terminal: control characters from the files are shown.

A name written as ``"\\e]0;pwned\\a"`` or ``"\\e[2J"`` would retitle the window or clear the screen
where ``crm list`` prints it, and a bidi override would turn the rest of the line around. While a
command runs (``crm.cli.CrmGroup.invoke``), its stdout and stderr go through ``Printable``, which
writes each such character as its escape (``\\x1b``, ``\\u202e``), whether or not the stream is
a terminal: table and text output, diffs, messages and errors alike.

Output for programs stays exact: a command that prints JSON, CSV, vCard or iCalendar calls
``exact()`` first (the ``--format`` options do it), and bytes go to the stream's buffer untouched.
JSON escapes control characters itself; CSV keeps the text as it is.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any, TextIO, cast

from crm.core.text import printable


class Printable:
    """A text stream that writes ``printable()`` text to ``stream``, or exact text once told."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.exact = False

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self.stream.write(text if self.exact else printable(text))
        return len(text)

    @property
    def encoding(self) -> str:
        return self.stream.encoding

    @property
    def errors(self) -> str | None:
        return self.stream.errors

    @property
    def buffer(self) -> IO[bytes]:
        # click.echo writes bytes (a feed, a PDF) here: those are exact by nature.
        return self.stream.buffer

    def __getattr__(self, name: str) -> Any:
        # flush, isatty, fileno, ...: the stream's own.
        return getattr(self.stream, name)


def raw(stream: TextIO) -> TextIO:
    """Return the stream under a ``Printable`` (for the progress bar's own escapes)."""
    return stream.stream if isinstance(stream, Printable) else stream


def exact() -> None:
    """Print the rest of this command's stdout exactly as given (JSON, CSV, vCard, iCalendar)."""
    if isinstance(sys.stdout, Printable):
        sys.stdout.exact = True


@contextmanager
def printable_output() -> Iterator[None]:
    """Send stdout and stderr through ``Printable`` for the duration of the block."""
    saved = sys.stdout, sys.stderr
    sys.stdout = cast(TextIO, Printable(raw(sys.stdout)))
    sys.stderr = cast(TextIO, Printable(raw(sys.stderr)))
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
