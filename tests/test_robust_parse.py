"""The parser on hostile input: a huge value stays linear, a merge conflict is named and the
customer kept, an unclosed quote or bracket is located where it opens, aliases are refused."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from crm.cli import main
from crm.core.model import Customer
from crm.vault import fastyaml
from crm.vault.parse import parse_bytes
from crm.vault.syntax import TOP_KEY, Conflict, merge_conflicts, one_side
from tests.conftest import WriteVault

MIB = 1024 * 1024


def check(root: Path, *args: str) -> tuple[int, str]:
    """Return `crm check`'s exit code and what it printed (problems go to stderr)."""
    result = CliRunner().invoke(main, ["--vault", str(root), "check", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stderr


@pytest.fixture(autouse=True)
def in_vault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Problems print relative to the working folder.
    (tmp_path / "vault").mkdir()
    monkeypatch.chdir(tmp_path / "vault")


# -- a huge value -------------------------------------------------------------------------------

# Runs one command in a fresh process and prints its peak memory: RUSAGE_CHILDREN of this
# wrapper counts only the command (the test process has run other children before).
PEAK = """
import json, resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # Linux: KiB
print(json.dumps([done.returncode, done.stdout, done.stderr, peak]))
"""


def peak_run(root: Path, *args: str) -> tuple[int, str, str, int]:
    """Return the exit code, stdout, stderr and peak memory in bytes of ``crm ARGS``."""
    command = [sys.executable, "-m", "crm", "--vault", str(root), *args]
    out = subprocess.run(
        [sys.executable, "-c", PEAK, *command],
        capture_output=True,
        text=True,
        check=True,
        cwd=root,
        env={**os.environ, "NO_COLOR": "1"},
    ).stdout
    code, stdout, stderr, peak = json.loads(out)
    return code, stdout, stderr, peak


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in KiB on Linux")
def test_a_50_mb_value_loads_in_bounded_memory(write_vault: WriteVault) -> None:
    notes = "x" * 50_000_000
    root = write_vault(
        {
            "huge.md": f"---\nname: Hugo Huge\nfirst_name: Hugo\nnotes: {notes}\n---\n\n"
            "## Log\n- 2026-10-01 call: hi\n",
            "ana.md": "---\nname: Ana\nfirst_name: Ana\n---\n",
        }
    )
    del notes
    code, out, err, peak = peak_run(root, "list")  # a cold index: every file parsed
    assert (code, err) == (0, "")
    assert [line.split()[0] for line in out.splitlines()] == ["ID", "ana", "huge"]
    assert peak < 800 * MIB, f"crm list peaked at {peak / MIB:.0f} MiB"
    code, out, err, peak = peak_run(root, "check")
    assert (code, out) == (0, "")
    assert err == (
        "huge.md:1: warning: file is 50.0 MB (over 10 MB): it loads, but every command reads "
        "all of it; move pasted mail or old notes elsewhere\n"
    )
    assert peak < 800 * MIB, f"crm check peaked at {peak / MIB:.0f} MiB"


def test_a_long_value_takes_the_fast_path_and_reads_back_whole() -> None:
    for value in ["x" * 1_000_000, "a - b ? c:d; " * 100_000 + "end", "é" * 500_000]:
        assert fastyaml.load(f"name: Ann\nnotes: {value}") == {"name": "Ann", "notes": value}
    # A long value that is not plain YAML still falls back, as a short one does.
    assert fastyaml.load("notes: " + "x" * 100_000 + ": y") is None
    assert fastyaml.load("notes: " + "x" * 100_000 + " # comment") is None


# The patterns fastyaml and TOP_KEY used before (their lazy, lookaround-per-character matching
# took gigabytes on a 50 MB value); the plain string tests that replace them must agree.
OLD_PLAIN = re.compile(r"(?:[^-?:,\[\]{}#&*!|>'\"%@` ]|[-?:](?=[^ ]))(?:(?!: | #).)*?(?<![: ])")
OLD_TOP_KEY = re.compile(r"^([A-Za-z_][\w-]*)[ \t]*:(?:[ \t]+(.*?))?[ \t]*$")
PIECES = st.sampled_from(list(" :#-?[]{},&*!|>'\"%@`\t\n\xa0éa1_") + [": ", " #", "- ", "key"])


@settings(max_examples=1500, deadline=None)
@given(st.lists(PIECES, min_size=1, max_size=12).map("".join))
def test_plain_scalar_test_agrees_with_the_old_pattern(text: str) -> None:
    if text[0] in "\"'":
        return  # quoted: another pattern
    assert fastyaml.scalar(text) == (text if OLD_PLAIN.fullmatch(text) else None)


@settings(max_examples=1500, deadline=None)
@given(st.lists(PIECES, min_size=1, max_size=12).map("".join))
def test_top_key_agrees_with_the_old_pattern(text: str) -> None:
    old, new = OLD_TOP_KEY.match(text), TOP_KEY.match(text)
    assert (old is None) == (new is None)
    if old and new:
        assert (old[1], old[2]) == (new[1], new[2])


# -- merge conflicts ----------------------------------------------------------------------------

BELLA = """---
name: Bella Rossi
first_name: Bella
cadence: 4w
email: bella@example.com
phone: "+39 333 123 4567"
---

Likes espresso.
Her daughter started school.

## Log
- 2026-10-01 visit: cut
"""


def git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    who = ["-c", "user.name=Test", "-c", "user.email=test@example.com"]
    return subprocess.run(
        ["git", *who, *args], cwd=root, env=env, capture_output=True, text=True, check=False
    )


def conflicted_vault(root: Path) -> Path:
    """Make a real git conflict: ``bella.md``'s cadence and newest log entry changed on both
    sides of a merge."""
    (root / "crm.toml").write_text("", encoding="utf-8")
    (root / "ana.md").write_text("---\nname: Ana García\nfirst_name: Ana\n---\n", encoding="utf-8")
    bella = root / "bella.md"
    bella.write_text(BELLA, encoding="utf-8")
    assert git(root, "init", "-q", "-b", "main", ".").returncode == 0
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    git(root, "checkout", "-qb", "other")
    bella.write_text(
        BELLA.replace("cadence: 4w", "cadence: 2w") + "- 2026-10-20 call: she moved\n",
        encoding="utf-8",
    )
    git(root, "commit", "-qam", "theirs")
    git(root, "checkout", "-q", "main")
    bella.write_text(
        BELLA.replace("cadence: 4w", "cadence: 3w") + "- 2026-10-21 visit: colour\n",
        encoding="utf-8",
    )
    git(root, "commit", "-qam", "ours")
    merged = git(root, "merge", "other")
    assert merged.returncode == 1 and "CONFLICT (content): Merge conflict in bella.md" in (
        merged.stdout
    )
    return bella


CONFLICTS = (
    "bella.md:4: unresolved merge conflict at lines 4-8 (ours: 'cadence: 3w', "
    "theirs: 'cadence: 2w'): keep one side and delete the marker lines\n"
    "bella.md:18: unresolved merge conflict at lines 18-22 (ours: '- 2026-10-21 visit: colour', "
    "theirs: '- 2026-10-20 call: she moved'): keep one side and delete the marker lines\n"
)


def test_a_git_merge_conflict_is_named_and_the_customer_stays(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    bella = conflicted_vault(root)
    assert bella.read_text(encoding="utf-8").splitlines()[3:8] == [
        "<<<<<<< HEAD",
        "cadence: 3w",
        "=======",
        "cadence: 2w",
        ">>>>>>> other",
    ]
    assert check(root) == (1, CONFLICTS)
    runner = CliRunner()
    listed = runner.invoke(main, ["--vault", str(root), "list"])
    assert (listed.exit_code, listed.stdout) == (
        0,
        "ID     NAME         STATUS  TAGS\n"
        "ana    Ana García   active\n"
        "bella  Bella Rossi  active\n",
    )
    agenda = runner.invoke(main, ["--vault", str(root), "agenda", "--today", "2026-11-20"])
    assert agenda.exit_code == 0
    # Read as "ours" (every 3 weeks since the visit of 2026-10-21): due, and counted.
    assert agenda.stdout == (
        "Agenda for Fri 2026-11-20 (2 customers)\n"
        "\n"
        "Contact now (1)\n"
        "  NAME         LATE  REACH              LIKES\n"
        "  Bella Rossi  9d    bella@example.com\n"
        "    2026-10-21 visit: colour\n"
        "\n"
        "Files to fix (2)\n" + "".join(f"  {line}\n" for line in CONFLICTS.splitlines())
    )


def test_edits_refuse_a_conflicted_file(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    bella = conflicted_vault(root)
    before = bella.read_bytes()
    runner = CliRunner()
    logged = runner.invoke(main, ["--vault", str(root), "log", "bella", "call: hi"])
    assert logged.exit_code == 1
    assert logged.stderr == (
        f"crm: refusing to edit {bella}: fix its problems first (crm edit):\n"
        + "".join(f"  {root}/{line}\n" for line in CONFLICTS.splitlines())
    )
    changed = runner.invoke(main, ["--vault", str(root), "set", "bella", "cadence=1w"])
    assert changed.exit_code == 1
    assert changed.stderr == logged.stderr  # names the file, as crm log does
    assert bella.read_bytes() == before
    # Resolved by hand (ours kept, the markers deleted), the file checks clean again.
    text = before.decode()
    for marker in ("<<<<<<< HEAD\n", ">>>>>>> other\n"):
        text = text.replace(marker, "")
    text = text.replace("=======\ncadence: 2w\n", "").replace(
        "=======\n- 2026-10-20 call: she moved\n", ""
    )
    bella.write_text(text, encoding="utf-8")
    assert check(root) == (0, "")


def parse(text: str) -> tuple[Customer | None, list[str]]:
    customer, problems = parse_bytes(text.encode(), Path("c.md"), "c")
    return customer, [str(p) for p in problems]


def test_diff3_conflicts_read_ours_and_name_both_sides() -> None:
    customer, problems = parse(
        "---\nname: Cleo\nfirst_name: Cleo\n"
        "<<<<<<< ours\ncadence: 3w\n||||||| base\ncadence: 4w\n=======\ncadence: 2w\n"
        ">>>>>>> theirs\n---\n"
    )
    assert problems == [
        "c.md:4: unresolved merge conflict at lines 4-10 (ours: 'cadence: 3w', "
        "theirs: 'cadence: 2w'): keep one side and delete the marker lines"
    ]
    ours, _ = parse("---\nname: Cleo\nfirst_name: Cleo\ncadence: 3w\n---\n")
    assert customer is not None and ours is not None
    assert customer.cadence == ours.cadence is not None


def test_the_keys_that_hold_someone_back_read_the_stricter_side() -> None:
    customer, problems = parse(
        "---\nname: Dora\nfirst_name: Dora\n"
        "<<<<<<< HEAD\nstatus: active\n=======\nstatus: lost\nopt_out: [offers]\n>>>>>>> b\n"
        "---\n"
    )
    assert problems == [
        "c.md:4: unresolved merge conflict at lines 4-9 (ours: 'status: active', "
        "theirs: 'status: lost'): keep one side and delete the marker lines"
    ]
    assert customer is not None
    assert customer.status == "lost"
    assert customer.opt_out == ("offers",)


def test_conflict_markers_in_the_notes_and_log_are_flagged() -> None:
    customer, problems = parse(
        "---\nname: Eva\nfirst_name: Eva\n---\n"
        "<<<<<<< HEAD\nLikes tea.\n=======\nLikes coffee, black, no sugar, in the big blue mug.\n"
        ">>>>>>> feature/notes\n\n## Log\n- 2026-10-01 visit: cut\n"
    )
    assert problems == [
        "c.md:5: unresolved merge conflict at lines 5-9 (ours: 'Likes tea.', "
        "theirs: 'Likes coffee, black, no sugar, in the b…'): keep one side and delete the "
        "marker lines"
    ]
    assert customer is not None
    assert customer.body.split("\n")[:2] == ["", "Likes tea."]  # the marker's line kept, blank
    assert "coffee" not in customer.body
    assert len(customer.log) == 1
    assert customer.log[0].location.line == 12  # every other line keeps its number


def test_half_resolved_and_unclosed_conflicts_and_a_setext_heading() -> None:
    # A marker outside a whole conflict may be text: a warning (it was an error before).
    _, problems = parse(
        "---\nname: Fay\nfirst_name: Fay\n---\nTitle\n=======\n\nSome text.\n>>>>>>> main\n"
    )
    assert problems == [
        "c.md:9: warning: a merge conflict marker '>>>>>>>' outside any conflict; "
        "if a merge left it, delete its line"
    ]
    customer, problems = parse(
        "---\nname: Gil\nfirst_name: Gil\n---\n<<<<<<< HEAD\nours\n=======\n"
    )
    assert problems == [
        "c.md:5: warning: a merge conflict marker '<<<<<<<' with no '=======' and '>>>>>>>' "
        "lines after it; if a merge left it, keep one side and delete the marker lines"
    ]
    assert customer is not None and "ours" in customer.body  # not a conflict: read as written
    assert parse("---\nname: Hal\nfirst_name: Hal\n---\nTitle\n=======\n")[1] == []


def test_a_conflict_on_the_first_line_still_reads_ours() -> None:
    customer, problems = parse(
        "<<<<<<< HEAD\n---\nname: Ida\nfirst_name: Ida\n=======\n\ufeff---\nname: Ida B\n"
        "first_name: Ida\n>>>>>>> b\n---\n"
    )
    assert customer is not None
    assert customer.name == "Ida"
    assert problems == [
        "c.md:1: unresolved merge conflict at lines 1-9 (ours: '---', theirs: '\ufeff---'): "
        "keep one side and delete the marker lines"
    ]


def test_one_side_keeps_every_line_number() -> None:
    lines = ["a", "<<<<<<< x", "o1", "o2", "=======", "t1", ">>>>>>> y", "b"]
    found = merge_conflicts(lines)
    assert found == [Conflict(2, 7, ("o1", "o2"), ("t1",), 7, 6)]
    assert one_side(lines, found) == ["a", "", "o1", "o2", "", "", "", "b"]
    assert one_side(lines, found, theirs=True) == ["a", "", "", "", "", "t1", "", "b"]


# -- where an unclosed quote or bracket opens ---------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            'first_name: "Ann',
            "c.md:3: invalid YAML: found unexpected end of stream (while scanning a quoted "
            "scalar that opens on this line; the parser gave up on line 4)",
        ),
        (
            "first_name: 'Ann",
            "c.md:3: invalid YAML: found unexpected end of stream (while scanning a quoted "
            "scalar that opens on this line; the parser gave up on line 4)",
        ),
        (
            "tags: [a, b",
            "c.md:3: invalid YAML: did not find expected ',' or ']' (while parsing a flow "
            "sequence that opens on this line; the parser gave up on line 4)",
        ),
        (
            "address: {city: Rome",
            "c.md:3: invalid YAML: did not find expected ',' or '}' (while parsing a flow "
            "mapping that opens on this line; the parser gave up on line 4)",
        ),
        (
            'first_name: "A\\qnn"',
            "c.md:3: invalid YAML: found unknown escape character (while parsing a quoted scalar)",
        ),
    ],
)
def test_an_unclosed_quote_or_bracket_is_located_where_it_opens(line: str, expected: str) -> None:
    customer, problems = parse(f"---\nname: Ann\n{line}\nemail: ann@example.com\n---\n")
    assert (customer, problems) == (None, [expected])


def test_crm_check_names_the_opening_line(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "dq.md": '---\nname: Ann\nfirst_name: "Ann\nemail: a@example.com\n---\n',
            "sq.md": "---\nname: Ann\nfirst_name: 'Ann\nemail: a@example.com\n---\n",
            "br.md": "---\nname: Ann\ntags: [a, b\nemail: a@example.com\n---\n",
        }
    )
    assert check(root) == (
        1,
        "br.md:3: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence "
        "that opens on this line; the parser gave up on line 4)\n"
        "dq.md:3: invalid YAML: found unexpected end of stream (while scanning a quoted scalar "
        "that opens on this line; the parser gave up on line 4)\n"
        "sq.md:3: invalid YAML: found unexpected end of stream (while scanning a quoted scalar "
        "that opens on this line; the parser gave up on line 4)\n",
    )


