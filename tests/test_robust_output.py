"""What crm prints never drives the terminal, machine formats stay exact, and two edges of
issue 32 (a slash ``--today`` with ``date_order``, ``crm ics`` with a broken crm.toml)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from crm.cli import main
from tests.conftest import WriteVault

# A window title, a clear screen and a right-to-left override, as a file can hold them.
EVIL = "Bella \x1b]0;pwned\x07\x1b[2J Ro\u202essi"
SHOWN = "Bella \\x1b]0;pwned\\x07\\x1b[2J Ro\\u202essi"
EVIL_YAML = '"Bella \\e]0;pwned\\a\\e[2J Ro\\u202Essi"'
FILE = (
    "---\n"
    f"name: {EVIL_YAML}\n"
    "first_name: Bella\n"
    'last_name: "=HYPERLINK(\\"http://x\\")"\n'
    "phone: '+39 333 1234567'\n"
    "---\n"
)


def crm(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--vault", str(root), *args])
    return result.exit_code, result.stdout, result.stderr


def test_a_table_shows_control_characters_as_escapes(write_vault: WriteVault) -> None:
    root = write_vault({"bella.md": FILE})
    code, out, _ = crm(root, "list", "--today", "2026-11-23")
    assert code == 0
    assert out == ("ID     NAME" + " " * 39 + f"STATUS  TAGS\nbella  {SHOWN}  active\n")
    assert "\x1b" not in out and "\u202e" not in out


def test_show_and_messages_escape_too(write_vault: WriteVault) -> None:
    root = write_vault({"bella.md": FILE})
    code, out, _ = crm(root, "show", "bella", "--today", "2026-11-23")
    assert code == 0
    assert out.splitlines()[0] == f"{SHOWN} (bella)  active"
    assert not any(c in out for c in "\x1b\x07\u202e")
    # An error message quoting the typed name is text for the terminal as well.
    code, out, err = crm(root, "show", "nobody\x1b[2J")
    assert code == 2
    assert err == "crm: no customer matches 'nobody\\x1b[2J'\n"


def test_a_file_name_with_an_escape_is_shown_escaped(write_vault: WriteVault) -> None:
    root = write_vault({"evil\x1b[2J.md": "---\nname: [unclosed\n---\n"})
    code, out, err = crm(root, "check")
    assert code == 1
    assert "evil\\x1b[2J.md:" in out + err
    assert "\x1b" not in out + err


def test_json_and_csv_keep_the_text_exact(write_vault: WriteVault) -> None:
    root = write_vault({"bella.md": FILE})
    code, out, _ = crm(root, "list", "--format", "json", "--today", "2026-11-23")
    assert code == 0
    assert json.loads(out)[0]["name"] == EVIL
    # C0 escaped by JSON itself, C1 and bidi by crm: inert in a terminal, the same data.
    assert '"name": "Bella \\u001b]0;pwned\\u0007\\u001b[2J Ro\\u202essi"' in out
    code, out, _ = crm(root, "list", "--format", "csv", "--today", "2026-11-23")
    assert code == 0
    assert out.splitlines()[1].startswith(f"bella,{EVIL},Bella,active,")
    code, out, _ = crm(root, "export", "--format", "csv", "--today", "2026-11-23")
    assert code == 0
    assert EVIL in out and '"=HYPERLINK(""http://x"")"' in out
    code, out, _ = crm(root, "export", "--today", "2026-11-23")
    assert code == 0
    assert "FN:Bella \x1b]0\\;pwned\x07\x1b[2J Ro\u202essi" in out


def test_safe_csv_neutralises_what_a_spreadsheet_would_run(write_vault: WriteVault) -> None:
    root = write_vault({"bella.md": FILE})
    code, out, _ = crm(root, "export", "--format", "csv", "--safe-csv", "--today", "2026-11-23")
    assert code == 0
    assert '"\'=HYPERLINK(""http://x"")"' in out
    assert ",'+39 333 1234567," in out
    code, out, _ = crm(root, "list", "--format", "csv", "--safe-csv", "--today", "2026-11-23")
    assert code == 0
    assert out.splitlines()[1].startswith(f"bella,{EVIL},Bella,active,")
    assert ",'+39 333 1234567," in out
    # The setting ends with its command.
    code, out, _ = crm(root, "export", "--format", "csv", "--today", "2026-11-23")
    assert '"=HYPERLINK(' in out and "'=" not in out


DMY = {
    "crm.toml": '[vault]\ndate_order = "DMY"\n',
    "ana.md": "---\nname: Ana Lima\nfirst_name: Ana\ncadence: 30d\n---\n\n## Log\n"
    "- 2026-01-02 call: hello\n",
}


def test_a_slash_today_reads_the_vaults_date_order(write_vault: WriteVault) -> None:
    root = write_vault(DMY)
    code, out, err = crm(root, "agenda", "--today", "03/04/2026")
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == "Agenda for Fri 2026-04-03 (1 customer)"
    code, out, err = crm(root, "overdue", "--today", "03/04/2026", "--format", "json")
    assert (code, err) == (0, "")
    assert [row["late"] for row in json.loads(out)] == ["61d"]
    code, out, err = crm(root, "upcoming", "--today", "3/4/2026", "--days", "400")
    assert (code, err) == (0, "")


def test_ics_writes_no_feed_when_crm_toml_has_an_error(
    write_vault: WriteVault, tmp_path: Path
) -> None:
    root = write_vault({**DMY, "crm.toml": '[defaults]\ncadence = "often"\n'})
    code, out, err = crm(root, "ics", "--today", "2026-11-23")
    assert (code, out) == (1, "")
    assert err == (
        f"crm: {root}/crm.toml:2: defaults.cadence: 'often' is not a cadence (expected e.g. "
        "14d, 2w, 3m, 1y, weekly, monthly, quarterly or yearly) "
        "(fix crm.toml; the feed is not written)\n"
    )
    feed = tmp_path / "feed.ics"
    code, out, err = crm(root, "ics", "-o", str(feed), "--today", "2026-11-23")
    assert code == 1 and not feed.exists()
    # A warning does not stop it.
    (root / "crm.toml").write_text('[defaults]\ncadance = "30d"\n', encoding="utf-8")
    code, out, err = crm(root, "ics", "--today", "2026-11-23")
    assert code == 0 and out.startswith("BEGIN:VCALENDAR")
    assert "unknown key, ignored; did you mean 'cadence'?" in err


def test_a_line_break_in_a_cell_cannot_fake_a_row(write_vault: WriteVault) -> None:
    root = write_vault(
        {"li.md": '---\nname: "Li Wei\\nmallory  Mallory\\tX"\nfirst_name: Li\n---\n'}
    )
    code, out, _ = crm(root, "list", "--today", "2026-11-23")
    assert code == 0
    assert out.splitlines()[1:] == ["li  Li Wei\\nmallory  Mallory\\tX  active"]


def test_a_safe_csv_export_imports_back_exactly(write_vault: WriteVault, tmp_path: Path) -> None:
    root = write_vault(
        {
            "bella.md": FILE.replace(EVIL_YAML, "Bella Rossi").replace(
                "phone:", "birthday: --12-04\nphone:"
            ),
            "nia.md": '---\nname: Nia Okoro\nfirst_name: Nia\nnickname: "\'=x"\n---\n',
        }
    )
    code, out, _ = crm(root, "export", "--format", "csv", "--safe-csv", "--today", "2026-11-23")
    assert code == 0 and "'--12-04" in out
    exported = tmp_path / "safe.csv"
    exported.write_text(out, encoding="utf-8")
    other = tmp_path / "other"
    other.mkdir()
    (other / "crm.toml").write_text("", encoding="utf-8")
    code, _, err = crm(other, "import", str(exported), "--today", "2026-11-23")
    assert (code, err) == (0, "")
    code, out, _ = crm(other, "export", "--format", "json", "--today", "2026-11-23")
    people = {p["first_name"].lower(): p for p in json.loads(out)}
    assert people["bella"]["last_name"] == '=HYPERLINK("http://x")'
    assert people["bella"]["phone"] == ["+39 333 1234567"]
    assert people["bella"]["birthday"] == "--12-04"
    assert people["nia"]["nickname"] == "'=x"  # a ' of its own stays
