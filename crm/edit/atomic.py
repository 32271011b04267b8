"""Safe replacement of one file: an OS lock, a fingerprint of what was read, atomic writes.

``locked(path)`` holds ``<file>.lock`` for a read-modify-write with an exclusive ``flock``, which
the kernel releases when its holder dies, however it dies; the file names the holder's process
and is removed on release. ``read(path)`` returns the bytes and their ``Fingerprint``;
``replace(path, data, seen)`` writes a temporary file in the same folder, fsyncs it, keeps the
mode, re-checks that the file still matches ``seen`` and moves the new bytes into place with
``os.replace``; ``write(path, data)`` does the same for an output that may simply be
overwritten. Every file crm writes goes through here: one temporary-file dance, one folder
fsync. The temporary files a killed crm left behind are removed by the next write to the same
file (only that file's: an output folder such as ``crm ics -o /tmp/x.ics`` is not crm's to
clean), and in the whole vault by ``crm check`` (``leftovers``).
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import re
import secrets
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from time import monotonic, sleep

from crm.core.errors import CrmError
from crm.core.model import Location, Problem
from crm.vault.files import file_kind, read_regular

LOCK_TIMEOUT = 10.0
_POLL = 0.005
# A temporary file older than this is left over even if its process id is running again.
TEMP_MAX_AGE_NS = 3600 * 10**9
# The temporary files ``_through_temp`` writes: ``.NAME.PID.RANDOM.tmp``.
TEMP_NAME = re.compile(r"\.(?P<name>.+)\.(?P<pid>[0-9]+)\.[0-9a-f]{8}\.tmp")
# crm before the flock wrote only "PID\n" and held its lock by the file's existence.
_OLD_LOCK = re.compile(rb"([0-9]+)\n")
_HELD: set[int] = set()  # the descriptors of the locks this process holds
_SWEPT: set[str] = set()  # the files whose leftovers this process removed already


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
    """Hold ``<path>.lock`` for the duration of the block; wait up to ``timeout`` seconds for it.

    A lock file whose holder died holds nothing and is taken over at once, and so is one an
    older crm left with the id of a process that is gone.
    """
    lock = lock_path(path)
    deadline = monotonic() + (LOCK_TIMEOUT if timeout is None else timeout)
    while True:
        got = _try_lock(path, lock)
        if isinstance(got, int):
            fd = got
            break
        if got and monotonic() >= deadline:
            raise CrmError(got)
        if got:
            sleep(_POLL)
    _HELD.add(fd)
    try:
        yield
    finally:
        # Removed while still held: whoever opened it meanwhile finds the name gone, or naming
        # another file, once it gets the lock, and starts again.
        with suppress(OSError):
            os.unlink(lock)
        _HELD.discard(fd)
        os.close(fd)


def _try_lock(path: Path, lock: Path) -> int | str:
    """Return the descriptor of the lock now held, why it is held by another, or "" to retry."""
    # Without blocking: a FIFO in the lock's place would otherwise wait for a writer.
    flags = os.O_NOFOLLOW | os.O_NONBLOCK
    try:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | flags, 0o644)
        except PermissionError:
            # Another user's lock file in a shared folder: flock needs no write access.
            fd = os.open(lock, os.O_RDONLY | flags)
    except OSError as exc:
        raise CrmError(f"cannot lock {path}: {reason(exc)}") from None
    kept = False
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise CrmError(
                f"cannot lock {path}: {lock} is not a regular file ({file_kind(mode)}); "
                "delete it and run the command again"
            )
        os.set_blocking(fd, True)  # some network file systems honour O_NONBLOCK on files
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(os.pread(fd, 64, 0))
            by = f"process {holder} holds {lock}" if holder else f"{lock} is held"
            return f"{path} is locked by another crm ({by}); try again when it has finished"
        except OSError as exc:  # a file system without locks
            raise CrmError(f"cannot lock {path}: {reason(exc)}") from None
        try:
            st = os.stat(lock, follow_symlinks=False)
        except FileNotFoundError:
            return ""  # released and removed between our open and our lock
        mine = os.fstat(fd)
        if (st.st_dev, st.st_ino) != (mine.st_dev, mine.st_ino):
            return ""
        old = _OLD_LOCK.fullmatch(os.pread(fd, 64, 0))
        if old and int(old[1]) != os.getpid() and running(int(old[1])):
            return (
                f"{path} is locked by another crm (process {int(old[1])} wrote {lock}); "
                "if no crm is running, delete the lock file"
            )
        with suppress(OSError):  # only a name for the message above: a full disk is no matter
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()} flock\n".encode(), 0)
        kept = True
        return fd
    finally:
        if not kept:
            os.close(fd)


def _holder(text: bytes) -> int | None:
    m = re.match(rb"[0-9]+", text)
    return int(m[0]) if m else None


def _forget_held() -> None:
    # A forked child (the index's process pool) must not keep a lock alive when its parent dies.
    for fd in _HELD:
        with suppress(OSError):
            os.close(fd)
    _HELD.clear()
    _SWEPT.clear()


os.register_at_fork(after_in_child=_forget_held)


def running(pid: int) -> bool:
    """Return True when a process with id ``pid`` runs on this machine."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's
    except (OverflowError, OSError):
        return False
    return True


