"""crm export: vCard, CSV and JSON carry what a customer file holds."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from crm.cli import main
from crm.contacts.vcard import parse_vcards, to_vcard
from crm.core.model import Customer, Location
from crm.vault.syntax import without_empty_headings
from tests.conftest import EXAMPLE, WriteVault

ZOE = """---
name: Zoë Müller
first_name: Zoë
last_name: Müller
email: [zoe@example.de, zoe.work@example.com]
phone: "+49 170 1234567"
company: Atelier Zoë; Partner
address: Hauptstraße 1, 80331 München
tags: [vip]
segment: studio
value: 1234567
likes: [espresso, "jazz, mostly"]
dislikes: [loud music]
birthday: --04-14
anniversary: 2015-06-20
customer_since: 2019-12-01
cadence: 6w
dates:
  - {label: Shop opening, date: 2021-12-01}
---

Prefers mornings.

## Log
- 2026-10-01 visit: cut
"""
# The contact fields and a one-off date that only the X-CRM properties carry.
ZOE_CONTACT = ZOE.replace(
    "dates:\n",
    "last_contact: 2026-10-01\nnext_contact: 2026-12-01 09:30\nsnooze_until: 2026-11-30\n"
    "away: {from: 2026-12-20, to: 2027-01-05}\nmax_contacts: 2/30d\n"
    "dates:\n  - {label: 'Moved; new shop', date: 2026-03-01, yearly: false}\n",
)
MARCUS = "---\nname: Marcus Lee\nfirst_name: Marcus\nstatus: lost\n---\n"


def export(root: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["--vault", str(root), "export", *args])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes.decode("utf-8")


def test_vcard_export_is_exact(write_vault: WriteVault) -> None:
    root = write_vault({"zoe.md": ZOE_CONTACT})
    assert export(root) == (
        "BEGIN:VCARD\r\n"
        "VERSION:3.0\r\n"
        "UID:crm:zoe\r\n"
        "ADR:;;Hauptstraße 1\\, 80331 München;;;;\r\n"
        "BDAY;X-APPLE-OMIT-YEAR=1604:1604-04-14\r\n"
        "CATEGORIES:vip\r\n"
        "EMAIL;TYPE=INTERNET:zoe@example.de\r\n"
        "EMAIL;TYPE=INTERNET:zoe.work@example.com\r\n"
        "FN:Zoë Müller\r\n"
        "N:Müller;Zoë;;;\r\n"
        "NOTE:Prefers mornings.\\n\\n## Log\\n- 2026-10-01 visit: cut\r\n"
        "ORG:Atelier Zoë\\; Partner\r\n"
        "TEL:+49 170 1234567\r\n"
        "X-ANNIVERSARY:2015-06-20\r\n"
        "X-CRM-AWAY:2026-12-20/2027-01-05\r\n"
        "X-CRM-CADENCE:6w\r\n"
        "X-CRM-CUSTOMER-SINCE:2019-12-01\r\n"
        "X-CRM-DATE;X-YEARLY=FALSE:2026-03-01 Moved\\; new shop\r\n"
        "X-CRM-DATE:2021-12-01 Shop opening\r\n"
        "X-CRM-DISLIKE:loud music\r\n"
        "X-CRM-LAST-CONTACT:2026-10-01\r\n"
        "X-CRM-LIKE:espresso\r\n"
        "X-CRM-LIKE:jazz\\, mostly\r\n"
        "X-CRM-MAX-CONTACTS:2/30d\r\n"
        "X-CRM-NEXT-CONTACT:2026-12-01 09:30\r\n"
        "X-CRM-SEGMENT:studio\r\n"
        "X-CRM-SNOOZE-UNTIL:2026-11-30\r\n"
        "X-CRM-STATUS:active\r\n"
        "X-CRM-VALUE:1234567\r\n"
        "END:VCARD\r\n"
    )


def test_csv_export_is_exact(write_vault: WriteVault) -> None:
    root = write_vault({"zoe.md": ZOE, "marcus.md": MARCUS})
    lines = export(root, "--format", "csv").splitlines()
    assert lines[0] == (
        "id,name,first_name,last_name,nickname,salutation,language,email,phone,company,address,"
        "address_street,address_city,address_region,address_postcode,address_country,"
        "tags,segment,status,value,"
        "likes,dislikes,birthday,anniversary,customer_since,cadence,last_contact,next_contact,"
        "snooze_until,max_contacts,prefer,opt_out,kind,contact,notes,path"
    )
    assert lines[1:] == [
        f"marcus,Marcus Lee,Marcus,,,,,,,,,,,,,,,,lost,,,,,,,,,,,,,,,,,{root / 'marcus.md'}",
        'zoe,Zoë Müller,Zoë,Müller,,,,"zoe@example.de, zoe.work@example.com",+49 170 1234567,'
        'Atelier Zoë; Partner,"Hauptstraße 1, 80331 München",,,,,,vip,studio,active,1234567,'
        '"espresso, jazz, mostly",loud music,--04-14,2015-06-20,2019-12-01,6w,2026-10-01,,,,,,,,'
        f"Prefers mornings.,{root / 'zoe.md'}",
    ]


def test_json_export_carries_everything(write_vault: WriteVault) -> None:
    root = write_vault({"zoe.md": ZOE, "marcus.md": MARCUS})
    records = json.loads(export(root, "--format", "json"))
    assert [r["id"] for r in records] == ["marcus", "zoe"]
    zoe = records[1]
    assert zoe["email"] == ["zoe@example.de", "zoe.work@example.com"]
    assert zoe["likes"] == ["espresso", "jazz, mostly"]
    assert (zoe["birthday"], zoe["anniversary"]) == ("--04-14", "2015-06-20")
    assert zoe["dates"] == [{"label": "Shop opening", "date": "2021-12-01", "yearly": True}]
    assert zoe["log"] == [{"date": "2026-10-01", "time": None, "kind": "visit", "text": "cut"}]
    assert (zoe["value"], zoe["cadence"], zoe["notes"]) == (1234567.0, "6w", "Prefers mornings.")


def test_filters_select_customers() -> None:
    records = json.loads(export(EXAMPLE, "--format", "json", "--status", "lost"))
    assert [r["id"] for r in records] == ["marcus-oneill"]
    vcf = export(EXAMPLE, "--tag", "vip")
    assert vcf.count("BEGIN:VCARD") == len(
        json.loads(export(EXAMPLE, "--format", "json", "--tag", "vip"))
    )


def test_export_help() -> None:
    result = CliRunner().invoke(main, ["export", "--help"])
    assert result.exit_code == 0
    assert "crm export --format csv --tag vip > vips.csv" in result.output


def _clean(text: str) -> bool:
    return text == " ".join(text.split()) and text != ""


_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=90
).filter(_clean)


@settings(max_examples=60, deadline=None)
@given(
    name=_TEXT,
    first=_TEXT,
    company=st.none() | _TEXT,
    emails=st.lists(_TEXT, max_size=3, unique=True),
    likes=st.lists(_TEXT, max_size=3, unique_by=str.casefold),
    tags=st.lists(_TEXT, max_size=3, unique_by=str.casefold),
    body=st.lists(st.sampled_from(["", "## Log", "- 2026-10-01 visit: cut"]) | _TEXT, max_size=5),
)
def test_vcard_text_survives_the_round_trip(
    name: str,
    first: str,
    company: str | None,
    emails: list[str],
    likes: list[str],
    tags: list[str],
    body: list[str],
) -> None:
    """Commas, semicolons, backslashes, non-ASCII, long (folded) and multi-line values come back."""
    c = Customer(
        id="x",
        name=name,
        location=Location(Path("x.md")),
        first_name=first,
        company=company,
        emails=tuple(emails),
        likes=tuple(likes),
        tags=tuple(tags),
        body="\n".join(body),
    )
    cards, problems = parse_vcards(to_vcard([c]), Path("x.vcf"))
    assert problems == []
    (card,) = cards
    assert card.name == name
    assert card.get("first_name") == first
    assert card.get("company") == company
    assert card.items("email") == tuple(emails)
    assert card.items("likes") == tuple(likes)
    assert card.items("tags") == tuple(tags)
    # Empty headings (a bare "## Log") are left out of the note.
    assert card.get("note") == (without_empty_headings("\n".join(body)) or None)


def test_csv_export_carries_contact_fields_back(write_vault: WriteVault, tmp_path: Path) -> None:
    root = write_vault({"zoe.md": ZOE_CONTACT})
    source = tmp_path / "zoe.csv"
    source.write_text(export(root, "--format", "csv"), encoding="utf-8")
    assert "2026-10-01,2026-12-01 09:30,2026-11-30,2/30d," in source.read_text(encoding="utf-8")
    target = tmp_path / "target"
    target.mkdir()
    (target / "crm.toml").write_text("", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["--vault", str(target), "import", str(source), "--today", "2026-11-23"]
    )
    assert result.exit_code == 0, result.output
    text = (target / "zoe-muller.md").read_text(encoding="utf-8")
    for line in ("last_contact: 2026-10-01", "next_contact: 2026-12-01 09:30",
                 "snooze_until: 2026-11-30", "max_contacts: 2/30d"):  # fmt: skip
        assert line + "\n" in text
