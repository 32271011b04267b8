"""Odd files and crashes: names that are not UTF-8, FIFOs and sockets named *.md, locks and
temporary files that a killed crm left behind, and a full disk. Every case is real: real
FIFOs, sockets and bytes names, processes killed with SIGKILL, a real full file system."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from crm.cli import main
from crm.core.errors import CrmError
from crm.edit import atomic
from tests.conftest import WriteVault, call, customer

DAY = "2026-11-23"
TOKEN = "robust-token-0123456789"
ANA = customer("Ana García", "cadence: 30d\nbirthday: 1989-12-02\n")
BO = customer("Bo Li", "cadence: 30d\n")
# Generous: only to fail instead of hanging when a command blocks.
NO_HANG = 120


def run(root: Path, *args: str, **env: str) -> Result:
    return CliRunner().invoke(main, ["--vault", str(root), *args], env=env or None)


def crm(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run crm in its own process: a hang fails the test instead of stopping the run."""
    return subprocess.run(
        [sys.executable, "-m", "crm", "--vault", str(root), *args],
        capture_output=True,
        text=True,
        timeout=NO_HANG,
        env={**os.environ, **env},
    )


def dead_pid() -> int:
    """Return the id of a process that has just exited (and been reaped)."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True)  # fmt: skip
    return int(done.stdout)


@pytest.fixture
def root(write_vault: WriteVault) -> Path:
    return write_vault({"ana.md": ANA, "bo.md": BO})


# -- a file name that is not UTF-8 ------------------------------------------------------------


def bad_name(root: Path, rel: bytes) -> None:
    path = os.fsencode(root) + b"/" + rel
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(b"---\nname: X\n---\n")


@pytest.mark.parametrize("index", ["", "1"])
def test_a_file_name_that_is_not_utf8_is_one_problem_and_every_other_customer_stays(
    root: Path, index: str
) -> None:
    bad_name(root, b"b\xff.md")
    bad_name(root, b"caf\xe9/cleo.md")
    env = {"CRM_NO_INDEX": index} if index else {}
    listed = run(root, "list", **env)
    assert listed.exit_code == 0, listed.output
    assert [line.split()[0] for line in listed.stdout.splitlines()[1:]] == ["ana", "bo"]
    checked = run(root, "check", **env)
    assert checked.exit_code == 1
    assert checked.stdout == ""
    assert checked.stderr == (
        f"{root}/b\\xff.md:1: file name is not UTF-8; skipped (rename the file)\n"
        f"{root}/caf\\xe9/cleo.md:1: file name is not UTF-8; skipped (rename the file)\n"
    )


def test_the_served_pages_and_feed_keep_working_past_a_name_that_is_not_utf8(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crm.cli.wsgi import make_app

    bad_name(root, b"b\xff.md")
    os.mkfifo(root / "fifo.md")
    monkeypatch.setenv("CRM_VAULT", str(root))
    monkeypatch.setenv("CRM_FEED_TOKEN", TOKEN)
    app = make_app()
    try:
        status, _, body = call(app, f"/{TOKEN}/")
        assert status == "200 OK"
        assert call(app, f"/{TOKEN}/c/ana")[0] == "200 OK"
        status, _, body = call(app, f"/{TOKEN}/calendar.ics")
        assert status == "200 OK" and b"SUMMARY:Ana Garc\xc3\xada turns " in body
        # The feed goes on following the vault, past more such files made while it runs.
        bad_name(root, b"d\xfc.md")
        os.mkfifo(root / "fifo2.md")
        (root / "cy.md").write_text(customer("Cy Ng", "birthday: --01-01\n"), encoding="utf-8")
        deadline = time.monotonic() + NO_HANG
        while b"Cy Ng's birthday" not in call(app, f"/{TOKEN}/calendar.ics")[2]:
            assert time.monotonic() < deadline, "the feed stopped following the vault"
            time.sleep(0.05)
    finally:
        app.close()


# -- FIFOs, sockets and devices named *.md ----------------------------------------------------


@pytest.mark.parametrize("index", ["", "1"])
def test_a_fifo_or_a_socket_named_md_is_skipped_with_a_warning_and_never_opened(
    root: Path, index: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    os.mkfifo(root / "fifo.md")
    monkeypatch.chdir(root)  # a socket's path must be short: bind it by its relative name
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind("x.md")
        env = {"CRM_NO_INDEX": index} if index else {}
        listed = crm(root, "list", **env)
        assert listed.returncode == 0, listed.stderr
        assert [line.split()[0] for line in listed.stdout.splitlines()[1:]] == ["ana", "bo"]
        checked = crm(root, "check", **env)
        assert checked.returncode == 0  # warnings only
        assert checked.stderr == (
            "fifo.md:1: warning: not a regular file (a FIFO); skipped\n"
            "x.md:1: warning: not a regular file (a socket); skipped\n"
        )
        assert crm(root, "check", "--strict", **env).returncode == 1
        logged = crm(root, "log", "ana", "call: still here", "--today", DAY, **env)
        assert logged.returncode == 0, logged.stderr
    finally:
        server.close()


def test_a_fifo_named_like_a_template_is_refused_not_waited_on(root: Path) -> None:
    (root / "templates" / "messages").mkdir(parents=True)
    os.mkfifo(root / "templates" / "messages" / "holiday.md")
    drafted = crm(root, "draft", "holiday", "--dry-run", "--today", DAY)
    assert drafted.returncode == 2
    assert drafted.stderr == (
        f"crm: {root}/templates/messages/holiday.md: cannot read the template: not a regular file\n"
    )


def test_a_device_named_md_is_skipped(root: Path) -> None:
    try:
        os.mknod(root / "null.md", stat.S_IFCHR | 0o666, os.makedev(1, 3))  # like /dev/null
    except PermissionError:
        pytest.skip("making a device needs CAP_MKNOD")
    checked = crm(root, "check")
    assert (checked.returncode, checked.stderr) == (
        0,
        f"{root}/null.md:1: warning: not a regular file (a character device); skipped\n",
    )


def test_reading_a_fifo_put_in_a_files_place_fails_at_once(root: Path) -> None:
    (root / "ana.md").unlink()
    os.mkfifo(root / "ana.md")  # after the scan, before the read: the read must not block
    with pytest.raises(CrmError) as err:
        atomic.read(root / "ana.md")
    assert str(err.value) == f"cannot read {root / 'ana.md'}: not a regular file"


# -- locks of a crm that was killed -------------------------------------------------------------


def test_a_fifo_in_a_locks_place_is_refused_not_waited_on(root: Path) -> None:
    path = root / "ana.md"
    before = path.read_bytes()
    os.mkfifo(atomic.lock_path(path))
    done = crm(root, "set", "ana", "nickname=B")  # in its own process: a hang fails the test
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        f"crm: cannot lock {path}: {path}.lock is not a regular file (a FIFO); "
        "delete it and run the command again\n"
    )
    assert path.read_bytes() == before
    assert stat.S_ISFIFO(os.lstat(atomic.lock_path(path)).st_mode)  # not crm's to delete


# As another user's lock file in a shared folder: no write access, so it is opened read-only,
# which on a FIFO waits for a writer unless the open does not block. (These tests run as root,
# whom no permission stops: the refused write is made here.)
READ_ONLY_LOCK = """
import os, sys
from pathlib import Path
from crm.core.errors import CrmError
from crm.edit import atomic