# -- anchors and aliases ------------------------------------------------------------------------

ALIASES = "YAML anchors and aliases (&name / *name) are not allowed"


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        ("name: &n Zoe\nfirst_name: *n", f"c.md:3: {ALIASES}: write out the value *n repeats"),
        ("name: Zoe\nfirst_name: &n Zoe", f"c.md:3: {ALIASES}: remove &n"),
        ("name: Zoe\ntags: [&t a, *t]", f"c.md:3: {ALIASES}: write out the value *t repeats"),
        (
            "name: Zoe\nlikes:\n  - &x tea\n  - *x",
            f"c.md:5: {ALIASES}: write out the value *x repeats",
        ),
        ("name: Zoe\na: &a [x]\nb: *a", f"c.md:4: {ALIASES}: write out the value *a repeats"),
    ],
)
def test_any_alias_or_anchor_is_refused_at_its_line(front: str, expected: str) -> None:
    assert fastyaml.load(front) is None  # never the fast path: PyYAML's reading decides
    assert parse(f"---\n{front}\n---\n") == (None, [expected])


def test_ampersands_and_stars_inside_values_are_text() -> None:
    customer, problems = parse(
        "---\nname: Smith & Sons\nfirst_name: Al*\nlikes: [rock & roll, a*b]\n---\n"
    )
    assert problems == []
    assert customer is not None
    assert (customer.name, customer.likes) == (
        "Smith & Sons",
        ("rock & roll", "a*b"),
    )


TOKENS = st.sampled_from(["a", "b", " ", ": ", "\n", "- ", "&a ", "*a", "&", "*", "[", "]", ","])


@settings(max_examples=700, deadline=None)
@given(st.lists(TOKENS, max_size=20).map("".join))
def test_the_fast_path_never_reads_an_anchor_or_alias(text: str) -> None:
    fast = fastyaml.load(text)
    if fast is None:
        return
    tokens = list(yaml.scan(text, Loader=yaml.BaseLoader))
    assert not any(isinstance(t, yaml.AnchorToken | yaml.AliasToken) for t in tokens), text
