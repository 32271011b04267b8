"""Safe replacement of one file: a git-style lock, a fingerprint of what was read, atomic writes.

``locked(path)`` holds ``<file>.lock`` (created with O_CREAT|O_EXCL, like git's index.lock) for a
read-modify-write; ``read(path)`` returns the bytes and their ``Fingerprint``; ``replace(path,
data, seen)`` writes a temporary file in the same folder, fsyncs it, keeps the mode, re-checks
that the file still matches ``seen`` and moves the new bytes into place with ``os.replace``;
``write(path, data)`` does the same for an output that may simply be overwritten. Every file
crm writes goes through here: one temporary-file dance, one folder fsync.
"""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from time import monotonic, sleep

from crm.core.errors import CrmError

LOCK_TIMEOUT = 10.0
_POLL = 0.005


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What a file looked like when it was read: change time, size and content hash."""

    mtime_ns: int
    size: int
    sha256: str


def lock_path(path: Path) -> Path:
    """Return the lock file that guards ``path``."""
    return path.with_name(path.name + ".lock")


@contextmanager
def locked(path: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold ``<path>.lock`` for the duration of the block; wait up to ``timeout`` seconds for it."""
    lock = lock_path(path)
    deadline = monotonic() + (LOCK_TIMEOUT if timeout is None else timeout)
    while True:
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            break
        except FileExistsError:
            if monotonic() >= deadline:
                raise CrmError(
                    f"{path} is locked by another crm ({lock} exists); "
                    "if no crm is running, delete the lock file"
                ) from None
            sleep(_POLL)
        except OSError as exc:
            raise CrmError(f"cannot lock {path}: {exc.strerror or exc}") from None
    try:
        try:
            os.write(fd, f"{os.getpid()}\n".encode())
        finally:
            os.close(fd)
        yield
    finally:
        with suppress(FileNotFoundError):
            os.unlink(lock)


def fingerprint(path: Path, data: bytes) -> Fingerprint:
    """Return the fingerprint of ``path`` whose content is ``data``."""
    st = path.stat()
    return Fingerprint(st.st_mtime_ns, st.st_size, hashlib.sha256(data).hexdigest())


def read(path: Path) -> tuple[bytes, Fingerprint]:
    """Return the bytes of ``path`` and the fingerprint to check before replacing it."""
    try:
        data = path.read_bytes()
        return data, fingerprint(path, data)
    except FileNotFoundError:
        raise CrmError(f"{path}: no such file") from None
    except OSError as exc:
        raise CrmError(f"cannot read {path}: {exc.strerror or exc}") from None


def _unchanged(path: Path, seen: Fingerprint) -> bool:
    try:
        return fingerprint(path, path.read_bytes()) == seen
    except OSError:
        return False


def replace(path: Path, data: bytes, seen: Fingerprint | None) -> None:
    """Atomically write ``data`` to ``path``; ``seen=None`` creates a new file and never overwrites.

    Raises ``CrmError`` (leaving the old file intact) when the file changed since ``seen`` was
    taken, when it appeared meanwhile, or when writing fails.
    """

    def commit(tmp: Path) -> None:
        if seen is None:
            _create(tmp, path)
            return
        os.chmod(tmp, stat.S_IMODE(path.stat().st_mode))
        if not _unchanged(path, seen):
            raise CrmError(
                f"{path} changed on disk while crm was editing it (saved in an editor?); "
                "nothing was written, run the command again"
            )
        os.replace(tmp, path)
        _fsync_folder(path.parent)

    try:
        _through_temp(path, data, commit)
    except FileExistsError:
        raise CrmError(f"refusing to overwrite {path}: it already exists") from None
    except OSError as exc:
        raise CrmError(
            f"cannot write {path}: {exc.strerror or exc}; the file is unchanged"
        ) from None


def write(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Replace whatever ``path`` holds with ``data`` (an output such as the feed or the token).

    Readers see the old bytes or the new, never a mix; raises ``CrmError`` when writing fails.
    """

    def commit(tmp: Path) -> None:
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        _fsync_folder(path.parent)

    try:
        _through_temp(path, data, commit)
    except OSError as exc:
        raise CrmError(f"cannot write {path}: {exc.strerror or exc}") from None


def _through_temp(path: Path, data: bytes, commit: Callable[[Path], None]) -> None:
    """Write ``data`` to a hidden temporary file beside ``path``, fsync it, then ``commit`` it."""
    # A hidden name: vault watchers and file listings skip dot files.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        # 0o666 lets the umask decide a new file's mode, as any editor would.
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        commit(tmp)
    finally:
        with suppress(FileNotFoundError):
            os.unlink(tmp)


def _create(tmp: Path, path: Path) -> None:
    """Move ``tmp`` to the new name ``path``, failing with FileExistsError if it exists."""
    try:
        # A hard link fails when the name exists, so a new file never clobbers one.
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        # Filesystems without hard links: check, then rename; only a file created in the
        # instant between the two could be replaced.
        if path.exists():
            raise FileExistsError(path) from None
        os.replace(tmp, path)
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable; some platforms cannot open a folder, which is fine."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