real_open = os.open
def no_write_access(path, flags, *args):
    if str(path).endswith(".lock") and flags & os.O_RDWR:
        raise PermissionError(13, "Permission denied")
    return real_open(path, flags, *args)
os.open = no_write_access
try:
    with atomic.locked(Path(sys.argv[1])):
        print("locked")
except CrmError as exc:
    print(exc)
"""


def test_a_fifo_lock_opened_read_only_does_not_block(root: Path) -> None:
    path = root / "ana.md"
    os.mkfifo(atomic.lock_path(path))
    done = subprocess.run(
        [sys.executable, "-c", READ_ONLY_LOCK, str(path)],
        capture_output=True, text=True, timeout=NO_HANG,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (
        f"cannot lock {path}: {path}.lock is not a regular file (a FIFO); "
        "delete it and run the command again\n"
    )


HOLDER = """
import os, sys, time
from pathlib import Path
from crm.edit import atomic

with atomic.locked(Path(sys.argv[1])):
    child = os.fork() if sys.argv[2] == "fork" else 0
    if sys.argv[2] == "fork" and child == 0:
        time.sleep(600)  # a worker forked while the lock is held (the index's process pool)
        os._exit(0)
    print(os.getpid(), child, flush=True)
    time.sleep(600)
"""


@contextmanager
def holding(path: Path, fork: bool = False) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """Yield a python process that holds the lock of ``path`` (and the pid of its forked
    child, or 0) until it is killed."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), "fork" if fork else "-"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    child = 0
    try:
        pid, child = map(int, proc.stdout.readline().split())
        assert pid == proc.pid
        yield proc, child
    finally:
        proc.kill()
        proc.wait(timeout=NO_HANG)
        proc.stdout.close()
        if child:
            os.kill(child, signal.SIGKILL)


