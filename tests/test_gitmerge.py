"""The git merge driver: pure three-way merges, then real git clones pulling each other's edits."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from crm.cli import main
from crm.edit.gitmerge import driver_command, merge
from tests.conftest import WriteVault

BASE = """\
---
name: Bella Rossi
first_name: Bella
# every two months
cadence: 8w
tags: [regular]
---

Prefers texts.

## Log
- 2026-07-15 visit: waves
- 2026-08-30 text: photos

## Ideas
- a voucher
"""


def merged(base: str, ours: str, theirs: str) -> tuple[str, int]:
    result = merge(base.encode(), ours.encode(), theirs.encode())
    return result.data.decode(), result.conflicts


def swap(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def test_both_sides_logging_keeps_both_entries_in_date_order() -> None:
    ours = swap(BASE, "photos\n", "photos\n- 2026-11-23 call: spring offers\n")
    theirs = swap(BASE, "photos\n", "photos\n- 2026-11-20 visit: trim\n")
    assert merged(BASE, ours, theirs) == (
        swap(
            BASE, "photos\n", "photos\n- 2026-11-20 visit: trim\n- 2026-11-23 call: spring offers\n"
        ),
        0,
    )


def test_the_same_entry_on_both_sides_is_kept_once_and_deletions_stick() -> None:
    ours = swap(BASE, "photos\n", "photos\n- 2026-11-23 call: hi\n")
    theirs = swap(
        swap(BASE, "- 2026-07-15 visit: waves\n", ""), "photos\n", "photos\n- 2026-11-23 call: hi\n"
    )
    assert merged(BASE, ours, theirs) == (theirs, 0)


def test_keys_changed_on_one_side_each_are_both_kept() -> None:
    ours = swap(BASE, "cadence: 8w", "cadence: 14d")
    theirs = swap(
        swap(BASE, "tags: [regular]", "tags: [regular, vip]"),
        "---\n\nPrefers",
        "status: lead\n---\n\nPrefers",
    )
    theirs = swap(theirs, "photos\n", "photos\n- 2026-11-20 visit: trim\n")
    expected = swap(swap(theirs, "cadence: 8w", "cadence: 14d"), "# every", "# every")
    assert merged(BASE, ours, theirs) == (expected, 0)


def test_the_same_key_changed_differently_is_a_conflict() -> None:
    ours = swap(BASE, "cadence: 8w", "cadence: 14d")
    theirs = swap(
        swap(BASE, "cadence: 8w", "cadence: 21d"), "photos\n", "photos\n- 2026-11-20 visit: trim\n"
    )
    text, conflicts = merged(BASE, ours, theirs)
    assert conflicts == 1
    assert text == swap(
        swap(BASE, "photos\n", "photos\n- 2026-11-20 visit: trim\n"),
        "# every two months\ncadence: 8w\n",
        "<<<<<<< ours\n# every two months\ncadence: 14d\n=======\n"
        "# every two months\ncadence: 21d\n>>>>>>> theirs\n",
    )


def test_deleting_a_key_the_other_side_changed_is_a_conflict() -> None:
    ours = swap(BASE, "tags: [regular]\n", "")
    theirs = swap(BASE, "tags: [regular]", "tags: [vip]")
    text, conflicts = merged(BASE, ours, theirs)
    assert conflicts == 1
    assert "<<<<<<< ours\n=======\ntags: [vip]\n>>>>>>> theirs\n" in text
    assert merged(BASE, ours, BASE) == (ours, 0)


def test_body_text_merges_line_by_line_and_conflicts_when_both_change_a_line() -> None:
    ours = swap(BASE, "Prefers texts.", "Prefers texts after 6pm.")
    theirs = swap(BASE, "- a voucher", "- a voucher\n- a scarf")
    assert merged(BASE, ours, theirs) == (swap(ours, "- a voucher", "- a voucher\n- a scarf"), 0)
    clash = swap(BASE, "Prefers texts.", "Prefers calls.")
    text, conflicts = merged(BASE, ours, clash)
    assert conflicts == 1
    assert (
        "<<<<<<< ours\nPrefers texts after 6pm.\n=======\nPrefers calls.\n>>>>>>> theirs\n" in text
    )


def test_crlf_and_bom_survive_the_merge() -> None:
    def crlf(text: str) -> bytes:
        return ("\ufeff" + text.replace("\n", "\r\n")).encode()

    ours = swap(BASE, "photos\n", "photos\n- 2026-11-23 call: a\n")
    theirs = swap(BASE, "photos\n", "photos\n- 2026-11-22 call: b\n")
    result = merge(crlf(BASE), crlf(ours), crlf(theirs))
    assert result.conflicts == 0
    assert result.data == crlf(
        swap(BASE, "photos\n", "photos\n- 2026-11-22 call: b\n- 2026-11-23 call: a\n")
    )


def test_a_file_without_front_matter_gets_a_plain_line_merge() -> None:
    base = "# Notes\n\none\ntwo\nthree\n"
    assert merged(base, base.replace("one", "ONE"), base.replace("three", "THREE")) == (
        "# Notes\n\nONE\ntwo\nTHREE\n",
        0,
    )


# -- real git ---------------------------------------------------------------------------------


@pytest.fixture
def git_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Give git a clean, known identity that ignores the machine's own configuration."""
    home = tmp_path / "home"
    home.mkdir()
    for key, value in {
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("GIT_DIR", raising=False)
    monkeypatch.delenv("CRM_VAULT", raising=False)


def git(repo: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if ok:
        assert done.returncode == 0, done.stderr
    return done


def crm(vault: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["--vault", str(vault), *args])
    assert result.exit_code == 0, result.output
    return result.output


def two_clones(tmp_path: Path) -> tuple[Path, Path]:
    """Return two clones of a vault repository, both set up with crm git-setup."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "--bare", "-b", "main", str(origin))
    a = tmp_path / "a"
    git(tmp_path, "clone", str(origin), str(a))
    git(a, "checkout", "-b", "main")
    (a / "crm.toml").write_text("")
    (a / "bella-rossi.md").write_text(BASE)
    assert crm(a, "git-setup") == (
        f"registered merge.crm.driver: {driver_command()}\n"
        f"added '*.md merge=crm' to {a / '.gitattributes'}\n"
    )
    assert crm(a, "git-setup") == "already set up; nothing to do\n"
    git(a, "add", "-A")
    git(a, "commit", "-m", "vault")
    git(a, "push", "origin", "main")
    b = tmp_path / "b"
    git(tmp_path, "clone", str(origin), str(b))
    crm(b, "git-setup")
    return a, b


def test_two_clones_logging_the_same_customer_merge_cleanly(tmp_path: Path, git_env: None) -> None:
    a, b = two_clones(tmp_path)
    crm(a, "log", "bella", "call: spring offers", "--date", "2026-11-23")
    crm(b, "log", "bella", "visit: trim", "--date", "2026-11-20")
    for clone in (a, b):
        git(clone, "commit", "-am", "log")
    git(a, "push", "origin", "main")
    pulled = git(b, "pull", "--no-rebase", "--no-edit", "origin", "main")
    assert "CONFLICT" not in pulled.stdout
    assert (b / "bella-rossi.md").read_text() == swap(
        BASE, "photos\n", "photos\n- 2026-11-20 visit: trim\n- 2026-11-23 call: spring offers\n"
    )
    assert git(b, "status", "--porcelain").stdout == ""


def test_two_clones_setting_the_same_key_differently_conflict(
    tmp_path: Path, git_env: None
) -> None:
    a, b = two_clones(tmp_path)
    crm(a, "set", "bella", "cadence=14d")
    crm(b, "set", "bella", "cadence=21d")
    for clone in (a, b):
        git(clone, "commit", "-am", "cadence")
    git(a, "push", "origin", "main")
    pulled = git(b, "pull", "--no-rebase", "--no-edit", "origin", "main", ok=False)
    assert pulled.returncode != 0
    assert "CONFLICT (content): Merge conflict in bella-rossi.md" in pulled.stdout
    text = (b / "bella-rossi.md").read_text()
    assert "<<<<<<< ours\n# every two months\ncadence: 21d\n=======\n" in text
    assert "cadence: 14d\n>>>>>>> theirs\n" in text
    assert git(b, "status", "--porcelain").stdout == "UU bella-rossi.md\n"


def test_check_warns_when_the_driver_is_named_but_not_registered(
    tmp_path: Path, git_env: None
) -> None:
    a, _ = two_clones(tmp_path)
    c = tmp_path / "c"
    git(tmp_path, "clone", str(tmp_path / "origin.git"), str(c))
    result = CliRunner().invoke(main, ["--vault", str(c), "check"])
    assert result.exit_code == 0
    assert result.output == (
        f"{c / '.gitattributes'}:2: warning: names the crm merge driver, but this clone has "
        "not registered it: run crm git-setup\n"
    )
    assert CliRunner().invoke(main, ["--vault", str(a), "check"]).output == ""


def test_init_in_a_git_repository_sets_up_the_driver(tmp_path: Path, git_env: None) -> None:
    repo = tmp_path / "repo"
    git(tmp_path, "init", "-b", "main", str(repo))
    result = CliRunner().invoke(main, ["init", str(repo)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == f"created {repo / '.gitattributes'}"
    assert git(repo, "config", "merge.crm.driver").stdout.strip() == driver_command()


def test_bytes_that_are_not_utf8_get_gits_line_merge() -> None:
    base = b"a\n\xff\nc\n"
    result = merge(base, base.replace(b"a", b"A"), base.replace(b"c", b"C"))
    assert (result.data, result.conflicts) == (b"A\n\xff\nC\n", 0)


def test_git_setup_outside_git_is_refused(write_vault: WriteVault, git_env: None) -> None:
    root = write_vault({})
    result = CliRunner().invoke(main, ["--vault", str(root), "git-setup"])
    assert (result.exit_code, result.stderr) == (
        2,
        f"crm: {root} is not inside a git repository (git init first)\n",
    )


def test_entries_are_counted_so_a_repeated_line_survives() -> None:
    twice = "photos\n- 2026-11-23 call: no answer\n- 2026-11-23 call: no answer\n"
    once = "photos\n- 2026-11-23 call: no answer\n"
    base = swap(BASE, "photos\n", once)
    assert merged(base, base, swap(BASE, "photos\n", twice)) == (swap(BASE, "photos\n", twice), 0)
    assert merged(BASE, swap(BASE, "photos\n", once), swap(BASE, "photos\n", once)) == (base, 0)


def test_an_entry_corrected_on_one_side_keeps_the_correction() -> None:
    ours = swap(BASE, "text: photos", "text: sent photos")
    theirs = swap(BASE, "photos\n", "photos\n- 2026-11-20 visit: trim\n")
    assert merged(BASE, ours, theirs) == (
        swap(ours, "photos\n", "photos\n- 2026-11-20 visit: trim\n"),
        0,
    )


@pytest.mark.parametrize("missing", ["base", "ours", "theirs"])
def test_a_missing_file_is_a_clear_failure_that_leaves_ours_alone(
    tmp_path: Path, missing: str
) -> None:
    paths = {side: tmp_path / f"{side}.md" for side in ("base", "ours", "theirs")}
    for path in paths.values():
        path.write_text(BASE)
    paths[missing].unlink()
    args = ["git-merge-driver", *map(str, paths.values()), "bella-rossi.md"]
    result = CliRunner().invoke(main, args)
    assert (result.exit_code, result.stdout, result.stderr) == (
        2,
        "",
        f"crm: git-merge-driver: {paths[missing]}: no such file\n",
    )
    if missing != "ours":
        assert paths["ours"].read_text() == BASE
