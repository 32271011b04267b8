"""`crm import` keeps a card with one bad value, and refuses a file that holds no cards at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import WriteVault
from tests.test_import import TEMPLATE, run

BOOK = (
    "BEGIN:VCARD\nVERSION:3.0\nFN:Ann Lee\nEMAIL:ann@example.com\nEND:VCARD\n"
    "\n"
    "BEGIN:VCARD\n"
    "VERSION:3.0\n"
    "FN:Tom Weber\n"
    "N:Weber;Tom;;;\n"
    "EMAIL:tom@example.com\n"
    "TEL:+49 30 1234\n"
    "NOTE:Met at the fair.\n"
    "ORG:Weber GmbH\n"
    "CATEGORIES:fair\n"
    "BDAY:1985-02-30\n"
    "END:VCARD\n"
)


@pytest.fixture
def vault(write_vault: WriteVault) -> Path:
    return write_vault({"templates/customer.md": TEMPLATE})


def test_a_card_with_a_bad_birthday_is_imported_without_it(vault: Path, tmp_path: Path) -> None:
    book = tmp_path / "book.vcf"
    book.write_text(BOOK, encoding="utf-8")
    code, out, err = run(vault, "import", str(book))
    assert (code, err) == (
        1,
        f"{book}:16: Tom Weber: BDAY '1985-02-30' is not a date; imported without a birthday\n",
    )
    assert out.endswith("2 new, 0 changed, 0 unchanged, 0 skipped, 1 value left out\n")
    tom = (vault / "tom-weber.md").read_text(encoding="utf-8")
    assert "email: tom@example.com" in tom and "company: Weber GmbH" in tom
    assert "Met at the fair." in tom and "birthday" not in tom
    # Importing again changes nothing, and says the same about the birthday.
    code, out, err = run(vault, "import", str(book))
    assert code == 1 and err.endswith("imported without a birthday\n")
    assert out == "0 new, 0 changed, 2 unchanged, 0 skipped, 1 value left out\n"


def test_a_csv_row_with_a_bad_value_names_its_column(vault: Path, tmp_path: Path) -> None:
    shop = tmp_path / "shop.csv"
    shop.write_text("name,email,value\nTom Weber,tom@example.com,lots\n", encoding="utf-8")
    code, out, err = run(vault, "import", str(shop))
    assert (code, err) == (
        1,
        f"{shop}:2: Tom Weber: value 'lots' is not a number; imported without its value\n",
    )
    assert out.endswith("1 new, 0 changed, 0 unchanged, 0 skipped, 1 value left out\n")
    assert "email: tom@example.com" in (vault / "tom-weber.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("notes.txt", "Call Tom about the fair.\nAnd Ann, next week.\nBuy milk.\n"),
        ("notes.vcf", "Call Tom about the fair.\nAnd Ann, next week.\n"),
        ("other.csv", "Kunde;Umsatz\nTom;12\nAnn;13\n"),
    ],
)
def test_a_file_that_is_neither_vcard_nor_csv_is_one_message(
    vault: Path, tmp_path: Path, name: str, text: str
) -> None:
    source = tmp_path / name
    source.write_text(text, encoding="utf-8")
    code, out, err = run(vault, "import", str(source))
    assert (code, out) == (1, "")
    assert err == (
        f"crm: {source}: not a vCard or CSV file: it has no BEGIN:VCARD line, and its first "
        "line is not a CSV header naming a field (name, first_name, email...); for other "
        "headers use --map COLUMN=FIELD\n"
    )
    assert sorted(p.name for p in vault.rglob("*.md")) == ["customer.md"]