def log_line(root: Path, text: str) -> str:
    return f"{root / 'ana.md'}:9: - {DAY} call: {text}\n"


@pytest.mark.parametrize("fork", [False, True])
def test_a_lock_whose_holder_was_killed_holds_nothing(root: Path, fork: bool) -> None:
    path = root / "ana.md"
    with holding(path, fork) as (proc, _):
        assert atomic.lock_path(path).read_text() == f"{proc.pid} flock\n"
        proc.kill()  # SIGKILL: no finally, no cleanup
        proc.wait(timeout=NO_HANG)
        assert atomic.lock_path(path).exists()
        logged = run(root, "log", "ana", "call: after the crash", "--today", DAY)
        assert (logged.exit_code, logged.output) == (0, log_line(root, "after the crash"))
        assert run(root, "set", "ana", "cadence=14d").exit_code == 0
    assert not atomic.lock_path(path).exists()


def test_a_lock_held_by_a_running_crm_waits_then_refuses(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = root / "ana.md"
    monkeypatch.setattr(atomic, "LOCK_TIMEOUT", 0.2)
    with holding(path) as (proc, _):
        logged = run(root, "log", "ana", "call: blocked", "--today", DAY)
        assert (logged.exit_code, logged.output) == (
            1,
            f"crm: {path} is locked by another crm (process {proc.pid} holds {path}.lock); "
            "try again when it has finished\n",
        )
    assert "blocked" not in path.read_text()
    assert run(root, "log", "ana", "call: free", "--today", DAY).exit_code == 0


def test_an_old_style_lock_file_is_stale_when_its_process_is_gone(root: Path) -> None:
    path = root / "ana.md"
    atomic.lock_path(path).write_text(f"{dead_pid()}\n")  # as crm before the flock wrote it
    logged = run(root, "log", "ana", "call: taken over", "--today", DAY)
    assert (logged.exit_code, logged.output) == (0, log_line(root, "taken over"))
    assert not atomic.lock_path(path).exists()


def test_an_old_style_lock_file_of_a_running_process_is_respected(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = root / "ana.md"
    monkeypatch.setattr(atomic, "LOCK_TIMEOUT", 0.2)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        atomic.lock_path(path).write_text(f"{sleeper.pid}\n")  # an older crm, still running
        logged = run(root, "log", "ana", "call: blocked", "--today", DAY)
        assert (logged.exit_code, logged.output) == (
            1,
            f"crm: {path} is locked by another crm (process {sleeper.pid} wrote {path}.lock); "
            "if no crm is running, delete the lock file\n",
        )
    finally:
        sleeper.kill()
        sleeper.wait(timeout=NO_HANG)
    assert atomic.lock_path(path).read_text() == f"{sleeper.pid}\n"  # never removed by a waiter
    assert run(root, "log", "ana", "call: now", "--today", DAY).exit_code == 0


MESSAGE = "---\nkind: greeting\nchannel: email\nsubject: Hi\n---\nHi {{ hello }}\n"


def test_a_killed_crm_send_leaves_no_lock_on_its_campaign(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "pat.md": customer("Pat Doe", "email: pat@example.com\n"),
            "templates/messages/hi.md": MESSAGE,
        }
    )
    assert run(root, "draft", "hi", "--today", DAY).exit_code == 0
    campaign = f"hi-{DAY}"
    with holding(root / "outbox" / campaign / "send") as (proc, _):
        refused = run(root, "send", campaign, "--today", DAY)
        assert (refused.exit_code, refused.output) == (
            1,
            f"crm: {root}/outbox/{campaign}/send is locked by another crm (process {proc.pid} "
            f"holds {root}/outbox/{campaign}/send.lock); try again when it has finished\n",
        )
        proc.kill()
        proc.wait(timeout=NO_HANG)
        sent = run(root, "send", campaign, "--today", DAY)
    assert sent.exit_code == 0, sent.output
    assert sent.output.startswith("pat: mailto:pat@example.com?")
    assert not (root / "outbox" / campaign / "send.lock").exists()


# -- temporary files of a crm that was killed ----------------------------------------------------


def temporary(folder: Path, name: str, pid: int, token: str = "0badc0de") -> Path:
    path = folder / f".{name}.{pid}.{token}.tmp"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("half a cust")
    return path


def test_the_next_write_to_a_file_removes_the_temporary_files_dead_crms_left_of_it(
    root: Path,
) -> None:
    dead = dead_pid()
    left = [temporary(root, "ana.md", dead, f"{n:08x}") for n in range(228)]
    old = temporary(root, "ana.md", os.getppid(), "aaaaaaaa")
    two_hours_ago = time.time() - 7200  # its process id may have been taken by another since
    os.utime(old, (two_hours_ago, two_hours_ago))
    live = temporary(root, "ana.md", os.getppid(), "bbbbbbbb")  # a write in progress elsewhere
    # Another file's leftovers wait for that file's next write, or for crm check (they were
    # removed with the folder's before).
    other = temporary(root, "bo.md", dead)
    longer = temporary(root, "ana.md.bak", dead)
    sub = temporary(root / "corporate", "acme.md", dead)
    logged = run(root, "log", "ana", "call: swept", "--today", DAY)
    assert (logged.exit_code, logged.output) == (0, log_line(root, "swept"))
    assert not any(p.exists() for p in [*left, old])
    assert live.exists() and other.exists() and longer.exists() and sub.exists()


def test_writing_an_output_leaves_other_files_temporary_files_alone(
    root: Path, tmp_path: Path
) -> None:
    """``crm ics -o`` writes into a folder that is not crm's: only its own leftovers go."""
    outdir = tmp_path / "outdir"
    outdir.mkdir()
    dead = dead_pid()
    unrelated = outdir / ".notes.txt.99999.deadbeef.tmp"  # another program's, named alike
    unrelated.write_text("notes")
    notes = temporary(outdir, "notes.txt", dead)
    mine = temporary(outdir, "x.ics", dead)
    written = run(root, "ics", "-o", str(outdir / "x.ics"), "--today", DAY)
    assert (written.exit_code, written.stderr) == (0, "")
    assert (outdir / "x.ics").read_text().startswith("BEGIN:VCALENDAR")
    assert unrelated.read_text() == "notes" and notes.exists()
    assert not mine.exists()
    assert sorted(p.name for p in outdir.iterdir()) == sorted([unrelated.name, notes.name, "x.ics"])


def test_check_removes_leftover_temporary_files_and_reports_those_that_stay(root: Path) -> None:
    dead = dead_pid()
    gone = [
        temporary(root, "ana.md", dead),
        temporary(root / "corporate", "acme.md", dead),
        temporary(root / "outbox" / "hi-2026-11-23", "pat.md", dead),
        temporary(root / ".crm", "calendar.ics", dead),
    ]
    old = temporary(root, "bo.md", os.getppid(), "aaaaaaaa")
    two_hours_ago = time.time() - 7200  # its process id may have been taken by another since
    os.utime(old, (two_hours_ago, two_hours_ago))
    live = temporary(root, "bo.md", os.getppid(), "bbbbbbbb")
    kept = temporary(root / ".git", "index", dead)  # not crm's: left alone
    checked = run(root, "check")
    assert (checked.exit_code, checked.stdout) == (0, "")
    assert checked.stderr == (
        f"{live}: warning: temporary file of crm process {os.getppid()}, which is still "
        "running; if no crm is running, delete it\n"
    )
    assert not any(p.exists() for p in [*gone, old])
    assert live.exists() and kept.exists()
    assert run(root, "check", "--strict").exit_code == 1
    live.unlink()
    clean = run(root, "check")
    assert (clean.exit_code, clean.output) == (0, "")


READ_ONLY = r"""
set -e
mount --bind "$1" "$1"
mount -o remount,bind,ro "$1"
exec "$3" -m crm --vault "$2" check
"""


def namespaces() -> None:
    """Skip unless this machine lets an ordinary user mount in a namespace of its own."""
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare(1)")
    probe = subprocess.run(["unshare", "-Urm", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"no user namespaces here: {probe.stderr.decode().strip()}")


def test_check_reports_a_leftover_it_cannot_delete(root: Path) -> None:
    namespaces()
    left = temporary(root / "archive", "ana.md", dead_pid())
    checked = subprocess.run(
        ["unshare", "-Urm", "bash", "-c", READ_ONLY, "-", str(left.parent), str(root),
         sys.executable],
        capture_output=True, text=True, timeout=NO_HANG,
    )  # fmt: skip
    assert (checked.returncode, checked.stderr) == (
        0,
        f"{left}: warning: temporary file left by a crm that was stopped; cannot delete "
        "it: Read-only file system\n",
    )
    assert left.exists()


# -- a full disk ----------------------------------------------------------------------------------

FULL_DISK = r"""
set -e
disk=$1 python=$3
mount -t tmpfs -o size=256k tmpfs "$disk"
cp "$2"/* "$disk"/
cat /dev/zero > "$disk/filler" 2>/dev/null || true
set +e
crm() { "$python" -m crm --vault "$disk" "$@"; echo "exit $?"; }
crm log ana "call: hi" --today 2026-11-23
crm set ana cadence=14d
crm snooze ana --for 2w --today 2026-11-23
crm ics -o "$disk/out.ics" --today 2026-11-23
sha256sum "$disk/ana.md" | cut -c1-64
ls -A "$disk"
"""


def test_a_full_disk_says_so_and_leaves_the_file_intact(root: Path, tmp_path: Path) -> None:
    """A real full file system: a 256 kB tmpfs in a private mount namespace (no root needed)."""
    namespaces()
    disk = tmp_path / "disk"
    disk.mkdir()
    (root / "bo.md").unlink()
    before = (root / "ana.md").read_bytes()
    done = subprocess.run(
        ["unshare", "-Urm", "bash", "-c", FULL_DISK, "-", str(disk), str(root), sys.executable],
        capture_output=True,
        text=True,
        timeout=NO_HANG,
        env={**os.environ, "CRM_NO_INDEX": "1"},  # the index's own full-disk path is its own
    )
    assert done.stderr == (
        f"crm: cannot write {disk}/ana.md: the disk is full; the file is unchanged\n" * 3
        + f"crm: cannot write {disk}/out.ics: the disk is full\n"
    )
    assert done.stdout.splitlines() == [
        *["exit 1"] * 4,
        hashlib.sha256(before).hexdigest(),  # not a byte changed
        "ana.md",  # and no lock or temporary file left
        "crm.toml",
        "filler",
    ]
