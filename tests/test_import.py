"""crm import: realistic vCard and CSV exports, idempotent re-import, dry run, round trip."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from crm.cli import main
from crm.contacts.csvcards import parse_csv
from crm.contacts.importer import plan_import
from crm.contacts.vcard import parse_vcards
from crm.core.config import Config, load_config
from crm.core.model import Location, Problem
from crm.edit.new import new_customer
from crm.vault.load import load_vault
from tests.conftest import EXAMPLE, WriteVault

TODAY = "2026-11-23"
TEMPLATE = "---\nname: {name}\nfirst_name: {first_name}\nlast_name: {last_name}\n---\n\n## Log\n"

# An Android phone's vCard 2.1: quoted-printable UTF-8 names with a soft line break, bare TEL
# types, and a base64 photo that ends with a blank line.
ANDROID_21 = (
    "BEGIN:VCARD\r\n"
    "VERSION:2.1\r\n"
    "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;Zo=C3=AB;;;\r\n"
    "FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Zo=C3=AB M=\r\n"
    "=C3=BCller\r\n"
    "TEL;CELL;PREF:+49 170 1234567\r\n"
    "TEL;HOME:030 1234\r\n"
    "EMAIL;HOME:zoe@example.de\r\n"
    "PHOTO;ENCODING=BASE64;JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAMCAgICAgMCAgIDAwMDBAYEBAQEBAgG\r\n"
    " BgUGCQgKCgkICQkKDA8MCgsOCwkJDRENDg8QEBEQCgwSExIQEw8QEBD/2wBDAQMDAwQDBAgEBAgQ\r\n"
    "\r\n"
    "BDAY:1985-04-14\r\n"
    "END:VCARD\r\n"
)

# An iPhone's vCard 3.0: Apple's year-less birthday, a labelled anniversary, typed and
# preferred emails, a folded note, categories and an inline photo.
APPLE_30 = """BEGIN:VCARD
VERSION:3.0
PRODID:-//Apple Inc.//iPhone OS 17.0//EN
N:Okafor;Grace;;;
FN:Grace Okafor
ORG:Okafor Braids;
EMAIL;type=INTERNET;type=WORK:grace@work.example
EMAIL;type=INTERNET;type=HOME;type=pref:grace@example.com
TEL;type=CELL;type=VOICE;type=pref:+44 7700 900123
item1.ADR;type=HOME;type=pref:;;12 Camden Road;London;;NW1 9LR;United Kingdom
BDAY;X-APPLE-OMIT-YEAR=1604:1604-07-09
item2.X-ABDATE;type=pref:2012-09-01
item2.X-ABLabel:_$!<Anniversary>!$_
NOTE:Likes braids and hibiscus tea. This note is long enough that the phone f
 olds it onto a second line.
CATEGORIES:vip,regular
PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAMCAgICAgMCAgIDAw
 MDBAYEBAQEBAgGBgUGCQgKCgkICQkKDA8MCgsOCwkJDRENDg8QEBEQCgwSExIQEw8QEBD/
