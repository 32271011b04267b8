"""Edits written the way people write: list values, odd names for new files, logging over the cap."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from crm.cli import main
from crm.edit.init import TEMPLATE_TEXT
from crm.edit.new import name_parts, slug
from crm.vault.parse import parse_path
from tests.conftest import WriteVault

BELLA = (
    "---\n"
    "name: Bella Rossi\n"
    "first_name: Bella\n"
    "likes: [espresso]  # her words\n"
    "dislikes:\n"
    "  - loud music\n"
    "email: bella@example.com\n"
    "---\n"
    "Met at the market.\n"
)


def run(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--vault", str(root), *args])


def diff(*lines: str) -> str:
    return "--- a/bella.md\n+++ b/bella.md\n" + "".join(line + "\n" for line in lines)


@pytest.mark.parametrize(
    ("change", "output", "old", "new"),
    [
        (
            "likes=[copper tones, green tea]",
            diff(
                "@@ -4 +4 @@",
                "-likes: [espresso]  # her words",
                "+likes: [copper tones, green tea]  # her words",
            ),
            "likes: [espresso]",
            "likes: [copper tones, green tea]",
        ),
        (
            "likes=[\"tea, green\", 'it''s fine']",
            diff(
                "@@ -4 +4 @@",
                "-likes: [espresso]  # her words",
                '+likes: ["tea, green", it\'s fine]  # her words',
            ),
            "likes: [espresso]",
            'likes: ["tea, green", it\'s fine]',
        ),
        (
            "likes=[]",
            diff("@@ -4 +4 @@", "-likes: [espresso]  # her words", "+likes: []  # her words"),
            "likes: [espresso]",
            "likes: []",
        ),
        (
            "likes+=green tea",
            diff(
                "@@ -4 +4 @@",
                "-likes: [espresso]  # her words",
                "+likes: [espresso, green tea]  # her words",
            ),
            "likes: [espresso]",
            "likes: [espresso, green tea]",
        ),
        (
            "dislikes+=perfume",
            diff("@@ -6,0 +7 @@", "+  - perfume"),
            "  - loud music\n",
            "  - loud music\n  - perfume\n",
        ),
        (
            "dislikes-=loud music",
            diff("@@ -5,2 +5 @@", "-dislikes:", "-  - loud music", "+dislikes: []"),
            "dislikes:\n  - loud music\n",
            "dislikes: []\n",
        ),
        (
            "email=[bella@example.com, b.rossi@example.it]",
            diff(
                "@@ -7 +7 @@",
                "-email: bella@example.com",
                "+email: [bella@example.com, b.rossi@example.it]",
            ),
            "email: bella@example.com",
            "email: [bella@example.com, b.rossi@example.it]",
        ),
        (
            "tags+=vip",
            diff("@@ -7,0 +8 @@", "+tags: [vip]"),
            "email: bella@example.com\n",
            "email: bella@example.com\ntags: [vip]\n",
        ),
    ],
)
def test_set_writes_lists_in_one_line(
    write_vault: WriteVault, change: str, output: str, old: str, new: str
) -> None:
    root = write_vault({"bella.md": BELLA})
    result = run(root, "set", "bella", change)
    assert (result.exit_code, result.stdout, result.stderr) == (0, output, "")
    assert (root / "bella.md").read_text() == BELLA.replace(old, new)


def test_set_reads_back_the_list_it_wrote(write_vault: WriteVault) -> None:
    root = write_vault({"bella.md": BELLA})
    assert run(root, "set", "bella", "likes=[copper tones, green tea]").exit_code == 0
    customer, problems = parse_path(root / "bella.md", root)
    assert customer is not None and problems == []
    assert customer.likes == ("copper tones", "green tea")


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        ("x" * 300, "x" * 100),
        ("Ana " * 60, "-".join(["ana"] * 25)),
        ("!!!", "customer"),
        ("CON", "con-customer"),
        ("nul", "nul-customer"),
        ("Com1", "com1-customer"),
        ("AC/DC", "ac-dc"),
        ("../../etc/passwd", "etc-passwd"),
        ("李" * 200, "李" * 33),
    ],
)
def test_new_makes_a_safe_file_name(write_vault: WriteVault, name: str, stem: str) -> None:
    assert slug(name) == stem
    root = write_vault({})
    result = run(root, "new", name)
    # A name whose first word is no given name (``!!!``, ``Com1``, ``AC/DC``) sets no first_name:
    # a warning, here and in crm check (it set first_name to that word before).
    given = name_parts(name)[0]
    warned = (
        f"warning: no first_name: '{name}' does not start with a given name; "
        "add one so greetings can use it\n"
    )
    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        f"{root / stem}.md\n",
        "" if given else warned,
    )
    checked = f"{root / stem}.md:2: warning: no first_name: add one so greetings can use it\n"
    assert run(root, "check").output == ("" if given else checked)
    again = run(root, "new", name)
    assert (again.exit_code, again.stdout) == (1, "")
    assert again.stderr == f"crm: refusing to overwrite {root / stem}.md: it already exists\n"


def test_new_leaves_the_templates_hints_in_the_template(write_vault: WriteVault) -> None:
    root = write_vault({"templates/customer.md": TEMPLATE_TEXT})
    result = run(root, "new", "Bella Rossi", "--set", "likes=[copper tones, green tea]")
    assert (result.exit_code, result.stderr) == (0, "")
    assert (root / "bella-rossi.md").read_text() == (
        "---\nname: Bella Rossi\nfirst_name: Bella\nlast_name: Rossi\nstatus: active\ntags: []\n"
        "likes: [copper tones, green tea]\n---\n\n## Notes\n\n## Log\n"
    )
    assert (root / "templates/customer.md").read_text() == TEMPLATE_TEXT
    assert "# cadence: 30d\n" in TEMPLATE_TEXT
    # Without a template of its own, the vault gets the built-in one, without its hints too.
    (root / "templates/customer.md").unlink()
    assert run(root, "new", "Cara Mia").exit_code == 0
    assert "# birthday" not in (root / "cara-mia.md").read_text()


BO = "---\nname: Bo Li\nfirst_name: Bo\nmax_contacts: 2/30d\n---\n## Log\n- 2026-11-01 call: hi\n"


def test_log_over_the_cap_writes_and_warns(write_vault: WriteVault) -> None:
    root = write_vault({"bo.md": BO})
    path = root / "bo.md"
    first = run(root, "log", "bo", "newsletter: December", "--today", "2026-11-23")
    assert (first.exit_code, first.stdout, first.stderr) == (
        0,
        f"{path}:8: - 2026-11-23 newsletter: December\n",
        "",
    )
    second = run(root, "log", "bo", "email: the voucher", "--today", "2026-11-23")
    assert (second.exit_code, second.stdout, second.stderr) == (
        0,
        f"{path}:9: - 2026-11-23 email: the voucher\n",
        "warning: Bo Li is over max_contacts 2/30d: 3 entries since 2026-10-25\n",
    )
    # A note is no contact: no warning, even over the cap.
    note = run(root, "log", "bo", "note: prefers mornings", "--today", "2026-11-23")
    assert (note.exit_code, note.stderr) == (0, "")
    assert path.read_text() == BO + (
        "- 2026-11-23 newsletter: December\n"
        "- 2026-11-23 email: the voucher\n"
        "- 2026-11-23 note: prefers mornings\n"
    )
