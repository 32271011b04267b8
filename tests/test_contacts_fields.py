"""The field table drives import and export: every field travels, and a new one needs no code."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from crm.cli import main
from crm.contacts.cards import card_fields, customer_text
from crm.contacts.csvcards import parse_csv
from crm.contacts.exporter import export
from crm.contacts.importer import current_values, plan_import
from crm.contacts.vcard import parse_vcards, to_vcard
from crm.core import fields
from crm.core.config import load_config
from crm.core.fields import FIELDS, Field, Kind, value_of
from crm.core.model import Customer, Location
from crm.vault.load import load_vault
from tests.conftest import WriteVault

# One front matter value per kind: a kind added to the table needs one here.
SAMPLES: dict[Kind, str] = {
    "text": "Some {key}",
    "texts": "[{key} 1, {key} 2]",  # digits: an import tells phones apart by their digits
    "status": "paused",
    "number": "1234.5",
    "date": "2021-03-04",
    "when": "2026-12-01 09:30",
    "span": "6w",
    "cap": "2/30d",
    "yearly": "--04-14",
    "away": "{from: 2026-12-20, to: 2027-01-05}",
    "dates": "[{label: Shop opening, date: 2021-12-01}, "
    "{label: Moved, date: 2026-03-01, yearly: false}]",
    "address": "{street: Main Street 1, city: Springfield, postcode: '12345', country: Freedonia}",
    "family": "[{name: Lucía, relation: daughter, birthday: 2018-12-05}]",
    "channel": "whatsapp",
    "optout": "[offers, sms]",
    "entity": "person",
    "person": "{name: Jane Doe, first_name: Jane}",
}
NAMES = {"id": "ann-lee", "name": "Ann Lee"}  # the file name an import makes from the name


def every_field() -> str:
    lines = [
        f"{f.key}: {NAMES.get(f.key) or SAMPLES[f.kind].replace('{key}', f.key)}" for f in FIELDS
    ]
    return "---\n" + "\n".join(lines) + "\n---\n\nNotes.\n"


def customer(root: Path) -> Customer:
    vault = load_vault(root, load_config(root)[0])
    assert vault.problems == ()
    (c,) = vault.customers
    return c


def carried(source: Customer, target: Customer) -> set[str]:
    """Return the keys of the fields that are set, and the same, in both customers."""
    found = {f.key: customer_text(source, f) for f in FIELDS}
    return {k for k, v in found.items() if v and v == customer_text(target, fields.field(k))}


@pytest.mark.parametrize(("fmt", "suffix"), [("vcard", "vcf"), ("csv", "csv")])
def test_every_field_goes_out_and_back(
    write_vault: WriteVault, tmp_path: Path, fmt: str, suffix: str
) -> None:
    root = write_vault({"ann-lee.md": every_field()})
    source = customer(root)
    assert all(value_of(source, f) not in (None, ()) for f in FIELDS)
    exported = CliRunner().invoke(main, ["--vault", str(root), "export", "--format", fmt])
    assert exported.exit_code == 0, exported.output
    file = tmp_path / f"out.{suffix}"
    file.write_bytes(exported.stdout_bytes)
    target = tmp_path / "empty"
    target.mkdir()
    (target / "crm.toml").write_text("", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["--vault", str(target), "import", str(file), "--today", "2026-11-23"]
    )
    assert (result.exit_code, result.stderr) == (0, ""), result.output
    got = customer(target)
    assert got.location.path.name == "ann-lee.md"
    # vCard carries every field with a property, CSV every column; `id` comes back because
    # the import names the new file from the name, as the source file was named.
    want = {f.key for f in FIELDS if (f.vcard if fmt == "vcard" else f.csv)} | {"id"}
    assert carried(source, got) == want


@dataclass(frozen=True, slots=True)
class Regular(Customer):
    """A customer with the three fields the patched table adds."""

    pet_name: str | None = None
    referrals: tuple[str, ...] = ()
    first_visit: date | None = None


NEW = (
    Field("pet_name", "text", "pet_name", vcard="X-CRM-PET-NAME"),
    Field("referrals", "texts", "referrals", vcard="X-CRM-REFERRAL"),
    Field("first_visit", "date", "first_visit", vcard="X-CRM-FIRST-VISIT"),
)


@pytest.fixture
def new_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fields, "FIELDS", FIELDS + NEW)


def test_a_field_added_to_the_table_is_exported_and_imported(new_fields: None) -> None:
    c = Regular(
        id="zoe",
        name="Zoë Lee",
        location=Location(Path("zoe.md")),
        first_name="Zoë",
        pet_name="Zee, Z",
        referrals=("Bo", "Cy; Di"),
        first_visit=date(2021, 3, 4),
    )
    vcf = to_vcard([c])
    for line in ("X-CRM-PET-NAME:Zee\\, Z", "X-CRM-REFERRAL:Bo", "X-CRM-REFERRAL:Cy\\; Di",
                 "X-CRM-FIRST-VISIT:2021-03-04"):  # fmt: skip
        assert line + "\r\n" in vcf
    header, row = export([c], "csv").splitlines()
    assert header.endswith(
        ",max_contacts,prefer,opt_out,kind,contact,pet_name,referrals,first_visit,notes,path"
    )
    assert (
        row
        == 'zoe,Zoë Lee,Zoë,,,,,,,,,,,,,,,,active,,,,,,,,,,,,,,,,"Zee, Z","Bo, Cy; Di",2021-03-04,,zoe.md'
    )
    (record,) = json.loads(export([c], "json"))
    assert [k for k in record if k in ("max_contacts", "pet_name", "referrals", "first_visit")] == [
        "max_contacts", "pet_name", "referrals", "first_visit",
    ]  # fmt: skip
    assert (record["pet_name"], record["referrals"], record["first_visit"]) == (
        "Zee, Z", ["Bo", "Cy; Di"], "2021-03-04",
    )  # fmt: skip

    cards, problems = parse_vcards(vcf, Path("zoe.vcf"))
    assert problems == []
    (card,) = cards
    assert (card.get("pet_name"), card.get("referrals"), card.get("first_visit")) == (
        "Zee, Z", ("Bo", "Cy; Di"), "2021-03-04",
    )  # fmt: skip
    # CSV splits a list cell at commas and semicolons, as it does for tags.
    cards, problems = parse_csv(export([c], "csv"), Path("zoe.csv"))
    assert problems == []
    (card,) = cards
    assert (card.get("pet_name"), card.get("referrals"), card.get("first_visit")) == (
        "Zee, Z", ("Bo", "Cy", "Di"), "2021-03-04",
    )  # fmt: skip

    # A one-line field is written before the lists, as in every new file.
    (addition,) = plan_import(parse_vcards(vcf, Path("zoe.vcf"))[0], []).additions
    assert [k for k, _ in addition.fields] == [
        "first_name", "status", "pet_name", "first_visit", "referrals",
    ]  # fmt: skip
    assert {k: current_values(c)[k] for k in ("pet_name", "referrals", "first_visit")} == {
        "pet_name": "Zee, Z", "referrals": ("Bo", "Cy; Di"), "first_visit": "2021-03-04",
    }  # fmt: skip


def test_a_bad_value_of_a_new_field_costs_only_that_field(new_fields: None) -> None:
    text = "BEGIN:VCARD\nVERSION:3.0\nFN:A B\nX-CRM-FIRST-VISIT:2021-02-30\nEND:VCARD\n"
    cards, problems = parse_vcards(text, Path("bad.vcf"))
    assert [c.name for c in cards] == ["A B"]
    assert [str(p) for p in problems] == [
        "bad.vcf:4: A B: X-CRM-FIRST-VISIT '2021-02-30' is not a date; "
        "imported without its first visit"
    ]


def test_cards_carry_every_field_but_the_identity_and_the_family() -> None:
    # A family (a list of people) has no vCard or CSV form; it travels in JSON exports.
    assert {f.key for f in card_fields()} == {f.key for f in FIELDS} - {"id", "name", "family"}
