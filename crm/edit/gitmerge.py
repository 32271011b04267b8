"""The git merge driver for customer files: keep both sides' log entries and one-sided key changes.

``merge(base, ours, theirs)`` splits each version into front-matter keys (each with the comment
lines above it), the entries of the ``## Log`` section, and the text around them:

- a key changed on one side only takes that side's lines; a key changed differently on both
  sides (or deleted on one and changed on the other) gets standard conflict markers;
- log entries are the union of both sides minus the ones a side deleted, with no duplicates,
  each new entry placed in date order;
- any other text is merged by ``git merge-file`` (conflict markers where both sides changed it).

``setup(repo)`` writes ``.gitattributes`` and registers the driver in the clone's git config.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from crm.core.config import Config
from crm.core.errors import CrmError
from crm.core.model import Location, Problem
from crm.edit.lines import BOM, Doc
from crm.edit.logsection import entry_day, log_run
from crm.vault.load import Vault

TextMerge = Callable[[str, str, str], tuple[str, int]]
ATTRIBUTE = "*.md merge=crm"
DRIVER_NAME = "crm customer files (merges log entries)"
OURS, THEIRS = "<<<<<<< ours\n", ">>>>>>> theirs\n"


@dataclass(frozen=True, slots=True)
class MergeResult:
    """The merged bytes and how many conflicts were left as markers in them."""

    data: bytes
    conflicts: int


def git_merge_file(base: str, ours: str, theirs: str) -> tuple[str, int]:
    """Return ``git merge-file``'s line merge of three texts and its number of conflicts."""
    data, conflicts = _merge_file(base.encode(), ours.encode(), theirs.encode())
    return data.decode("utf-8", errors="replace"), conflicts


