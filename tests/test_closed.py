"""``crm closed``: [[closures]] added to and removed from crm.toml byte for byte, and listed."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from crm.cli import main
from crm.core.closures import Closure
from crm.core.errors import CrmError
from crm.edit import atomic, closures
from crm.edit.closures import add_closure, remove_closure, save_closure, toml_string
from tests.conftest import WriteVault
from tests.test_edit import encode

SETTINGS = """\
# crm vault settings
[vault]
feb29 = "feb28"   # keep this comment

[[closures]]
from = 2026-12-20
to = 2027-01-06
reason = "winter holiday"
# notice = "closure"
# notice_days = 21

# The feed's own comment stays with it.
[feed]
name = "Customers"
"""

SUMMER = """\

[[closures]]
from = 2027-08-01
to = 2027-08-14
reason = "summer \\"break\\""
"""


def run(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--vault", str(root), *args])


def toml(root: Path) -> Path:
    return root / "crm.toml"


def test_add_goes_after_the_last_closure_and_keeps_every_other_byte(
    write_vault: WriteVault,
) -> None:
    root = write_vault({"crm.toml": SETTINGS})
    result = run(
        root, "closed", "1 Aug", "14 Aug", "--reason", 'summer "break"', "--today", "2026-11-01"
    )
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        f'{toml(root)}: closed 2027-08-01 to 2027-08-14 (summer "break")\n'
        "Tell customers from 2027-07-11: crm draft closure --closure 2027-08-01\n"
    )
    at = SETTINGS.index("\n# The feed")
    assert toml(root).read_text(encoding="utf-8") == SETTINGS[:at] + SUMMER + SETTINGS[at:]


def test_a_closure_with_a_key_crm_does_not_read_can_still_be_added_and_removed(
    write_vault: WriteVault,
) -> None:
    text = SETTINGS.replace(
        'reason = "winter holiday"\n', 'reason = "winter holiday"\nnote = "x"\n'
    )
    root = write_vault({"crm.toml": text})
    added = run(root, "closed", "1 Aug", "14 Aug", "--today", "2026-11-01")
    assert (added.exit_code, added.stderr) == (0, "")
    assert added.stdout.startswith(f"{toml(root)}: closed 2027-08-01 to 2027-08-14\n")
    removed = run(root, "closed", "--remove", "2027-08-01")
    assert (removed.exit_code, removed.stderr) == (0, "")
    assert toml(root).read_text(encoding="utf-8") == text


@pytest.mark.parametrize(("bom", "nl"), [(False, "\r\n"), (True, "\n"), (True, "\r\n")])
def test_crlf_and_a_bom_stay(write_vault: WriteVault, bom: bool, nl: str) -> None:
    root = write_vault({"crm.toml": encode(SETTINGS, bom, nl)})
    result = run(root, "closed", "2027-08-01..2027-08-14", "--reason", 'summer "break"')
    assert result.exit_code == 0, result.output
    at = SETTINGS.index("\n# The feed")
    assert toml(root).read_bytes() == encode(SETTINGS[:at] + SUMMER + SETTINGS[at:], bom, nl)


def test_without_closures_the_table_goes_at_the_end_after_one_blank_line(
    write_vault: WriteVault,
) -> None:
    text = '[vault]\nfeb29 = "feb28"\n\n[feed]\nname = "x"\n# days_back = 30\n'
    root = write_vault({"crm.toml": text})
    assert run(root, "closed", "2026-12-24", "2026-12-26").exit_code == 0
    added = "\n[[closures]]\nfrom = 2026-12-24\nto = 2026-12-26\n"
    assert toml(root).read_text(encoding="utf-8") == text + added


def test_a_vault_without_crm_toml_gets_one(tmp_path: Path) -> None:
    result = run(tmp_path, "closed", "2026-12-24", "2026-12-26", "--today", "2026-12-10")
    assert result.exit_code == 0
    assert result.stdout == (
        f"{toml(tmp_path)}: closed 2026-12-24 to 2026-12-26\n"
        "Tell customers now: crm draft closure --closure 2026-12-24\n"
    )
    assert toml(tmp_path).read_bytes() == b"[[closures]]\nfrom = 2026-12-24\nto = 2026-12-26\n"


def test_remove_takes_out_that_table_and_one_blank_line(write_vault: WriteVault) -> None:
    root = write_vault({"crm.toml": SETTINGS})
    result = run(root, "closed", "--remove", "2026-12-20")
    assert (result.exit_code, result.stderr) == (0, "")
    assert (
        result.stdout
        == f"{toml(root)}: removed the closure 2026-12-20 to 2027-01-06 (winter holiday)\n"
    )
    assert toml(root).read_text(encoding="utf-8") == (
        "# crm vault settings\n"
        "[vault]\n"
        'feb29 = "feb28"   # keep this comment\n'
        "\n"
        "# The feed's own comment stays with it.\n"
        "[feed]\n"
        'name = "Customers"\n'
    )


@pytest.mark.parametrize(
    "text",
    [
        SETTINGS,
        SETTINGS + SUMMER,
        SETTINGS.replace("\n", "\r\n"),
        "\ufeff" + SETTINGS,
        "",
        "feb29 = 1\n\n\n",
        '[feed]\nname = """\n[[closures]]\n"""\n',
    ],
    ids=["comments", "two", "crlf", "bom", "empty", "blank-end", "multiline-string"],
)
def test_add_then_remove_gives_back_the_same_bytes(write_vault: WriteVault, text: str) -> None:
    root = write_vault({"crm.toml": text.encode("utf-8")})
    assert run(root, "closed", "2028-03-01", "2028-03-02", "--reason", "move").exit_code == 0
    assert toml(root).read_bytes() != text.encode("utf-8")
    assert run(root, "closed", "--remove", "2028-03-01").exit_code == 0
    assert toml(root).read_bytes() == text.encode("utf-8")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["2026-12-20", "2027-01-06"],
            "crm: crm.toml already has the closure 2026-12-20 to 2027-01-06 (winter holiday)\n",
        ),
        (
            ["2027-01-06", "2027-01-08"],
            "crm: 2027-01-06 to 2027-01-08 overlaps the closure 2026-12-20 to 2027-01-06 "
            "(winter holiday); remove it first (crm closed --remove 2026-12-20)\n",
        ),
        (["2026-12-20", "2026-12-01"], "crm: TO 2026-12-01 is before FROM 2026-12-20\n"),
        (["--remove", "2026-12-21"], "crm: no closure starts on 2026-12-21 (known: 2026-12-20)\n"),
    ],
    ids=["duplicate", "overlap", "reversed", "unknown-start"],
)
def test_refusals_exit_2_and_write_nothing(
    write_vault: WriteVault, args: list[str], message: str
) -> None:
    root = write_vault({"crm.toml": SETTINGS})
    result = run(root, "closed", *args)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", message)
    assert toml(root).read_text(encoding="utf-8") == SETTINGS


def test_remove_in_a_vault_without_closures_says_so(write_vault: WriteVault) -> None:
    result = run(write_vault({}), "closed", "--remove", "2026-12-21")
    assert (result.exit_code, result.stderr) == (
        2,
        "crm: no closure starts on 2026-12-21 (known: none in crm.toml)\n",
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give FROM TO (or FROM..TO), --list, or --remove FROM"),
        (
            ["--list", "--remove", "2026-12-20"],
            "give FROM TO (or FROM..TO), --list, or --remove FROM",
        ),
        (["--list", "--reason", "x"], "--reason goes with FROM TO, when adding a closure"),
        (["--all"], "give FROM TO (or FROM..TO), --list, or --remove FROM"),
        (["2026-12-20", "--all"], "--all goes with --list"),
        (["2026-12-20"], "'2026-12-20' is not a range: give FROM TO or FROM..TO"),
    ],
)
def test_usage_errors(write_vault: WriteVault, args: list[str], message: str) -> None:
    result = run(write_vault({"crm.toml": SETTINGS}), "closed", *args)
    assert result.exit_code == 2
    assert result.stderr.endswith(f"Error: {message}\n")


def test_list_shows_the_closures_not_over_by_today(write_vault: WriteVault) -> None:
    root = write_vault({"crm.toml": SETTINGS + SUMMER})
    result = run(root, "closed", "--list", "--today", "2027-01-06")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "FROM        TO          DAYS  REASON          NOTICE   TELL ON\n"
        "2026-12-20  2027-01-06  18    winter holiday  closure  2026-11-29\n"
        '2027-08-01  2027-08-14  14    summer "break"  closure  2027-07-11\n'
    )
    later = run(root, "closed", "--list", "--today", "2027-01-07", "--format", "json")
    assert json.loads(later.stdout) == [
        {
            "from": "2027-08-01",
            "to": "2027-08-14",
            "days": 14,
            "reason": 'summer "break"',
            "notice": "closure",
            "notice_days": 21,
            "tell_on": "2027-07-11",
        }
    ]
    everything = run(root, "closed", "--list", "--all", "--today", "2028-01-01", "--format", "json")
    assert [row["from"] for row in json.loads(everything.stdout)] == ["2026-12-20", "2027-08-01"]
    past = run(root, "closed", "--list", "--today", "2028-01-01")
    assert past.stdout == (
        "No closures ahead in crm.toml (crm closed --list --all shows the past ones).\n"
    )


def test_list_of_none(write_vault: WriteVault) -> None:
    result = run(write_vault({}), "closed", "--list")
    assert (result.exit_code, result.stdout) == (0, "No closures in crm.toml.\n")


def test_check_is_clean_after_an_add(write_vault: WriteVault) -> None:
    notice = "---\nkind: notice\n---\nHi {{ hello }}, closed from {{ closure.from }}.\n"
    root = write_vault(
        {
            "crm.toml": SETTINGS,
            "bo.md": "---\nname: Bo Li\nfirst_name: Bo\n---\n",
            "templates/messages/closure.md": notice,
        }
    )
    assert run(root, "closed", "2027-08-01", "2027-08-14", "--reason", "summer").exit_code == 0
    result = run(root, "check", "--today", "2026-11-01")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    # Without the template that tells customers, check says so (a warning: nothing is wrong yet).
    (root / "templates/messages/closure.md").unlink()
    result = run(root, "check", "--today", "2026-11-01")
    assert result.exit_code == 0
    assert (
        f"{root}/crm.toml:5: warning: closures[1].notice: no message template 'closure'"
        in result.stderr
    )


# -- the text functions and the file write ------------------------------------------------------


def test_toml_string_escapes_what_a_basic_string_cannot_hold() -> None:
    assert toml_string('a "b" \\ c\td\x7f') == '"a \\"b\\" \\\\ c\\td\\u007F"'


def test_add_writes_notice_and_notice_days_only_when_not_the_defaults() -> None:
    closure = Closure(date(2026, 12, 24), date(2026, 12, 24), "", "holiday", 7)
    assert add_closure("", closure) == (
        '[[closures]]\nfrom = 2026-12-24\nto = 2026-12-24\nnotice = "holiday"\nnotice_days = 7\n'
    )


def test_a_reason_is_one_line() -> None:
    with pytest.raises(CrmError, match="one line") as caught:
        add_closure("", Closure(date(2026, 12, 24), date(2026, 12, 24), "a\nb"))
    assert caught.value.exit_code == 2


def test_closures_written_as_an_inline_array_are_left_to_the_hand() -> None:
    text = "closures = [{from = 2026-12-20, to = 2026-12-21}]\n"
    with pytest.raises(CrmError, match="change them by hand"):
        add_closure(text, Closure(date(2027, 1, 1), date(2027, 1, 2)))
    with pytest.raises(CrmError, match="change them by hand"):
        remove_closure(text, date(2026, 12, 20))


def test_broken_toml_is_refused() -> None:
    with pytest.raises(CrmError, match="not valid TOML"):
        add_closure("[vault\n", Closure(date(2027, 1, 1), date(2027, 1, 2)))


def test_a_result_that_does_not_read_back_is_undone(
    write_vault: WriteVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_vault({"crm.toml": SETTINGS})
    monkeypatch.setattr(closures, "add_closure", lambda text, closure: text + "[[closures]]\n")
    with pytest.raises(CrmError, match="not changed: closures\\[2\\].from: missing"):
        save_closure(root, Closure(date(2027, 8, 1), date(2027, 8, 2)))
    assert toml(root).read_text(encoding="utf-8") == SETTINGS
    assert sorted(p.name for p in root.iterdir()) == ["crm.toml"]


def test_the_edit_waits_for_the_lock(
    write_vault: WriteVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_vault({"crm.toml": SETTINGS})
    monkeypatch.setattr(atomic, "LOCK_TIMEOUT", 0.05)
    with atomic.locked(toml(root)), pytest.raises(CrmError, match="is locked by another crm"):
        save_closure(root, Closure(date(2027, 8, 1), date(2027, 8, 2)))
    assert toml(root).read_text(encoding="utf-8") == SETTINGS


def test_remove_in_the_middle_leaves_the_comments_of_the_other_tables() -> None:
    text = (
        "[[closures]]\nfrom = 2026-12-20\nto = 2026-12-21\n# notice_days = 21\n\n"
        "# spring: the second one\n[[closures]]\nfrom = 2027-04-01\nto = 2027-04-02\n"
        "# about the third\n[[closures]]\nfrom = 2027-08-01\nto = 2027-08-02\n"
    )
    assert remove_closure(text, date(2027, 4, 1)) == (
        "[[closures]]\nfrom = 2026-12-20\nto = 2026-12-21\n# notice_days = 21\n\n"
        "# spring: the second one\n"
        "# about the third\n[[closures]]\nfrom = 2027-08-01\nto = 2027-08-02\n"
    )
    assert remove_closure(text, date(2026, 12, 20)) == text[text.index("# spring") :]


def test_adding_a_closure_says_when_it_is_past_or_has_begun(write_vault: WriteVault) -> None:
    root = write_vault({"crm.toml": SETTINGS})
    past = run(root, "closed", "2026-03-01", "2026-03-02", "--today", "2026-11-01")
    assert past.output == (
        f"{toml(root)}: closed 2026-03-01 to 2026-03-02\n"
        "It is over (2026-11-01): a closure in the past changes nothing.\n"
    )
    begun = run(root, "closed", "2026-10-30", "2026-11-03", "--today", "2026-11-01")
    assert begun.output == (
        f"{toml(root)}: closed 2026-10-30 to 2026-11-03\nIt has begun: nobody is due until it ends.\n"
    )


def test_list_refuses_a_crm_toml_that_is_not_toml(write_vault: WriteVault) -> None:
    root = write_vault({"crm.toml": SETTINGS + "[[closures]\n"})
    result = run(root, "closed", "--list", "--today", "2026-11-01")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"crm: {toml(root)}:")
    assert result.stderr.endswith(": the closures cannot be read\n")
