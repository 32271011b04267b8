"""Only a whole git conflict is one: a deep mail quote, a stray marker or markers shown in a code
block are text (at most a warning), so `crm check`, the edits and the merge driver go on."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from crm.cli import main
from crm.edit.gitmerge import merge
from crm.vault.syntax import Conflict, StrayMarker, conflict_markers
from tests.conftest import WriteVault

DAY = "2026-11-23"
HEAD = "---\nname: Bella Rossi\nfirst_name: Bella\n---\n\n"
QUOTED = (
    HEAD + "Her mail, forwarded:\n\n"
    ">>>>>> shall we say Tuesday?\n"
    ">>>>>>> deeply quoted reply\n"
    ">>>>>> fine\n\n"
    "## Log\n- 2026-10-01 visit: cut\n"
)
FENCED = (
    HEAD + "How a conflict looks:\n\n"
    "```\n<<<<<<< HEAD\nmine\n=======\n```\n\n"
    "~~~text\n<<<<<<< HEAD\nmine\n=======\ntheirs\n>>>>>>> other\n~~~\n\n"
    "## Log\n- 2026-10-01 visit: cut\n"
)


def run(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--vault", str(root), *args])


def test_a_deep_mail_quote_and_markers_in_code_blocks_are_text(write_vault: WriteVault) -> None:
    root = write_vault({"quoted.md": QUOTED, "fenced.md": FENCED})
    checked = run(root, "check")
    assert (checked.exit_code, checked.output) == (0, "")
    for name in ("quoted", "fenced"):
        path = root / f"{name}.md"
        before = path.read_text()
        changed = run(root, "set", name, "nickname=Bee")
        assert (changed.exit_code, changed.stderr) == (0, ""), changed.output
        logged = run(root, "log", name, "call: hi", "--today", DAY)
        assert (logged.exit_code, logged.stderr) == (0, ""), logged.output
        after = before.replace("first_name: Bella\n", "first_name: Bella\nnickname: Bee\n")
        assert path.read_text() == after + f"- {DAY} call: hi\n"


def test_a_stray_marker_is_a_warning_and_edits_go_on(write_vault: WriteVault) -> None:
    text = HEAD + "Title\n=======\n\nSome text.\n>>>>>>> main\n\n## Log\n- 2026-10-01 visit: cut\n"
    root = write_vault({"bella.md": text})
    path = root / "bella.md"
    warning = (
        f"{path}:10: warning: a merge conflict marker '>>>>>>>' outside any conflict; "
        "if a merge left it, delete its line\n"
    )
    checked = run(root, "check")
    assert (checked.exit_code, checked.stdout, checked.stderr) == (0, "", warning)
    assert run(root, "check", "--strict").exit_code == 1
    changed = run(root, "set", "bella", "cadence=3w")
    assert (changed.exit_code, changed.stderr) == (0, ""), changed.output
    logged = run(root, "log", "bella", "call: hi", "--today", DAY)
    assert (logged.exit_code, logged.stderr) == (0, ""), logged.output
    assert path.read_text() == (
        text.replace("first_name: Bella\n", "first_name: Bella\ncadence: 3w\n")
        + f"- {DAY} call: hi\n"
    )


def test_an_unclosed_block_is_a_warning_and_reads_as_written(write_vault: WriteVault) -> None:
    text = (
        HEAD
        + "<<<<<<< HEAD\nLikes tea.\n=======\nLikes coffee.\n\n## Log\n- 2026-10-01 visit: cut\n"
    )
    root = write_vault({"bella.md": text})
    checked = run(root, "check")
    assert (checked.exit_code, checked.stderr) == (
        0,
        f"{root / 'bella.md'}:6: warning: a merge conflict marker '<<<<<<<' with no '=======' "
        "and '>>>>>>>' lines after it; if a merge left it, keep one side and delete the marker "
        "lines\n",
    )
    logged = run(root, "log", "bella", "call: hi", "--today", DAY)
    assert (logged.exit_code, logged.stderr) == (0, ""), logged.output


def test_a_real_conflict_after_a_stray_marker_still_refuses_edits(
    write_vault: WriteVault,
) -> None:
    text = (
        HEAD + "<<<<<<< left over\n\n## Log\n"
        "<<<<<<< HEAD\n- 2026-10-21 visit: colour\n=======\n- 2026-10-20 call: moved\n>>>>>>> b\n"
    )
    root = write_vault({"bella.md": text})
    path = root / "bella.md"
    checked = run(root, "check")
    assert (checked.exit_code, checked.stderr) == (
        1,
        f"{path}:6: warning: a merge conflict marker '<<<<<<<' with no '=======' and '>>>>>>>' "
        "lines after it; if a merge left it, keep one side and delete the marker lines\n"
        f"{path}:9: unresolved merge conflict at lines 9-13 (ours: '- 2026-10-21 visit: colour', "
        "theirs: '- 2026-10-20 call: moved'): keep one side and delete the marker lines\n",
    )
    logged = run(root, "log", "bella", "call: hi", "--today", DAY)
    assert logged.exit_code == 1
    assert logged.stderr == (
        f"crm: refusing to edit {path}: fix its problems first (crm edit):\n"
        f"  {path}:9: unresolved merge conflict at lines 9-13 (ours: '- 2026-10-21 visit: colour', "
        "theirs: '- 2026-10-20 call: moved'): keep one side and delete the marker lines\n"
    )
    assert path.read_text() == text


def test_only_markers_in_order_make_a_conflict() -> None:
    lines = ["<<<<<<< a", "x", ">>>>>>> b", "|||||||", "=======", "<<<<<<< c", "o", "||||||| base"]
    lines += ["b", "=======", "t", "=======", ">>>>>>> d", "```", ">>>>>>> e", "```"]
    conflicts, strays = conflict_markers(lines)
    # Theirs may hold a "=======" line of its own (a heading's underline).
    assert conflicts == [Conflict(6, 13, ("o",), ("t", "======="), 13, 11)]
    assert strays == [
        StrayMarker(1, "<<<<<<<"),
        StrayMarker(3, ">>>>>>>"),
        StrayMarker(4, "|||||||"),
    ]


BASE = QUOTED
OURS = QUOTED + "- 2026-11-20 visit: trim\n"
THEIRS = QUOTED + "- 2026-11-23 call: spring offers\n"


def test_the_merge_driver_merges_a_file_with_a_deep_mail_quote_by_its_entries() -> None:
    # Before, the quote read as a conflict: the driver fell back to git's line merge, which
    # makes a conflict of two entries added at the same place.
    result = merge(BASE.encode(), OURS.encode(), THEIRS.encode())
    assert (result.data.decode(), result.conflicts) == (
        QUOTED + "- 2026-11-20 visit: trim\n- 2026-11-23 call: spring offers\n",
        0,
    )