def _merge_file(base: bytes, ours: bytes, theirs: bytes) -> tuple[bytes, int]:
    with tempfile.TemporaryDirectory(prefix="crm-merge-") as folder:
        paths = []
        for name, data in (("ours", ours), ("base", base), ("theirs", theirs)):
            path = Path(folder) / name
            path.write_bytes(data)
            paths.append(str(path))
        labels = ["-L", "ours", "-L", "base", "-L", "theirs"]
        done = subprocess.run(
            ["git", "merge-file", "-p", *labels, *paths], capture_output=True, check=False
        )
    if done.returncode < 0 or done.returncode > 127:
        raise CrmError(f"git merge-file failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout, done.returncode


@dataclass
class _Parts:
    """One version of a customer file, cut into the pieces the merge treats differently."""

    opening: str
    keys: dict[str, str]
    tail: str
    middle: str
    entries: list[str]
    rest: str


def _cut(text: str) -> _Parts | None:
    """Return the pieces of ``text`` (LF newlines, no BOM), or None when it is no customer file."""
    try:
        doc = Doc.parse(text.encode("utf-8"))
    except CrmError:
        return None
    lines = doc.lines
    keys: dict[str, str] = {}
    position = 1
    for key, _, end in doc.key_spans():
        if key in keys:
            return None
        keys[key] = "".join(lines[position:end])
        position = end
    start, stop = log_run(doc)
    entries: list[str] = []
    for i in range(start, stop):
        # A bullet starts an entry; anything else (continuation, blank) belongs to the one above.
        if not entries or (lines[i][:1] in "-*+" and lines[i][1:2] in (" ", "\t")):
            entries.append(lines[i])
        else:
            entries[-1] += lines[i]
    return _Parts(
        opening=lines[0],
        keys=keys,
        tail="".join(lines[position : doc.fm_end]),
        middle="".join(lines[doc.fm_end : start]),
        entries=[_eol(e) for e in entries],
        rest="".join(lines[stop:]),
    )


def merge(
    base: bytes, ours: bytes, theirs: bytes, text_merge: TextMerge = git_merge_file
) -> MergeResult:
    """Return the three-way merge of a customer file; conflicts are left as git-style markers."""
    try:
        texts = [
            v.decode("utf-8").removeprefix(BOM).replace("\r\n", "\n") for v in (base, ours, theirs)
        ]
    except UnicodeDecodeError:
        # Not text crm can read: git's own line merge still keeps both sides' changes.
        return MergeResult(*_merge_file(base, ours, theirs))
    crlf = ours.split(b"\n", 1)[0].endswith(b"\r")
    bom = ours.startswith(BOM.encode())
    b_text, o_text, t_text = texts
    parts = [_cut(t) for t in texts]
    b, o, t = parts
    if b is None or o is None or t is None:
        merged, conflicts = text_merge(b_text, o_text, t_text)
    else:
        merged, conflicts = _merge_parts(b, o, t, text_merge)
    if crlf:
        merged = merged.replace("\n", "\r\n")
    return MergeResult(((BOM if bom else "") + merged).encode("utf-8"), conflicts)


def _merge_parts(b: _Parts, o: _Parts, t: _Parts, text_merge: TextMerge) -> tuple[str, int]:
    conflicts = 0
    out = [_pick(b.opening, o.opening, t.opening) or o.opening]
    order = list(o.keys)
    for key in t.keys:
        if key not in o.keys and key not in b.keys:
            # A key only theirs added goes after the key it follows there.
            before = list(t.keys)[: list(t.keys).index(key)]
            anchor = next((k for k in reversed(before) if k in order), None)
            order.insert(order.index(anchor) + 1 if anchor else len(order), key)
    for key in order:
        bv, ov, tv = b.keys.get(key), o.keys.get(key), t.keys.get(key)
        chosen = _pick(bv, ov, tv)
        if chosen is None:
            conflicts += 1
            out.append(OURS + _eol(ov or "") + "=======\n" + _eol(tv or "") + THEIRS)
        else:
            out.append(chosen)
    for key in b.keys:
        if key not in o.keys and key not in t.keys:
            continue
        if key not in o.keys and key in t.keys and t.keys[key] != b.keys[key]:
            # Deleted here, changed there: show both rather than lose their change.
            conflicts += 1
            out.append(OURS + "=======\n" + _eol(t.keys[key]) + THEIRS)
    for name in ("tail", "middle"):
        text, n = _text3(getattr(b, name), getattr(o, name), getattr(t, name), text_merge)
        out.append(text)
        conflicts += n
    out.extend(_merge_entries(b.entries, o.entries, t.entries))
    text, n = _text3(b.rest, o.rest, t.rest, text_merge)
    out.append(text)
    return "".join(out), conflicts + n


def _pick(base: str | None, ours: str | None, theirs: str | None) -> str | None:
    """Return the side that changed (ours when both agree), or None for a real conflict."""
    if ours == theirs or theirs == base:
        return ours or ""
    if ours == base:
        return theirs or ""
    return None


def _eol(text: str) -> str:
    return text if not text or text.endswith("\n") else text + "\n"


def _text3(base: str, ours: str, theirs: str, text_merge: TextMerge) -> tuple[str, int]:
    chosen = _pick(base, ours, theirs)
    if chosen is not None:
        return chosen, 0
    return text_merge(base, ours, theirs)


def _merge_entries(base: list[str], ours: list[str], theirs: list[str]) -> list[str]:
    """Return ours' entries without those theirs deleted, plus theirs' new ones in date order.

    Entries are counted, not just compared: an entry both sides added is kept once, and a second
    identical line one side added (two unanswered calls on one day) is kept too.
    """
    b, o, t = Counter(base), Counter(ours), Counter(theirs)
    want = {e: _count(b[e], o[e], t[e]) for e in o.keys() | t.keys()}
    result: list[str] = []
    kept: Counter[str] = Counter()
    for entry in ours:
        if kept[entry] < want[entry]:
            kept[entry] += 1
            result.append(entry)
    for entry in theirs:
        if kept[entry] < want[entry]:
            kept[entry] += 1
            result.insert(_place(result, entry), entry)
    return result


def _count(base: int, ours: int, theirs: int) -> int:
    """Return how many copies of an entry the merge keeps."""
    if (ours - base) * (theirs - base) > 0:
        # Both sides made the same kind of change: the same entry logged twice is one entry.
        return max(ours, theirs) if ours > base else min(ours, theirs)
    return max(ours + theirs - base, 0)


def _place(entries: list[str], entry: str) -> int:
    day = entry_day(entry.split("\n", 1)[0])
    dated = [(i, d) for i, e in enumerate(entries) if (d := entry_day(e.split("\n", 1)[0]))]
    if day is None or not dated:
        return len(entries)
    if dated[0][1] > dated[-1][1]:  # newest first
        return next((i for i, d in dated if d <= day), len(entries))
    return next((i + 1 for i, d in reversed(dated) if d <= day), dated[0][0])


def driver_command() -> str:
    """Return the command git runs for the driver, valid from any shell of this machine."""
    return f"{_quote(sys.executable)} -m crm git-merge-driver %O %A %B %P"


def _quote(text: str) -> str:
    return (
        text
        if all(c.isalnum() or c in "/._-+" for c in text)
        else "'" + text.replace("'", "'\\''") + "'"
    )


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
    )