def reason(exc: OSError) -> str:
    """Return why an operation failed, in words: a full disk says so."""
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    if exc.errno == errno.EDQUOT:
        return "the disk quota is used up"
    return exc.strerror or str(exc)


def fingerprint(path: Path, data: bytes) -> Fingerprint:
    """Return the fingerprint of ``path`` whose content is ``data``."""
    st = path.stat()
    return Fingerprint(st.st_mtime_ns, st.st_size, hashlib.sha256(data).hexdigest())


def read(path: Path) -> tuple[bytes, Fingerprint]:
    """Return the bytes of ``path`` and the fingerprint to check before replacing it."""
    try:
        data = read_regular(path)
        return data, fingerprint(path, data)
    except FileNotFoundError:
        raise CrmError(f"{path}: no such file") from None
    except OSError as exc:
        raise CrmError(f"cannot read {path}: {exc.strerror or exc}") from None


def _unchanged(path: Path, seen: Fingerprint) -> bool:
    try:
        return fingerprint(path, read_regular(path)) == seen
    except OSError:
        return False


def replace(path: Path, data: bytes, seen: Fingerprint | None) -> None:
    """Atomically write ``data`` to ``path``; ``seen=None`` creates a new file and never overwrites.

    Raises ``CrmError`` (leaving the old file intact) when the file changed since ``seen`` was
    taken, when it appeared meanwhile, or when writing fails (a full disk says so).
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
        raise CrmError(f"cannot write {path}: {reason(exc)}; the file is unchanged") from None


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
        raise CrmError(f"cannot write {path}: {reason(exc)}") from None


def _through_temp(path: Path, data: bytes, commit: Callable[[Path], None]) -> None:
    """Write ``data`` to a hidden temporary file beside ``path``, fsync it, then ``commit`` it."""
    # A hidden name: vault watchers and file listings skip dot files.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        # 0o666 lets the umask decide a new file's mode, as any editor would.
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        try:
            if str(path) not in _SWEPT:
                # Before writing: the copies a killed crm left may be what filled the disk.
                # Their age is measured against the new file's time, not a clock of our own.
                _SWEPT.add(str(path))
                sweep(path.parent, os.fstat(fd).st_mtime_ns, only=path.name)
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


def sweep(folder: Path, now_ns: int, *, only: str | None = None) -> list[Problem]:
    """Remove the temporary files that crm processes now gone left in ``folder`` (or that are
    older than ``TEMP_MAX_AGE_NS`` at ``now_ns``); return a warning for each one that stays.

    ``only`` names the one file whose temporary copies are removed (``.ONLY.PID.RANDOM.tmp``).
    """
    found: list[Problem] = []
    prefix = "." if only is None else f".{only}."
    try:
        with os.scandir(folder) as it:
            names = [
                (e.name, e.path)
                for e in it
                if e.name.startswith(prefix) and e.name.endswith(".tmp")
            ]
    except OSError:
        return found
    for name, where in names:
        m = TEMP_NAME.fullmatch(name)
        if m is None or (only is not None and m["name"] != only):
            continue
        pid = int(m["pid"])
        try:
            st = os.stat(where, follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode):
            continue
        if running(pid) and now_ns - st.st_mtime_ns < TEMP_MAX_AGE_NS:
            found.append(
                Problem(
                    Location(Path(where)),
                    f"temporary file of crm process {pid}, which is still running; "
                    "if no crm is running, delete it",
                    "warning",
                )
            )
            continue
        try:
            os.unlink(where)
        except FileNotFoundError:
            continue
        except OSError as exc:
            found.append(
                Problem(
                    Location(Path(where)),
                    f"temporary file left by a crm that was stopped; cannot delete it: "
                    f"{exc.strerror or exc}",
                    "warning",
                )
            )
    return found


def leftovers(root: Path, now: datetime) -> list[Problem]:
    """Remove the temporary files dead crm processes left anywhere in the vault at ``root``
    (``sweep``, ``now`` aware); return a warning for each one that stays, in path order."""
    now_ns = (now - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) * 1000
    found: list[Problem] = []
    for folder, dirs, _ in os.walk(root):
        # Hidden folders hold no crm output but .crm/ (the feed, its token); symlinks: never.
        dirs[:] = [d for d in dirs if d == ".crm" or not d.startswith(".")]
        found.extend(sweep(Path(folder), now_ns))
    return sorted(found, key=lambda p: str(p.location.path))


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
