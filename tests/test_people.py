"""A fuller person: address text or parts, labels, nickname, salutation, language, family, show."""

from __future__ import annotations

from pathlib import Path

import icalendar
import pypdf
from click.testing import CliRunner

from crm.cli import main
from crm.core.model import Address
from crm.vault.parse import parse_bytes
from tests.conftest import WriteVault

TODAY = "2026-11-23"
ANA = """---
name: Ana García
first_name: Ana
nickname: Anita
salutation: Señora García
language: es
address:
  street: Calle Mayor 5
  postcode: "28013"
  city: Madrid
  country: Spain
  floor: 3rd
family:
  - {name: Lucía, relation: daughter, birthday: 2008-12-05}
  - name: Jonas
    relation: husband
    birthday: --12-24
  - name: Pia
cadence: 21d
max_contacts: 2/30d
---

Always books the window seat.

## Log
- 2026-11-02 call: booked
- 2026-11-10 text: photos
- 2026-11-20 email: offer
- [ ] 2026-12-01 call: confirm the booking
- [ ] ask how Lucía likes university
- [x] 2026-11-15 call: confirmed
"""
ZOE = """---
name: Zoë Müller
first_name: Zoë
birthday: --12-01
address: |
  Kastanienallee 5
  10435 Berlin
---
"""
BEN = """---
name: Ben Ode
first_name: Ben
address: Berliner Straße 1, 80331 München
company: Ode & Co
---
"""
TOM = "---\nname: Tom Ash\nfirst_name: Tom\naddress: Hamburg\n---\n"
NOBODY = "---\nname: Nia Bell\nfirst_name: Nia\n---\n"