END:VCARD
"""

# A vCard 4.0 card (Nextcloud, Thunderbird): year-less BDAY, ANNIVERSARY, tel: URIs.
NEXTCLOUD_40 = """BEGIN:VCARD
VERSION:4.0
FN:李伟
N:李;伟;;;
BDAY:--0414
ANNIVERSARY:20100601
EMAIL;TYPE=work:li@example.cn
TEL;VALUE=uri;TYPE="voice,cell":tel:+86-10-1234-5678
PHOTO:data:image/jpeg;base64,/9j/4AAQSkZJRg==
END:VCARD
"""

BROKEN = """BEGIN:VCARD
VERSION:3.0
FN:Bad Date
BDAY:14th of April
END:VCARD
BEGIN:VCARD
VERSION:3.0
EMAIL:nobody@example.com
END:VCARD
"""

GOOGLE_CSV = (
    "First Name,Middle Name,Last Name,Organization Name,Birthday,Notes,Labels,"
    "E-mail 1 - Label,E-mail 1 - Value,E-mail 2 - Label,E-mail 2 - Value,"
    "Phone 1 - Label,Phone 1 - Value,Address 1 - Label,Address 1 - Formatted,"
    "Event 1 - Label,Event 1 - Value\n"
    "Ana,,García,,--12-02,Window seat,VIP ::: * myContacts,* Home,ana@example.com,Work,"
    'ana@work.example,Mobile,+49 151 2345 6789 ::: +49 30 555,Home,"Lindenstraße 12\n'
    '10969 Berlin",Anniversary,2015-06-20\n'
    "Tom,,Becker,Becker GmbH,1979-13-40,,* myContacts,,tom@example.com,,,,,,,,\n"
    "Noah,,Kim,Kim & Co,,,* myContacts,,noah@example.com,,,,,,,,\n"
)

OUTLOOK_CSV = (
    "First Name,Middle Name,Last Name,Title,Suffix,E-mail Address,E-mail 2 Address,"
    "Home Phone,Mobile Phone,Company,Home Street,Home City,Home Postal Code,"
    "Home Country/Region,Birthday,Anniversary,Categories,Notes\n"
    "Henrik,,Larsen,,,henrik@example.dk,,+45 20 12 34 56,,Larsen ApS,Strøget 1,København,1160,"
    "Denmark,11/30/1970,0/0/00,Regular;Friends,\n"
    "Mia,,Johansson,,,mia@example.se,,,+46 70 123 45 67,,,,,,0/0/00,6/21/2014,,\n"
)


def run(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--vault", str(root), *args, "--today", TODAY])
    return result.exit_code, result.stdout, result.stderr


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".crm" not in p.relative_to(root).parts  # the index cache
    }


def imported(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


@pytest.fixture
def vault(write_vault: WriteVault) -> Path:
    return write_vault({"templates/customer.md": TEMPLATE})


def test_parses_21_30_and_40_cards() -> None:
    cards, problems = parse_vcards(ANDROID_21 + APPLE_30 + NEXTCLOUD_40, Path("c.vcf"))
    assert problems == []
    assert [(c.location.line, c.name) for c in cards] == [
        (1, "Zoë Müller"),
        (14, "Grace Okafor"),
        (33, "李伟"),
    ]
    zoe, grace, li = (dict(c.fields) for c in cards)
    assert zoe == {
        "first_name": "Zoë",
        "last_name": "Müller",
        "birthday": "1985-04-14",
        "email": ("zoe@example.de",),
        "phone": ("+49 170 1234567", "030 1234"),
    }
    assert grace == {
        "first_name": "Grace",
        "last_name": "Okafor",
        "company": "Okafor Braids",
        "address": '{street: "12 Camden Road", city: London, postcode: NW1 9LR, country: United Kingdom}',
        "birthday": "--07-09",
        "anniversary": "2012-09-01",
        "email": ("grace@example.com", "grace@work.example"),
        "phone": ("+44 7700 900123",),
        "tags": ("vip", "regular"),
        "note": "Likes braids and hibiscus tea. This note is long enough that the phone folds it"
        " onto a second line.",
    }
    assert li == {
        "first_name": "伟",
        "last_name": "李",
        "birthday": "--04-14",
        "anniversary": "2010-06-01",
        "email": ("li@example.cn",),
        "phone": ("+86-10-1234-5678",),
    }


def test_malformed_cards_are_reported_with_their_line_and_skipped() -> None:
    text = APPLE_30 + BROKEN + "garbage\n" + NEXTCLOUD_40 + "BEGIN:VCARD\nFN:Cut off\n"
    cards, problems = parse_vcards(text, Path("c.vcf"))
    # A bad birthday costs only the birthday, reported at its own line.
    assert [c.name for c in cards] == ["Grace Okafor", "Bad Date", "李伟"]
    assert [str(p) for p in problems] == [
        "c.vcf:23: Bad Date: BDAY '14th of April' is not a date; imported without a birthday",
        "c.vcf:25: card skipped: no name (FN or N)",
        "c.vcf:29: text outside BEGIN:VCARD ... END:VCARD; skipped",
        "c.vcf:40: card is not closed (no END:VCARD); skipped",
    ]


def test_google_csv() -> None:
    cards, problems = parse_csv(GOOGLE_CSV, Path("google.csv"))
    assert problems == [
        Problem(
            Location(Path("google.csv"), 4),
            "Tom Becker: Birthday '1979-13-40' is not a date; imported without a birthday",
        )
    ]
    assert [(c.location.line, c.name) for c in cards] == [
        (2, "Ana García"),
        (4, "Tom Becker"),
        (5, "Noah Kim"),
    ]
    assert dict(cards[0].fields) == {
        "first_name": "Ana",
        "last_name": "García",
        "address": "Lindenstraße 12, 10969 Berlin",
        "birthday": "--12-02",
        "anniversary": "2015-06-20",
        "email": ("ana@example.com", "ana@work.example"),
        "phone": ("+49 151 2345 6789", "+49 30 555"),
        "tags": ("VIP",),
    }


def test_outlook_csv() -> None:
    cards, problems = parse_csv(OUTLOOK_CSV, Path("outlook.csv"))
    assert problems == []
    henrik, mia = (dict(c.fields) for c in cards)
    assert henrik == {
        "first_name": "Henrik",
        "last_name": "Larsen",
        "company": "Larsen ApS",
        "address": '{street: Strøget 1, city: København, postcode: "1160", country: Denmark}',
        "birthday": "1970-11-30",
        "email": ("henrik@example.dk",),
        "phone": ("+45 20 12 34 56",),
        "tags": ("Regular", "Friends"),
    }
    assert mia == {
        "first_name": "Mia",
        "last_name": "Johansson",
        "anniversary": "2014-06-21",
        "email": ("mia@example.se",),
        "phone": ("+46 70 123 45 67",),
    }


def test_import_creates_customers_and_shows_diffs(vault: Path, tmp_path: Path) -> None:
    source = imported(tmp_path, "phone.vcf", ANDROID_21 + NEXTCLOUD_40)
    code, out, err = run(vault, "import", str(source))
    assert (code, err) == (0, "")
    assert out == (
        f"new: {vault / 'zoe-muller.md'}\n"
        "--- /dev/null\n"
        "+++ b/zoe-muller.md\n"
        "@@ -0,0 +1,10 @@\n"
        "+---\n"
        "+name: Zoë Müller\n"
        "+first_name: Zoë\n"
        "+last_name: Müller\n"
        "+birthday: 1985-04-14\n"
        "+email: zoe@example.de\n"
        "+phone: [+49 170 1234567, 030 1234]\n"
        "+---\n"
        "+\n"
        "+## Log\n"
        f"new: {vault / '李伟.md'}\n"
        "--- /dev/null\n"
        "+++ b/李伟.md\n"
        "@@ -0,0 +1,11 @@\n"
        "+---\n"
        "+name: 李伟\n"
        "+first_name: 伟\n"
        "+last_name: 李\n"
        "+birthday: --04-14\n"
        "+anniversary: 2010-06-01\n"
        "+email: li@example.cn\n"
        "+phone: +86-10-1234-5678\n"
        "+---\n"
        "+\n"
        "+## Log\n"
        "2 new, 0 changed, 0 unchanged, 0 skipped\n"
    )
    assert CliRunner().invoke(main, ["--vault", str(vault), "check"]).exit_code == 0


def test_reimport_matches_and_fills_only_what_is_missing(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            # Another full name, but the same first and last name: the same person.
            "grace.md": "---\nname: Grace O.\nfirst_name: Grace\nlast_name: Okafor\n"
            "email: GRACE@example.com  # main address\ncompany: Braids Ltd\ntags:\n  - vip\n"
            "---\n\nHand-written notes stay.\n",
            "phone-only.md": "---\nname: 李伟\nfirst_name: Li\nphone: '+861012345678'\n---\n",
        }
    )
    source = imported(root.parent, "apple.vcf", APPLE_30 + NEXTCLOUD_40)
    code, out, err = run(root, "import", str(source))
    assert (code, err) == (0, "")
    grace = root / "grace.md"
    assert out == (
        f"changed: {grace}\n"
        "--- a/grace.md\n"
        "+++ b/grace.md\n"
        "@@ -5 +5 @@\n"
        "-email: GRACE@example.com  # main address\n"
        "+email: [GRACE@example.com, grace@work.example]  # main address\n"
        "@@ -8,0 +9,5 @@\n"
        "+  - regular\n"
        "+address: {street: 12 Camden Road, city: London, postcode: NW1 9LR, country: United Kingdom}\n"
        "+birthday: --07-09\n"
        "+anniversary: 2012-09-01\n"
        "+phone: +44 7700 900123\n"
        f"changed: {root / 'phone-only.md'}\n"
        "--- a/phone-only.md\n"
        "+++ b/phone-only.md\n"
        "@@ -4,0 +5,4 @@\n"
        "+last_name: 李\n"
        "+birthday: --04-14\n"
        "+anniversary: 2010-06-01\n"
        "+email: li@example.cn\n"
        f"{grace}: kept company 'Braids Ltd'; {source}:1 says 'Okafor Braids'\n"
        f"{root / 'phone-only.md'}: kept first_name 'Li'; {source}:20 says '伟'\n"
        "0 new, 2 changed, 0 unchanged, 0 skipped\n"
    )
    assert grace.read_text(encoding="utf-8").endswith("---\n\nHand-written notes stay.\n")
    before = snapshot(root)
    code, out, _ = run(root, "import", str(source))
    assert code == 0
    assert out.endswith("0 new, 0 changed, 2 unchanged, 0 skipped\n")
    assert snapshot(root) == before


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("phone.vcf", ANDROID_21 + APPLE_30 + NEXTCLOUD_40),
        ("google.csv", GOOGLE_CSV),
        ("outlook.csv", OUTLOOK_CSV),
    ],
)
def test_second_import_changes_nothing(vault: Path, tmp_path: Path, name: str, text: str) -> None:
    source = imported(tmp_path, name, text)
    first = run(vault, "import", str(source))
    assert first[0] in (0, 1)
    before = snapshot(vault)
    code, out, _ = run(vault, "import", str(source))
    assert out.splitlines()[-1].startswith("0 new, 0 changed, ")
    assert code == first[0]
    assert snapshot(vault) == before


def test_dry_run_writes_nothing_and_shows_the_same_diff(vault: Path, tmp_path: Path) -> None:
    (vault / "grace.md").write_text("---\nname: Grace Okafor\nfirst_name: Grace\n---\n")
    source = imported(tmp_path, "all.vcf", ANDROID_21 + APPLE_30)
    before = snapshot(vault)
    code, dry, _ = run(vault, "import", str(source), "--dry-run")
    assert code == 0
    assert snapshot(vault) == before
    assert dry.endswith("1 new, 1 changed, 0 unchanged, 0 skipped (dry run: nothing written)\n")
    code, real, _ = run(vault, "import", str(source))
    assert real == dry.replace(" (dry run: nothing written)", "")
    assert snapshot(vault) != before


def test_bad_rows_are_reported_and_the_rest_imports(vault: Path, tmp_path: Path) -> None:
    source = imported(tmp_path, "google.csv", GOOGLE_CSV)
    code, out, err = run(vault, "import", str(source))
    assert code == 1
    assert err == (
        f"{source}:4: Tom Becker: Birthday '1979-13-40' is not a date; "
        "imported without a birthday\n"
    )
    assert out.endswith("3 new, 0 changed, 0 unchanged, 0 skipped, 1 value left out\n")
    assert sorted(p.name for p in vault.glob("*.md")) == [
        "ana-garcia.md",
        "noah-kim.md",
        "tom-becker.md",
    ]
    assert "birthday" not in (vault / "tom-becker.md").read_text(encoding="utf-8")


def test_csv_with_map(vault: Path, tmp_path: Path) -> None:
    source = imported(
        tmp_path,
        "shop.csv",
        "Kunde;Mail;Umsatz;Intern\nJosé Núñez;jose@example.es;1.250;x\n;;;\n",
    )
    code, out, err = run(
        vault, "import", str(source), "--map", "Kunde=name", "--map", "Mail=email",
        "--map", "Umsatz=value", "--map", "Intern=",
    )  # fmt: skip
    assert (code, err) == (0, "")
    text = (vault / "jose-nunez.md").read_text(encoding="utf-8")
    assert "email: jose@example.es\n" in text and "value: 1.25\n" in text
    code, _, err = run(vault, "import", str(source), "--map", "Nope=name")
    assert (code, err) == (2, "crm: --map: no column 'Nope' in the header\n")
    code, _, err = run(vault, "import", str(source), "--map", "Kunde=pet_name")
    assert code == 2 and err.startswith("crm: --map: unknown field 'pet_name'")


def test_cards_for_one_person_merge(vault: Path, tmp_path: Path) -> None:
    twice = APPLE_30 + APPLE_30.replace("grace@work.example", "g.okafor@example.org")
    source = imported(tmp_path, "twice.vcf", twice)
    code, out, _ = run(vault, "import", str(source))
    assert out.endswith("1 new, 0 changed, 0 unchanged, 0 skipped\n")
    text = (vault / "grace-okafor.md").read_text(encoding="utf-8")
    assert "email: [grace@example.com, grace@work.example, g.okafor@example.org]\n" in text


def without_locations(value: Any) -> Any:
    """Return ``value`` (customers, dates, log entries) with every ``location`` field dropped."""
    if isinstance(value, Location):
        return None
    if isinstance(value, tuple | list):
        return type(value)(without_locations(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: without_locations(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.name != "location"
        }
    return value


def whole_customers(root: Path) -> list[Any]:
    vault = load_vault(root, load_config(root)[0])
    assert vault.problems == ()
    return sorted(without_locations(list(vault.customers)), key=lambda c: c["id"])


def test_vcard_round_trip(vault: Path, tmp_path: Path) -> None:
    """Every example customer exported as vCard re-imports to the same whole customer.

    But for the family: a list of people has no vCard form (it travels in JSON exports).
    """
    exported = CliRunner().invoke(main, ["--vault", str(EXAMPLE), "export"]).stdout_bytes
    source = tmp_path / "all.vcf"
    source.write_bytes(exported)
    code, out, err = run(vault, "import", str(source))
    assert (code, err) == (0, "")
    assert out.endswith("22 new, 0 changed, 0 unchanged, 0 skipped\n")
    want, got = whole_customers(EXAMPLE), whole_customers(vault)
    assert len(got) == 22
    assert [c["id"] for c in want if c["family"]] == ["ana-garcia", "david-cohen"]
    assert got == [c | {"family": ()} for c in want]
    # Importing the export into the vault it came from changes nothing.
    before = snapshot(vault)
    assert run(vault, "import", str(source))[1].endswith(
        "0 new, 0 changed, 22 unchanged, 0 skipped\n"
    )
    assert snapshot(vault) == before


def test_plan_is_pure() -> None:
    cards, _ = parse_vcards(APPLE_30, Path("a.vcf"))
    plan = plan_import(cards, [])
    assert [a.name for a in plan.additions] == ["Grace Okafor"]
    assert (plan.updates, plan.unchanged) == ((), 0)


def test_import_help() -> None:
    result = CliRunner().invoke(main, ["import", "--help"])
    assert result.exit_code == 0
    assert "crm import contacts.vcf --dry-run" in result.output


def test_unfolded_21_photo_lines_are_skipped_too() -> None:
    text = (
        "BEGIN:VCARD\nVERSION:2.1\nN:Lee;Ann\nPHOTO;ENCODING=BASE64;TYPE=JPEG:/9j/4AAQSkZJRgABAQ\n"
        "AAAQABAAD/2wBDAAMCAgICAgMCAgIDAwMDBAYEBAQEBAgGBgUGCQgKCgkICQkKDA8MCgsOCwkJDRENDg8Q\n"
        "EBEQCgwSExIQEw8QEBD/==\n\nTEL;WORK:+1 555 0100\nEND:VCARD\n"
    )
    cards, problems = parse_vcards(text, Path("old.vcf"))
    assert problems == []
    assert [(c.name, c.items("phone")) for c in cards] == [("Ann Lee", ("+1 555 0100",))]


def test_a_file_with_problems_is_not_edited(write_vault: WriteVault, tmp_path: Path) -> None:
    root = write_vault(
        {"grace.md": "---\nname: Grace Okafor\nfirst_name: Grace\nstatus: gone\n---\n"}
    )
    source = imported(tmp_path, "apple.vcf", APPLE_30)
    before = snapshot(root)
    for dry in (["--dry-run"], []):
        code, out, err = run(root, "import", str(source), *dry)
        assert code == 1
        assert err.startswith(
            f"{source}:1: not imported: refusing to edit {root / 'grace.md'}: fix its problems"
        )
        assert "0 new, 0 changed, 0 unchanged, 1 skipped" in out
    assert snapshot(root) == before


@pytest.mark.parametrize(
    ("bday", "want"),
    [
        ("BDAY:--0414", "--04-14"),
        ("BDAY:--04-14", "--04-14"),
        ("BDAY;VALUE=date:19850414", "1985-04-14"),
        ("BDAY:1985-04-14T00:00:00Z", "1985-04-14"),
        ("BDAY;X-APPLE-OMIT-YEAR=1604:1604-04-14", "--04-14"),
        ("BDAY:1604-04-14", "--04-14"),
        ("BDAY:--0229", "--02-29"),
    ],
)
def test_birthday_forms(bday: str, want: str) -> None:
    cards, problems = parse_vcards(
        f"BEGIN:VCARD\nVERSION:3.0\nFN:A B\n{bday}\nEND:VCARD\n", Path("b.vcf")
    )
    assert problems == []
    assert cards[0].get("birthday") == want


def test_folded_lines_are_unfolded() -> None:
    text = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Maximilian Alexander von und zu Hohenberg-Schön\r\n"
        " brunn\r\nEMAIL;TYPE=INTERNET:maximilian.alexander@a-very-long-domain-name.exa\r\n"
        "\tmple.com\r\nEND:VCARD\r\n"
    )
    cards, problems = parse_vcards(text, Path("f.vcf"))
    assert problems == []
    assert cards[0].name == "Maximilian Alexander von und zu Hohenberg-Schönbrunn"
    assert cards[0].items("email") == ("maximilian.alexander@a-very-long-domain-name.example.com",)


@pytest.mark.parametrize(
    ("fn", "first", "last"),
    [
        ("李 小龙", "小龙", "李"),
        ("김 민준", "민준", "김"),
        ("山田 太郎", "太郎", "山田"),
        ("李伟", None, None),
        ("Ann Marie Lee", "Ann", "Marie Lee"),
    ],
)
def test_a_name_without_n_is_split_by_its_script(
    fn: str, first: str | None, last: str | None
) -> None:
    cards, problems = parse_vcards(f"BEGIN:VCARD\nVERSION:3.0\nFN:{fn}\nEND:VCARD\n", Path("n.vcf"))
    assert problems == []
    assert (cards[0].name, cards[0].get("first_name"), cards[0].get("last_name")) == (
        fn,
        first,
        last,
    )


def test_a_cjk_name_becomes_a_customer_family_name_first(vault: Path, tmp_path: Path) -> None:
    source = imported(tmp_path, "cjk.vcf", "BEGIN:VCARD\nVERSION:3.0\nFN:李 小龙\nEND:VCARD\n")
    code, _, err = run(vault, "import", str(source))
    assert (code, err) == (0, "")
    assert (vault / "李-小龙.md").read_text(encoding="utf-8") == (
        "---\nname: 李 小龙\nfirst_name: 小龙\nlast_name: 李\n---\n\n## Log\n"
    )


LUCAS = """BEGIN:VCARD
VERSION:3.0
FN:Lucas Silva
EMAIL:lucas@example.br
NOTE:From the card.\\n\\n## Log\\n- 2026-09-01 meeting: coffee
X-CRM-DATE:2021-12-01 Opening of his barbershop
X-CRM-DATE;X-YEARLY=FALSE:2026-03-01 Moved\\; new shop
X-CRM-AWAY:2026-11-10/2026-12-15
X-CRM-LAST-CONTACT:2026-09-10
X-CRM-NEXT-CONTACT:2026-11-25 14:30
X-CRM-SNOOZE-UNTIL:2026-12-01
X-CRM-MAX-CONTACTS:2/30d
END:VCARD
"""


def test_a_new_customer_gets_the_note_as_its_body_and_every_crm_field(
    vault: Path, tmp_path: Path
) -> None:
    source = imported(tmp_path, "lucas.vcf", LUCAS)
    code, _, err = run(vault, "import", str(source))
    assert (code, err) == (0, "")
    assert (vault / "lucas-silva.md").read_text(encoding="utf-8") == (
        "---\n"
        "name: Lucas Silva\n"
        "first_name: Lucas\n"
        "last_name: Silva\n"
        "last_contact: 2026-09-10\n"
        "next_contact: 2026-11-25 14:30\n"
        "snooze_until: 2026-12-01\n"
        "away: {from: 2026-11-10, to: 2026-12-15}\n"
        "max_contacts: 2/30d\n"
        "email: lucas@example.br\n"
        "dates: [{label: Opening of his barbershop, date: 2021-12-01}, "
        "{label: Moved; new shop, date: 2026-03-01, yearly: false}]\n"
        "---\n"
        "\n"
        "From the card.\n"
        "\n"
        "## Log\n"
        "- 2026-09-01 meeting: coffee\n"
    )


def test_a_matched_customer_gets_missing_crm_fields_but_keeps_its_body(
    write_vault: WriteVault, tmp_path: Path
) -> None:
    root = write_vault(
        {
            "lucas.md": "---\nname: Lucas Silva\nemail: lucas@example.br\n"
            "last_contact: 2026-10-01\n---\n\nMy own notes.\n",
        }
    )
    source = imported(tmp_path, "lucas.vcf", LUCAS)
    code, out, err = run(root, "import", str(source))
    assert (code, err) == (0, "")
    lucas = root / "lucas.md"
    assert out == (
        f"changed: {lucas}\n"
        "--- a/lucas.md\n"
        "+++ b/lucas.md\n"
        "@@ -4,0 +5,7 @@\n"
        "+first_name: Lucas\n"
        "+last_name: Silva\n"
        "+next_contact: 2026-11-25 14:30\n"
        "+snooze_until: 2026-12-01\n"
        "+away: {from: 2026-11-10, to: 2026-12-15}\n"
        "+max_contacts: 2/30d\n"
        "+dates: [{label: Opening of his barbershop, date: 2021-12-01}, "
        "{label: Moved; new shop, date: 2026-03-01, yearly: false}]\n"
        f"{lucas}: kept last_contact '2026-10-01'; {source}:1 says '2026-09-10'\n"
        "0 new, 1 changed, 0 unchanged, 0 skipped\n"
    )
    assert lucas.read_text(encoding="utf-8").endswith("---\n\nMy own notes.\n")
    before = snapshot(root)
    assert run(root, "import", str(source))[1].endswith(
        "0 new, 0 changed, 1 unchanged, 0 skipped\n"
    )
    assert snapshot(root) == before


def test_bad_crm_values_cost_only_their_field() -> None:
    text = (
        "BEGIN:VCARD\nVERSION:3.0\nFN:A B\nX-CRM-AWAY:2026-12-15/2026-11-10\nEND:VCARD\n"
        "BEGIN:VCARD\nVERSION:3.0\nFN:C D\nX-CRM-DATE;X-YEARLY=FALSE:--03-01 Once\n"
        "X-CRM-VALUE:12\nEND:VCARD\n"
    )
    cards, problems = parse_vcards(text, Path("bad.vcf"))
    assert [(c.name, c.fields) for c in cards] == [
        ("A B", (("first_name", "A"), ("last_name", "B"))),
        ("C D", (("first_name", "C"), ("last_name", "D"), ("value", "12"))),
    ]
    assert [str(p) for p in problems] == [
        "bad.vcf:4: A B: X-CRM-AWAY '2026-12-15/2026-11-10' is not a date range; "
        "imported without the away dates",
        "bad.vcf:9: C D: X-CRM-DATE '--03-01 once Once' is not a date; imported without that date",
    ]


def test_new_customer_body_replaces_the_template_body(vault: Path) -> None:
    made = new_customer(
        vault, Config(), "Ann Lee", {}, today=date(2026, 11, 23), existing=(), body="\nHi.\n"
    )
    assert made.path.read_text(encoding="utf-8") == (
        "---\nname: Ann Lee\nfirst_name: Ann\nlast_name: Lee\n---\n\nHi.\n"
    )


def test_crm_set_still_refuses_dates(write_vault: WriteVault) -> None:
    root = write_vault({"ann.md": "---\nname: Ann Lee\n---\n"})
    before = snapshot(root)
    result = CliRunner().invoke(
        main, ["--vault", str(root), "set", "ann", "dates=[{label: X, date: 2020-01-01}]"]
    )
    assert (result.exit_code, result.stderr) == (
        2,
        "crm: dates is a list of mappings; change it with crm edit\n",
    )
    assert snapshot(root) == before
