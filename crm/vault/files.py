"""Finding a vault and its customer files: the one walker, with include/exclude and symlinks."""

from __future__ import annotations

import errno
import functools
import os
import re
import stat
from pathlib import Path

from crm.core.config import CONFIG_NAME, Config
from crm.core.errors import CrmError
from crm.core.model import Location, Problem

SKIPPED_DIRS = ("templates",)
# (path relative to the vault with "/" separators, size, change stamp in ns)
Stat = tuple[str, int, int]


def find_root(start: Path, explicit: str | None, env: str | None) -> Path:
    """Return the vault folder: ``explicit``, else ``env``, else the nearest ``crm.toml`` upwards."""
    chosen = explicit or env
    if chosen:
        root = Path(chosen)
        if not root.is_dir():
            raise CrmError(f"vault folder not found: {root}", exit_code=2)
        return root
    for folder in (start, *start.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise CrmError(
        "no vault found: pass --vault DIR, set CRM_VAULT, or run inside a folder with crm.toml "
        "(crm init creates one)",
        exit_code=2,
    )


def scan(root: Path, config: Config) -> tuple[list[Stat], list[Problem]]:
    """Return ``(relative path, size, change stamp)`` of every customer file, and the problems
    of the files it skips: symlinks, names that are not UTF-8, FIFOs, sockets and devices.

    Hidden files and folders, the top-level ``templates/``, the outbox (``[outreach] outbox``)
    and ``README.md`` are skipped; a symlinked folder is never followed. The stamp is the later
    of the file's mtime and ctime in ns; a file that cannot be stat'ed gets ``-1`` for both
    (parsing it says why).
    """
    found: list[Stat] = []
    add = found.append
    problems: list[Problem] = []
    real_root: list[Path] = []

    def resolved() -> Path:
        if not real_root:
            real_root.append(root.resolve())
        return real_root[0]

    filtered = bool(config.include or config.exclude)
    outbox = config.outreach.outbox + "/"  # as the walker spells folders (crm.core.outreach)

    def walk(folder: str, prefix: str) -> None:
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError:
            return
        at_top = not prefix
        for entry in entries:
            name = entry.name
            if name[0] == ".":
                continue  # hidden files and folders alike
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                if (at_top and name in SKIPPED_DIRS) or f"{prefix}{name}/" == outbox:
                    continue
                if entry.is_symlink():
                    problems.extend(symlink_problem(Path(entry.path), resolved(), "folder"))
                    continue
                walk(entry.path, f"{prefix}{name}/")
                continue
            if not name.endswith(".md") or (at_top and name.lower() == "readme.md"):
                continue
            rel = prefix + name
            if filtered and not selected(rel, config):
                continue
            if not rel.isascii() and not is_utf8(rel):
                # SQLite, the terminal and the pages all need text: one problem, and no customer.
                problems.append(Problem(Location(root / shown_name(rel), 1), NOT_UTF8))
                continue
            if entry.is_symlink():
                bad = symlink_problem(Path(entry.path), resolved(), "file")
                if bad:
                    problems.extend(bad)
                    continue
            try:
                st = entry.stat()
            except OSError:
                add((rel, -1, -1))
                continue
            if not stat.S_ISREG(st.st_mode):
                # Opening a FIFO blocks until a writer comes: never read anything but a file.
                where = Location(Path(entry.path), 1)
                problems.append(Problem(where, not_regular(st.st_mode), "warning"))
                continue
            # The later of mtime and ctime: `touch -r`, `cp -p`, `rsync -a` or a chmod put
            # mtime back or leave it alone, but always move ctime (Windows: ctime is creation).
            add((rel, st.st_size, max(st.st_mtime_ns, st.st_ctime_ns)))

    walk(str(root), "")
    return found, problems


NOT_UTF8 = "file name is not UTF-8; skipped (rename the file)"
_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def is_utf8(name: str) -> bool:
    """Return True when the file name ``name`` came from UTF-8 bytes (no surrogate escapes)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def shown_name(name: str) -> str:
    """Return a file name as text that can be printed: bytes that are not UTF-8 as ``\\xff``."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def file_kind(mode: int) -> str:
    """Return what a file that is not a regular one is, in words: ``a FIFO``, ``a socket``..."""
    return next((what for test, what in _KINDS if test(mode)), "an unknown kind")


def not_regular(mode: int) -> str:
    """Return the message for a ``*.md`` name that is not a regular file (``mode``: its stat)."""
    return f"not a regular file ({file_kind(mode)}); skipped"


def read_regular(path: Path) -> bytes:
    """Return the bytes of the regular file at ``path``; OSError for anything else.

    Opened without blocking and checked on the open descriptor, so a FIFO put in the file's
    place after the scan cannot hang the reader.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with open(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        os.set_blocking(fd, True)  # some network file systems honour O_NONBLOCK on files
        return f.read()


def find_files(root: Path, config: Config) -> tuple[list[Path], list[Problem]]:
    """Return the customer files under ``root`` (in path order) and the problems of the files
    the walker skipped (``scan``)."""
    found, problems = scan(root, config)
    return sorted(root / rel for rel, _, _ in found), problems


def path_key(rel: str) -> list[str]:
    """Return the sort key that orders relative paths like ``Path`` objects do."""
    return rel.split("/")


def symlink_problem(path: Path, real_root: Path, what: str) -> list[Problem]:
    """Return a problem for a symlink that loops or leaves the vault; folders are never followed."""
    # A file's problems point at line 1 like any other; a folder has no lines.
    where = Location(path, 1 if what == "file" else None)
    try:
        target = path.resolve(strict=True)
    except RuntimeError:
        return [Problem(where, f"symlinked {what} loops; skipped")]
    except OSError:
        return [Problem(where, f"symlinked {what} points nowhere; skipped")]
    if not target.is_relative_to(real_root):
        return [Problem(where, f"symlinked {what} leaves the vault ({target}); skipped")]
    if what == "folder":
        # Inside the vault the real folder is walked anyway; following would count files twice.
        return [Problem(where, "symlinked folder inside the vault is not followed", "warning")]
    return []


def selected(rel: str, config: Config) -> bool:
    """Return True when crm.toml's include/exclude globs keep the vault-relative path ``rel``."""
    if config.include and not any(glob_match(rel, g) for g in config.include):
        return False
    return not any(glob_match(rel, g) for g in config.exclude)


@functools.cache
def _glob_regex(pattern: str) -> re.Pattern[str]:
    parts = re.split(r"(\*\*/|\*\*|\*|\?)", pattern)
    wild = {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}
    return re.compile("".join(wild.get(p, re.escape(p)) for p in parts))


def glob_match(rel: str, pattern: str) -> bool:
    """Return True when the vault-relative path matches: ``*`` stays in a folder, ``**`` crosses."""
    return _glob_regex(pattern).fullmatch(rel) is not None