def repo_root(folder: Path) -> Path | None:
    """Return the top of the git work tree holding ``folder``, or None outside git."""
    try:
        done = _git(folder, "rev-parse", "--show-toplevel")
    except OSError:
        return None
    return Path(done.stdout.strip()) if done.returncode == 0 else None


def setup(vault: Path) -> list[str]:
    """Register the driver in the clone's config and ``.gitattributes``; return what changed."""
    top = repo_root(vault)
    if top is None:
        raise CrmError(f"{vault} is not inside a git repository (git init first)", exit_code=2)
    done: list[str] = []
    command = driver_command()
    if _git(top, "config", "--local", "--get", "merge.crm.driver").stdout.strip() != command:
        for key, value in (("merge.crm.name", DRIVER_NAME), ("merge.crm.driver", command)):
            result = _git(top, "config", "--local", key, value)
            if result.returncode != 0:
                raise CrmError(f"git config {key} failed: {result.stderr.strip()}")
        done.append(f"registered merge.crm.driver: {command}")
    attributes = vault / ".gitattributes"
    old = attributes.read_text(encoding="utf-8") if attributes.exists() else ""
    if ATTRIBUTE not in old.splitlines():
        from crm.edit import atomic

        with atomic.locked(attributes):
            seen = atomic.fingerprint(attributes, old.encode()) if attributes.exists() else None
            text = (
                _eol(old)
                + "# Customer files merge their log entries (crm git-setup)\n"
                + ATTRIBUTE
                + "\n"
            )
            atomic.replace(attributes, text.encode("utf-8"), seen)
        done.append(f"added '{ATTRIBUTE}' to {attributes}")
    return done


def names_driver(vault: Path) -> int | None:
    """Return the line of the vault's ``.gitattributes`` that names the crm driver, if any."""
    try:
        lines = (vault / ".gitattributes").read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    for number, line in enumerate(lines, start=1):
        if not line.lstrip().startswith("#") and "merge=crm" in line.split():
            return number
    return None


def driver_registered(vault: Path) -> bool | None:
    """Return whether this clone registered the driver (None when not in a git repository)."""
    top = repo_root(vault)
    if top is None:
        return None
    return bool(_git(top, "config", "--get", "merge.crm.driver").stdout.strip())


def check_driver(vault: Vault, config: Config) -> list[Problem]:
    """Warn when ``.gitattributes`` names the crm driver but this clone never registered it."""
    line = names_driver(vault.root)
    if line is None or driver_registered(vault.root) is not False:
        return []
    message = "names the crm merge driver, but this clone has not registered it: run crm git-setup"
    return [Problem(Location(vault.root / ".gitattributes", line), message, "warning")]
