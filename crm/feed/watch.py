"""Live rebuilds: a watchdog observer on the vault, debounced, plus a tick when the date changes.

Only events that can change the vault count: customer ``.md`` files and ``crm.toml`` being
created, modified, touched, deleted or moved, and folders appearing, vanishing or moving. Opening or
reading a file (``opened`` / ``closed_no_write``), hidden files (editor swap files, ``.crm/``,
our own temp files) and backups (``~``) are ignored, so a rebuild never triggers itself.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileAttribEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

from crm.core.config import CONFIG_NAME

# Directory "modified" events are left out on purpose: writing our own output into the
# vault folder would raise one and start a rebuild loop.
EVENT_TYPES: list[type[FileSystemEvent]] = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileAttribEvent,  # `touch FILE` is the usual way to ask for a rebuild
    FileDeletedEvent,
    FileMovedEvent,
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
]


@dataclass(frozen=True, slots=True)
class Change:
    """One relevant filesystem event, with paths relative to the vault."""

    kind: str
    path: str
    dest: str | None = None

    def __str__(self) -> str:
        return f"{self.kind} {self.path}" + (f" -> {self.dest}" if self.dest else "")


def relevant(rel: str, is_dir: bool) -> bool:
    """Return True when a path (relative to the vault, POSIX form) can hold customers or config."""
    if rel in ("", "."):
        return False
    parts = rel.split("/")
    if any(p.startswith(".") for p in parts):
        return False
    if is_dir:
        return True
    name = parts[-1]
    return name == CONFIG_NAME or (name.endswith(".md") and not name.endswith("~"))


class Debouncer:
    """Collects changes and calls ``callback`` once no new one arrived for ``delay`` seconds."""

    def __init__(self, callback: Callable[[tuple[Change, ...]], None], delay: float) -> None:
        self._callback = callback
        self._delay = delay
        self._pending: list[Change] = []
        self._cond = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="crm-debounce", daemon=True)

    def start(self) -> None:
        """Start the thread that runs the callback."""
        self._thread.start()

    def add(self, change: Change) -> None:
        """Queue one change; the quiet period starts again."""
        with self._cond:
            self._pending.append(change)
            self._cond.notify()

    def stop(self) -> None:
        """Stop the thread, dropping changes not yet handed over."""
        with self._cond:
            self._stopped = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._stopped:
                    self._cond.wait()
                if self._stopped:
                    return
                # Wait out a burst: every new change restarts the quiet period.
                seen = -1
                while len(self._pending) != seen and not self._stopped:
                    seen = len(self._pending)
                    self._cond.wait(timeout=self._delay)
                if self._stopped:
                    return
                batch, self._pending = tuple(dict.fromkeys(self._pending)), []
            try:
                self._callback(batch)
            except Exception:  # one failed rebuild must not end the watching
                logging.getLogger(__name__).exception("rebuild after %d changes failed", len(batch))


class _Handler(FileSystemEventHandler):
    def __init__(self, root: Path, sink: Debouncer, ignored: Collection[Path]) -> None:
        self._root = root
        self._sink = sink
        self._ignored = {p.resolve() for p in ignored}

    def _rel(self, raw: bytes | str) -> str | None:
        path = Path(raw.decode() if isinstance(raw, bytes) else raw)
        if path.resolve() in self._ignored:
            return None
        try:
            return path.relative_to(self._root).as_posix()
        except ValueError:
            return None

    def on_any_event(self, event: FileSystemEvent) -> None:
        src = self._rel(event.src_path)
        dest = self._rel(event.dest_path) if event.dest_path else None
        src = src if src is not None and relevant(src, event.is_directory) else None
        dest = dest if dest is not None and relevant(dest, event.is_directory) else None
        if src is not None and dest is not None:
            self._sink.add(Change("moved", src, dest))
        elif src is not None:
            kind = {"moved": "moved away", "attrib": "touched"}.get(
                event.event_type, event.event_type
            )
            self._sink.add(Change(kind, src))
        elif dest is not None:
            # An editor's atomic save: a hidden temp file renamed over the customer file.
            self._sink.add(Change("moved in", dest))


class Watcher:
    """Watches a vault recursively and hands debounced batches of changes to ``callback``."""

    def __init__(
        self,
        root: Path,
        callback: Callable[[tuple[Change, ...]], None],
        *,
        delay: float = 0.3,
        ignored: Collection[Path] = (),
    ) -> None:
        self.root = root.absolute()
        self._debouncer = Debouncer(callback, delay)
        self._observer = Observer()
        self._observer.schedule(
            _Handler(self.root, self._debouncer, ignored),
            str(self.root),
            recursive=True,
            event_filter=EVENT_TYPES,
        )

    def start(self) -> None:
        """Start watching; returns once the observer is running."""
        self._debouncer.start()
        self._observer.start()

    def stop(self) -> None:
        """Stop watching and wait for the threads to end."""
        self._observer.stop()
        self._observer.join(timeout=10)
        self._debouncer.stop()

    def __enter__(self) -> Watcher:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class DayTicker:
    """Calls ``callback`` when ``today()`` returns a new date, checking every ``interval`` seconds."""

    def __init__(
        self, today: Callable[[], date], callback: Callable[[date], None], *, interval: float = 60
    ) -> None:
        self._today = today
        self._callback = callback
        self._interval = interval
        self._last = today()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="crm-day", daemon=True)

    def check(self) -> bool:
        """Call the callback if the date changed since the last check; return True if it did."""
        now = self._today()
        if now == self._last:
            return False
        self._last = now
        self._callback(now)
        return True

    def start(self) -> None:
        """Start checking in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop checking and wait for the thread."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.check()