def run(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--vault", str(root), *args])
    return result.exit_code, result.stdout, result.stderr


def people(write_vault: WriteVault) -> Path:
    return write_vault(
        {"ana.md": ANA, "zoe.md": ZOE, "ben.md": BEN, "tom.md": TOM, "nia.md": NOBODY}
    )


def test_an_address_is_text_or_parts_and_keeps_other_keys() -> None:
    c, problems = parse_bytes(ANA.encode(), Path("ana.md"), "ana")
    assert problems == []
    assert c is not None
    assert c.address == Address(
        None, "Calle Mayor 5", "Madrid", None, "28013", "Spain", (("floor", "3rd"),)
    )
    assert c.address.lines() == ("Calle Mayor 5", "28013 Madrid", "Spain")
    z, _ = parse_bytes(ZOE.encode(), Path("zoe.md"), "zoe")
    assert z is not None and z.address == Address("Kastanienallee 5\n10435 Berlin")
    assert (c.nickname, c.salutation, c.language, c.hello) == (
        "Anita", "Señora García", "es", "Señora García",
    )  # fmt: skip


def test_a_bad_address_or_family_drops_only_that_field() -> None:
    text = (
        "---\nname: Kim\nfirst_name: Kim\naddress: [a, b]\nfamily:\n"
        "  - {name: Jo, birthday: 2019-02-30}\n  - {relation: son}\ncompany: Lumen\n---\n"
    )
    c, problems = parse_bytes(text.encode(), Path("kim.md"), "kim")
    assert c is not None and (c.company, c.address) == ("Lumen", None)
    assert [(r.name, r.birthday) for r in c.family] == [("Jo", None)]
    assert [str(p) for p in problems] == [
        "kim.md:4: address must be text or a mapping of street, city, region, postcode, country",
        "kim.md:5: family item 1 (Jo): birthday: '2019-02-30' is not a real date "
        "(day is out of range for month)",
        "kim.md:5: family item 2 needs a 'name'",
    ]


def test_show_prints_names_address_lines_family_plans_notes_and_the_limit(
    write_vault: WriteVault,
) -> None:
    root = people(write_vault)
    code, out, err = run(root, "show", "anita", "--today", TODAY)
    assert (code, err) == (0, "")
    assert out == (
        "Ana García (ana)  active\n"
        "  first name:     Ana\n"
        "  nickname:       Anita\n"
        "  salutation:     Señora García\n"
        "  language:       es\n"
        "  address:        Calle Mayor 5\n"
        "                  28013 Madrid\n"
        "                  Spain\n"
        "  family:         Lucía (daughter), born 2008-12-05\n"
        "                  Jonas (husband), birthday --12-24\n"
        "                  Pia\n"
        "  contact:        on track, every 21d, last 2026-11-20 (email), due 2026-12-11\n"
        "  max contacts:   2/30d\n"
        "  too much:       4 since 2026-10-25, over 2/30d: give a rest\n"
        "Next dates:\n"
        "  2026-12-05  daughter Lucía turns 18\n"
        "  2026-12-11  reach out\n"
        "  2026-12-24  husband Jonas's birthday\n"
        "Planned:\n"
        "  2026-12-01 call: confirm the booking\n"
        "  ask how Lucía likes university\n"
        "Latest log:\n"
        "  2026-11-20 email: offer\n"
        "  2026-11-15 call: confirmed\n"
        "  2026-11-10 text: photos\n"
        "  2026-11-02 call: booked\n"
        "Notes:\n"
        "  Always books the window seat.\n"
        f"File: {root / 'ana.md'}\n"
    )


def test_city_and_country_filters_read_parts_and_whole_words_of_text(
    write_vault: WriteVault,
) -> None:
    root = people(write_vault)
    assert run(root, "list", "--city", "berlin")[1] == (
        "ID   NAME        STATUS  TAGS\nzoe  Zoë Müller  active\n"
    )  # not Ben, who lives on the Berliner Straße in München
    assert run(root, "list", "--city", "MADRID")[1].splitlines()[1:] == ["ana  Ana García  active"]
    assert run(root, "list", "--country", "spain", "--format", "csv")[1] == (
        "id,name,first_name,status,tags,segment,company,email,phone,path,no_contact\n"
        f"ana,Ana García,Ana,active,,,,,,{root / 'ana.md'},False\n"
    )
    assert run(root, "list", "--city", "Lisbon")[1] == "No customers.\n"


def test_search_finds_the_street_and_the_city(write_vault: WriteVault) -> None:
    root = people(write_vault)
    assert run(root, "search", "mayor")[1].splitlines()[1].startswith("ana ")
    assert [line.split()[0] for line in run(root, "search", "berlin")[1].splitlines()[1:]] == [
        "ben", "zoe",
    ]  # fmt: skip


def test_family_birthdays_are_in_upcoming_the_agenda_and_the_feed(
    write_vault: WriteVault,
) -> None:
    root = people(write_vault)
    code, out, _ = run(root, "upcoming", "--days", "40", "--today", TODAY, "--format", "csv")
    assert code == 0
    rows = [line.split(",") for line in out.splitlines()[1:]]
    assert [(r[0], r[5], r[6], r[7], r[9]) for r in rows if r[4] == "relative"] == [
        ("2026-12-05", "daughter Lucía", "18", "", "daughter Lucía turns 18"),
        ("2026-12-24", "husband Jonas", "", "", "husband Jonas's birthday"),
    ]
    assert (
        "  2026-12-05  in 12d  Ana García  daughter Lucía turns 18\n"
        in (run(root, "agenda", "--today", TODAY)[1])
    )
    code, feed, _ = run(root, "ics", "--today", TODAY)
    events = icalendar.Calendar.from_ical(feed).walk("VEVENT")
    relatives = sorted(
        (str(e["UID"]), str(e["SUMMARY"])) for e in events if str(e["UID"]).startswith("rel")
    )
    assert relatives == [
        ("relative-ana-17725a0f-2026@crm", "Ana García's husband Jonas's birthday"),
        ("relative-ana-17725a0f-2027@crm", "Ana García's husband Jonas's birthday"),
        ("relative-ana-fd481719-2026@crm", "Ana García's daughter Lucía turns 18"),
        ("relative-ana-fd481719-2027@crm", "Ana García's daughter Lucía turns 19"),
    ]


def test_labels_as_text_and_csv_name_everyone_without_an_address(
    write_vault: WriteVault,
) -> None:
    root = people(write_vault)
    code, out, err = run(root, "labels")
    assert code == 0
    assert out == (
        "Ana García\nCalle Mayor 5\n28013 Madrid\nSpain\n"
        "\n"
        "Ben Ode\nOde & Co\nBerliner Straße 1\n80331 München\n"
        "\n"
        "Zoë Müller\nKastanienallee 5\n10435 Berlin\n"
    )
    assert err == (
        f"{root / 'nia.md'}: no label for Nia Bell: no address\n"
        f"{root / 'tom.md'}: no label for Tom Ash: address 'Hamburg' is not enough for a letter\n"
        "3 labels, 2 without an address\n"
    )
    code, out, _ = run(root, "labels", "--format", "csv", "--city", "madrid")
    assert out == (
        "id,name,company,address,street,city,region,postcode,country\n"
        'ana,Ana García,,"Calle Mayor 5, 28013 Madrid, Spain",Calle Mayor 5,Madrid,,28013,Spain\n'
    )


def test_labels_pdf_fills_sheets_of_the_layout(write_vault: WriteVault, tmp_path: Path) -> None:
    many = {
        f"p{n:02}.md": f"---\nname: Person {n:02}\nfirst_name: P\n"
        f"address: {{street: Road {n}, city: Town, postcode: '{10000 + n}'}}\n---\n"
        for n in range(23)
    }
    root = write_vault(many)
    out = tmp_path / "labels.pdf"
    code, _, err = run(root, "labels", "--format", "pdf", "-o", str(out), "--today", TODAY)
    assert (code, err.splitlines()[-1]) == (0, "23 labels, 0 without an address")
    pdf = pypdf.PdfReader(out)
    assert [round(float(p.mediabox.width)) for p in pdf.pages] == [595, 595]  # A4: 21 + 2
    first = pdf.pages[0].extract_text()
    assert "Person 00\nRoad 0\n10000 Town" in first and "Person 20" in first
    assert "Person 21" not in first and "Person 22" in pdf.pages[1].extract_text()
    again = tmp_path / "again.pdf"
    run(root, "labels", "--format", "pdf", "-o", str(again), "--today", TODAY)
    assert again.read_bytes() == out.read_bytes()
    letter = tmp_path / "letter.pdf"
    run(root, "labels", "--format", "pdf", "--layout", "3x10", "-o", str(letter))
    pages = pypdf.PdfReader(letter).pages
    assert [(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in pages] == [
        (612, 792)
    ]


def test_address_parts_and_nickname_travel_through_vcard_and_csv(
    write_vault: WriteVault, tmp_path: Path
) -> None:
    root = people(write_vault)
    code, vcf, _ = run(root, "export", "--city", "madrid")
    assert code == 0
    assert "ADR:;;Calle Mayor 5;Madrid;;28013;Spain\n" in vcf and "NICKNAME:Anita\n" in vcf
    code, csv, _ = run(root, "export", "--format", "csv", "--city", "madrid")
    header, row = csv.splitlines()
    assert header.startswith("id,name,first_name,last_name,nickname,salutation,language,email,")
    assert ',"Calle Mayor 5, 28013 Madrid, Spain",Calle Mayor 5,Madrid,,28013,Spain,' in row
    for suffix, data in (("vcf", vcf), ("csv", csv)):
        target = tmp_path / f"into-{suffix}"
        target.mkdir()
        (target / "crm.toml").write_text("", encoding="utf-8")
        source = tmp_path / f"ana.{suffix}"
        source.write_text(data, encoding="utf-8")
        code, _, err = run(target, "import", str(source))
        assert (code, err) == (0, "")
        text = (target / "ana-garcia.md").read_text(encoding="utf-8")
        assert (
            'address: {street: Calle Mayor 5, city: Madrid, postcode: "28013", country: Spain}\n'
            in text
        )
        assert "nickname: Anita\n" in text and "salutation: Señora García\n" in text


def test_the_feed_filters_on_the_city_from_its_cached_blocks(write_vault: WriteVault) -> None:
    root = people(write_vault)
    everyone = run(root, "ics", "--today", TODAY)[1]
    assert "Ana García" in everyone
    for _ in range(2):  # the first run renders and stores the blocks, the second reads them
        code, feed, _ = run(root, "ics", "--today", TODAY, "--city", "berlin")
        assert code == 0 and "Ana García" not in feed and "Zoë Müller" in feed


def test_show_says_how_many_log_lines_it_left_out(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "kim.md": "---\nname: Kim Lee\nfirst_name: Kim\n---\n\n## Log\n"
            "- 2026-11-02 cut and colour\n- 2026-13-01 call: no such month\n- called her\n"
        }
    )
    code, out, err = run(root, "show", "kim", "--today", TODAY)
    assert (code, err) == (0, "")
    assert out.splitlines()[-4:] == [
        "Latest log:",
        "  2026-11-02 - cut and colour",
        "  (2 Log lines could not be read and are left out: crm check)",
        f"File: {root / 'kim.md'}",
    ]
    code, out, _ = run(root, "show", "kim", "--today", TODAY, "--format", "json")
    assert '"skipped_log_lines": 2' in out
    code, _, err = run(root, "check")
    assert (code, err) == (
        0,
        f"{root / 'kim.md'}:8: warning: log line skipped: month 13 in '2026-13-01'\n"
        f"{root / 'kim.md'}:9: warning: log line skipped: no date at the start "
        "(write e.g. '- 2026-11-02 call: text')\n",
    )


def test_a_nickname_or_salutation_is_enough_to_greet() -> None:
    for extra, warned in (("", True), ("nickname: Bo\n", False), ("salutation: Herr Li\n", False)):
        text = f"---\nname: Bo Li\n{extra}---\n"
        c, problems = parse_bytes(text.encode(), Path("bo.md"), "bo")
        assert c is not None
        assert [str(p) for p in problems] == (
            ["bo.md:2: warning: no first_name: add one so greetings can use it"] if warned else []
        )


def test_show_prints_the_first_lines_of_long_notes(write_vault: WriteVault) -> None:
    body = "".join(f"line {n}\n" for n in range(1, 101))
    root = write_vault({"kim.md": f"---\nname: Kim Lee\nfirst_name: Kim\n---\n{body}"})
    out = run(root, "show", "kim", "--today", TODAY)[1].splitlines()
    assert out[-4:] == [
        "  line 39",
        "  line 40",
        "  … 60 more lines in the file",
        f"File: {root / 'kim.md'}",
    ]


def test_birthdays_may_be_written_as_people_write_them() -> None:
    text = (
        "---\nname: Rosa Klein\nfirst_name: Rosa\nbirthday: 3 March 1980\n"
        "anniversary: 14 June\n"
        "dates: [{label: Moved in, date: 'Mar 3, 2021'}]\n"
        "family: [{name: Mia, relation: daughter, birthday: 12.12.2015}]\n---\n"
    )
    c, problems = parse_bytes(text.encode(), Path("rosa.md"), "rosa")
    assert problems == []
    assert c is not None
    assert [(d.kind, str(d.date)) for d in c.important_dates()] == [
        ("birthday", "1980-03-03"),
        ("anniversary", "--06-14"),
        ("date", "2021-03-03"),
        ("relative", "2015-12-12"),
    ]


def test_a_written_birthday_that_is_wrong_says_which_part() -> None:
    text = "---\nname: Rosa Klein\nfirst_name: Rosa\nbirthday: 30 Feb 1980\n---\n"
    c, problems = parse_bytes(text.encode(), Path("rosa.md"), "rosa")
    assert [str(p) for p in problems] == [
        "rosa.md:4: birthday: day 30 in '30 Feb 1980' (February 1980 has 29 days)"
    ]
    assert c is not None and c.dates == ()


def test_slash_birthdays_read_by_date_order_like_the_log() -> None:
    text = b"---\nname: Rosa Klein\nfirst_name: Rosa\nbirthday: 03/04/1980\n---\n"
    c, problems = parse_bytes(text, Path("rosa.md"), "rosa")
    assert [str(p) for p in problems] == [
        "rosa.md:4: birthday: '03/04/1980' could be day/month or month/day: "
        'set date_order = "DMY" or "MDY" in crm.toml'
    ]
    for order, born in (("DMY", "1980-04-03"), ("MDY", "1980-03-04")):
        c, problems = parse_bytes(text, Path("rosa.md"), "rosa", date_order=order)
        assert problems == [] and c is not None
        assert str(c.dates[0].date) == born
