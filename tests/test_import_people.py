"""Two people stay two: import merges only by UID, by a shared contact with an agreeing name, or
by the same full name; `crm check` lists customers who share an email or phone but not a name."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from crm.cli import main
from crm.contacts.importer import plan_import
from crm.contacts.vcard import parse_vcards
from crm.core.model import Customer, Location
from crm.rules.duplicates import PersonName, names_agree, phone_key, shared_contacts
from tests.conftest import WriteVault

TODAY = "2026-11-23"
TEMPLATE = "---\nname: {name}\nfirst_name: {first_name}\nlast_name: {last_name}\n---\n\n## Log\n"

# Two different people (other surname, company, birthday) who share one home email.
ANA_AND_TOMAS = """BEGIN:VCARD
VERSION:3.0
FN:Ana Ruiz
N:Ruiz;Ana;;;
EMAIL;TYPE=HOME:ana@example.com
ORG:Ruiz Flores
BDAY:1984-03-02
END:VCARD
BEGIN:VCARD
VERSION:3.0
FN:Tomás Ortega
N:Ortega;Tomás;;;
EMAIL;TYPE=HOME:ana@example.com
ORG:Ortega Taller
BDAY:1979-11-20
END:VCARD
"""

ANA_FILE = (
    "---\nname: Ana Ruiz\nfirst_name: Ana\nlast_name: Ruiz\nemail: Ana@Example.com\n"
    "company: Ruiz Flores\n---\n"
)


def card(fn: str, *lines: str) -> str:
    return (
        "BEGIN:VCARD\nVERSION:3.0\nFN:"
        + fn
        + "\n"
        + "".join(f"{x}\n" for x in lines)
        + ("END:VCARD\n")
    )


def run(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--vault", str(root), *args, "--today", TODAY])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout, result.stderr


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".crm" not in p.relative_to(root).parts
    }


@pytest.fixture
def vault(write_vault: WriteVault, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = write_vault({"templates/customer.md": TEMPLATE})
    monkeypatch.chdir(root)  # crm check shows paths relative to the working folder
    return root


def source(tmp_path: Path, text: str, name: str = "contacts.vcf") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_two_cards_sharing_an_email_make_two_customers_and_a_warning(
    vault: Path, tmp_path: Path
) -> None:
    vcf = source(tmp_path, ANA_AND_TOMAS)
    code, out, err = run(vault, "import", str(vcf))
    ana, tomas = vault / "ana-ruiz.md", vault / "tomas-ortega.md"
    assert (code, err) == (0, "")
    assert out == (
        f"new: {ana}\n"
        "--- /dev/null\n"
        "+++ b/ana-ruiz.md\n"
        "@@ -0,0 +1,10 @@\n"
        "+---\n"
        "+name: Ana Ruiz\n"
        "+first_name: Ana\n"
        "+last_name: Ruiz\n"
        "+company: Ruiz Flores\n"
        "+birthday: 1984-03-02\n"
        "+email: ana@example.com\n"
        "+---\n"
        "+\n"
        "+## Log\n"
        f"new: {tomas}\n"
        "--- /dev/null\n"
        "+++ b/tomas-ortega.md\n"
        "@@ -0,0 +1,10 @@\n"
        "+---\n"
        "+name: Tomás Ortega\n"
        "+first_name: Tomás\n"
        "+last_name: Ortega\n"
        "+company: Ortega Taller\n"
        "+birthday: 1979-11-20\n"
        "+email: ana@example.com\n"
        "+---\n"
        "+\n"
        "+## Log\n"
        f"possible duplicate: {ana} and {tomas} share ana@example.com\n"
        "2 new, 0 changed, 0 unchanged, 0 skipped, 1 possible duplicate (see crm check)\n"
    )
    warning = (
        "tomas-ortega.md:1: warning: possible duplicate of ana-ruiz.md: "
        "both have email ana@example.com\n"
    )
    assert run(vault, "check") == (0, "", warning)
    assert run(vault, "check", "--strict") == (1, "", warning)
    # Importing the same file again finds both people, and says nothing new.
    before = snapshot(vault)
    assert run(vault, "import", str(vcf)) == (0, "0 new, 0 changed, 2 unchanged, 0 skipped\n", "")
    assert snapshot(vault) == before


def test_a_card_with_an_existing_customers_email_but_another_name_is_a_new_customer(
    write_vault: WriteVault, tmp_path: Path
) -> None:
    root = write_vault({"templates/customer.md": TEMPLATE, "ana-ruiz.md": ANA_FILE})
    vcf = source(tmp_path, card("Tomás Ortega", "N:Ortega;Tomás;;;", "EMAIL:ana@example.com"))
    code, out, err = run(root, "import", str(vcf), "--dry-run")
    assert (code, err) == (0, "")
    assert out.endswith(
        f"possible duplicate: {root / 'ana-ruiz.md'} and {root / 'tomas-ortega.md'} "
        "share ana@example.com\n"
        "1 new, 0 changed, 0 unchanged, 0 skipped, 1 possible duplicate (see crm check)"
        " (dry run: nothing written)\n"
    )
    code, out, _ = run(root, "import", str(vcf))
    assert out.startswith(f"new: {root / 'tomas-ortega.md'}\n")
    assert (root / "ana-ruiz.md").read_text(encoding="utf-8") == ANA_FILE


@pytest.mark.parametrize(
    "same_person",
    [
        card("ana ruíz", "EMAIL:ANA@example.com", "TEL:+34 612 345 678"),  # case and accents
        card(
            "Ana M. Ruiz", "N:Ruiz;Ana;;;", "EMAIL:ana@example.com", "TEL:+34 612 345 678"
        ),  # same first and last name
    ],
)
def test_the_same_email_and_the_same_name_still_merge(
    write_vault: WriteVault, tmp_path: Path, same_person: str
) -> None:
    root = write_vault({"ana-ruiz.md": ANA_FILE})
    vcf = source(tmp_path, same_person)
    code, out, err = run(root, "import", str(vcf))
    assert (code, err) == (0, "")
    assert "+phone: +34 612 345 678\n" in out
    assert out.splitlines()[-1] == "0 new, 1 changed, 0 unchanged, 0 skipped"
    assert [p.name for p in root.glob("*.md")] == ["ana-ruiz.md"]


def test_an_email_shared_with_an_existing_customer_by_a_matched_one_is_listed(
    write_vault: WriteVault, tmp_path: Path
) -> None:
    tomas = "---\nname: Tomás Ortega\nfirst_name: Tomás\nemail: tomas@example.com\n---\n"
    root = write_vault({"ana-ruiz.md": ANA_FILE, "tomas-ortega.md": tomas})
    vcf = source(tmp_path, card("Tomás Ortega", "EMAIL:tomas@example.com", "EMAIL:ana@example.com"))
    code, out, err = run(root, "import", str(vcf))
    assert (code, err) == (0, "")
    path = root / "tomas-ortega.md"
    assert out == (
        f"changed: {path}\n"
        "--- a/tomas-ortega.md\n"
        "+++ b/tomas-ortega.md\n"
        "@@ -4 +4,2 @@\n"
        "-email: tomas@example.com\n"
        "+email: [tomas@example.com, ana@example.com]\n"
        "+last_name: Ortega\n"
        f"possible duplicate: {root / 'ana-ruiz.md'} and {path} share ana@example.com\n"
        "0 new, 1 changed, 0 unchanged, 0 skipped, 1 possible duplicate (see crm check)\n"
    )


def test_a_card_without_email_or_phone_matches_by_full_name(
    write_vault: WriteVault, tmp_path: Path
) -> None:
    root = write_vault({"ana-ruiz.md": ANA_FILE})
    vcf = source(tmp_path, card("Ana  Ruiz", "BDAY:1984-03-02"))
    code, out, err = run(root, "import", str(vcf))
    ana = root / "ana-ruiz.md"
    assert (code, err) == (0, "")
    assert out == (
        f"changed: {ana}\n"
        "--- a/ana-ruiz.md\n"
        "+++ b/ana-ruiz.md\n"
        "@@ -6,0 +7 @@\n"
        "+birthday: 1984-03-02\n"
        "0 new, 1 changed, 0 unchanged, 0 skipped\n"
    )
    before = snapshot(root)
    assert run(root, "import", str(vcf)) == (0, "0 new, 0 changed, 1 unchanged, 0 skipped\n", "")
    assert snapshot(root) == before


def test_a_card_with_its_crm_uid_is_that_customer_whatever_its_name(
    write_vault: WriteVault, tmp_path: Path
) -> None:
    root = write_vault({"ana-ruiz.md": ANA_FILE})
    vcf = source(tmp_path, card("Ana Ortega", "UID:crm:ana-ruiz", "EMAIL:ana@work.example"))
    code, out, err = run(root, "import", str(vcf))
    assert (code, err) == (0, "")
    assert "+email: [Ana@Example.com, ana@work.example]\n" in out
    assert out.endswith("0 new, 1 changed, 0 unchanged, 0 skipped\n")


def test_a_csv_row_with_its_id_is_that_customer(write_vault: WriteVault, tmp_path: Path) -> None:
    root = write_vault({"ana-ruiz.md": ANA_FILE})
    csv = source(tmp_path, "id,name,email\nana-ruiz,Ana Ortega,ana@example.com\n", "shop.csv")
    assert run(root, "import", str(csv)) == (0, "0 new, 0 changed, 1 unchanged, 0 skipped\n", "")


def test_check_compares_phone_numbers_by_what_they_dial(
    write_vault: WriteVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_vault(
        {
            "crm.toml": '[business]\nregion = "DE"\n',
            "a.md": "---\nname: Ana Ruiz\nfirst_name: Ana\nphone: +49 151 2345678\n---\n",
            # The same person in two files: their names agree, so no warning.
            "b.md": "---\nname: ANA RUÍZ\nfirst_name: Ana\nphone: 0151/2345678\n---\n",
            "c.md": "---\nname: Tomás Ortega\nfirst_name: Tomás\nphone: '01512345678'\n"
            "email: t@example.com\n---\n",
            "d.md": "---\nname: Pia Ortega\nfirst_name: Pia\nemail: T@example.com\n---\n",
        }
    )
    monkeypatch.chdir(root)
    code, out, err = run(root, "check")
    assert (code, out) == (0, "")
    assert err == (
        "c.md:1: warning: possible duplicate of a.md: both have phone 01512345678\n"
        "c.md:1: warning: possible duplicate of b.md: both have phone 01512345678\n"
        "d.md:1: warning: possible duplicate of c.md: both have email T@example.com\n"
    )


def test_names_agree() -> None:
    ana = PersonName("Ana Ruiz", "Ana", "Ruiz")
    assert names_agree(ana, PersonName("ANA  RUÍZ"))
    assert names_agree(ana, PersonName("Ana María Ruiz", "ana", "ruiz"))
    assert not names_agree(ana, PersonName("Tomás Ortega", "Tomás", "Ortega"))
    assert not names_agree(ana, PersonName("Ana R.", "Ana"))  # no last name to agree on
    assert not names_agree(ana, PersonName("Ana Ruiz García", "Ana", "Ruiz García"))


@pytest.mark.parametrize(
    ("number", "region", "key"),
    [
        ("+49 151 2345678", "", "+491512345678"),
        ("+49 (0)151 2345678", "", "+491512345678"),
        ("0151 2345678", "DE", "+491512345678"),
        ("0151 2345678", "", "01512345678"),
        ("+1 (555) 010-0100", "", "+15550100100"),
    ],
)
def test_phone_key(number: str, region: str, key: str) -> None:
    assert phone_key(number, region) == key


def test_shared_contacts_is_one_pair_per_two_people() -> None:
    def person(name: str, *emails: str) -> Customer:
        first, last = name.split()
        return Customer(
            name.lower(), name, Location(Path(f"{first}.md"), 1), first, last, emails=emails
        )

    ana = person("Ana Ruiz", "a@x.com", "home@x.com")
    tomas = person("Tomás Ortega", "HOME@x.com", "a@x.com")
    pairs = shared_contacts([tomas, ana])
    assert [(p.first.name, p.second.name, p.shared) for p in pairs] == [
        ("Ana Ruiz", "Tomás Ortega", (("email", "HOME@x.com"), ("email", "a@x.com")))
    ]


def test_plan_lists_the_pair_of_a_file() -> None:
    cards, problems = parse_vcards(ANA_AND_TOMAS, Path("c.vcf"))
    assert problems == []
    plan = plan_import(cards, [])
    assert [a.name for a in plan.additions] == ["Ana Ruiz", "Tomás Ortega"]
    assert [(d.first, d.second, d.shared) for d in plan.duplicates] == [
        (plan.additions[0], plan.additions[1], ("ana@example.com",))
    ]
