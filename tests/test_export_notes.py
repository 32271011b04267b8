"""`crm export` leaves out empty template headings, and its CSV has the real last contact."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from click.testing import CliRunner

from crm.cli import main
from crm.vault.syntax import without_empty_headings
from tests.conftest import WriteVault

BARE = "---\nname: Ann Lee\nfirst_name: Ann\n---\n## Notes\n\n## Log\n\n"
FULL = (
    "---\nname: Bo Berg\nfirst_name: Bo\nlast_contact: 2026-01-05\n---\n"
    "## Notes\n\nLikes tea.\n\n## Family\n\n### Kids\n\n## Log\n\n"
    "- 2026-03-02 call: about the order\n- 2026-04-01 note: not a contact\n"
    "- [ ] 2026-05-01 call: planned, not done\n"
)
OLD_ENTRY = (
    "---\nname: Cy Cole\nfirst_name: Cy\nlast_contact: 2026-06-01\n---\n"
    "## Log\n\n- 2026-02-01 visit: long ago\n"
)


def export(root: Path, fmt: str) -> str:
    result = CliRunner().invoke(main, ["--vault", str(root), "export", "--format", fmt])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_empty_headings_are_dropped_and_the_rest_kept() -> None:
    assert without_empty_headings("## Notes\n\n") == ""
    assert without_empty_headings("## Notes\n\nLikes tea.\n\n## Family\n\n### Kids\n") == (
        "## Notes\n\nLikes tea."
    )
    assert without_empty_headings("## Family\n\n### Kids\n\nTwo.\n## Empty\n") == (
        "## Family\n\n### Kids\n\nTwo."
    )
    assert without_empty_headings("```\n# not a heading\n```\n## Empty\n") == (
        "```\n# not a heading\n```"
    )


def test_csv_has_the_real_last_contact_and_no_empty_headings(write_vault: WriteVault) -> None:
    root = write_vault({"ann.md": BARE, "bo.md": FULL, "cy.md": OLD_ENTRY})
    rows = list(csv.DictReader(io.StringIO(export(root, "csv"))))
    assert [(r["name"], r["last_contact"], r["notes"]) for r in rows] == [
        ("Ann Lee", "", ""),
        ("Bo Berg", "2026-03-02", "## Notes\n\nLikes tea."),
        ("Cy Cole", "2026-06-01", ""),
    ]


def test_vcard_note_leaves_out_empty_headings(write_vault: WriteVault) -> None:
    root = write_vault({"ann.md": BARE, "bo.md": FULL})
    text = export(root, "vcard")
    ann, bo = text.split("END:VCARD")[:2]
    assert "NOTE" not in ann
    note = "".join(line[1:] if line.startswith(" ") else "\n" + line for line in bo.split("\r\n"))
    assert (
        "NOTE:## Notes\\n\\nLikes tea.\\n\\n## Log\\n\\n- 2026-03-02 call: about the order" in note
    )
    assert "Family" not in note and "Kids" not in note
