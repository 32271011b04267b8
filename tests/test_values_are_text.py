"""Issue 32, item 12: values are text. Any name a person can have is kept as typed, whatever
YAML would make of it (``No``, ``0123``, ``2026-01-01``, ``- Bob``, ``Null``...), through
``crm new``, ``crm set``, a vCard or CSV import and every report; and every YAML parser (PyYAML's
safe_load, a YAML 1.2 one, Hugo's Go yaml) reads the file the same. A name with a line break or
another control character is refused, with the reason."""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
import unicodedata
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from hypothesis import example, given, settings
from hypothesis import strategies as st

from crm.cli import main
from crm.edit.names import name_problem
from crm.edit.new import name_parts
from crm.edit.yamltext import double_quoted, render_scalar, unquote
from tests.conftest import WriteVault

TODAY = "2026-11-23"
# Names that YAML, or one of its parsers, makes something else of when they are written plain.
SPECIAL = [
    "No", "yes", "ON", "off", "y", "N", "true", "Null", "null", "~", "NaN", ".nan", ".inf",
    "-.Inf", "0123", "0x1F", "0o17", "0b101", "1e3", "1_000", "+1", "1.", ".5", "2026-01-01",
    "2026-1-1", "2026-01-01 10:00:00", "12:30", "1:30:00", "=", "<<", "-", "- Bob", "? x", ": x",
    "x:", "#tag", "&a", "*a", "!x", "|", ">", "%x", "@x", "`x", "'quoted'", '"dq"', "O'Brien",
    "a: b", "a #b", "a#b", " lead", "trail ", "a\tb", "\ta", "Zoë Müller", "李伟", "😀 👩‍👩‍👧",
    "שלום עליכם", "مريم\u200f", "\\", "a\\nb", "[x]", "{x}", ",", "a, b", "x" * 300, "---", "...",
    "Ann  Lee", "\xa0Ann", "\ufeffAnn", "Jean\u00a0Paul",
]  # fmt: skip
# What a name may not hold: a line break or another control character (a tab is allowed).
FORBIDDEN = [c for c in map(chr, range(0x20)) if c != "\t"] + ["\x7f", "\x85", "\u2028", "\u2029"]


def _allowed(c: str) -> bool:
    return c == "\t" or c not in "\ufffe\uffff" and unicodedata.category(c) not in ("Cc", "Cs")


_CHARS = st.characters(blacklist_categories=("Cs",)).filter(_allowed)
NAMES = (
    st.sampled_from(SPECIAL)
    | st.text(_CHARS, min_size=1, max_size=40)
    | st.builds(lambda a, b: a + b, st.sampled_from(SPECIAL), st.text(_CHARS, max_size=8))
    | st.builds(lambda a, b: a + " " + b, st.text(_CHARS, max_size=8), st.sampled_from(SPECIAL))
).filter(lambda n: n.strip() != "")


# -- independent readers: what YAML 1.2's core schema and Go's yaml (Hugo) make of a plain scalar

_YAML12_NOT_TEXT = re.compile(
    r"null|Null|NULL|~|true|True|TRUE|false|False|FALSE"
    r"|[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+"
    r"|[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
)
_GO_WORDS = {"true", "True", "TRUE", "false", "False", "FALSE", "~", "null", "Null", "NULL"}
_GO_WORDS |= {f"{s}.{w}" for s in ("", "+", "-") for w in ("inf", "Inf", "INF")}
_GO_WORDS |= {".nan", ".NaN", ".NAN", "<<"}
_GO_NUMBER = re.compile(
    r"[-+]?(0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|[0-9]+)"
    r"|[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?"
)
_GO_TIME = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}.*)?")


def other_parsers_read_text(token: str) -> bool:
    """Return True when YAML 1.2 and Go's yaml both read ``key: token`` as text."""
    if token[:1] in ("'", '"'):
        return True
    if _YAML12_NOT_TEXT.fullmatch(token) or token in _GO_WORDS:
        return False
    if token[:1] not in "+-.0123456789":  # Go's yaml tries numbers and times only on these
        return True
    return not (_GO_NUMBER.fullmatch(token.replace("_", "")) or _GO_TIME.fullmatch(token))


@settings(max_examples=500, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=30) | st.sampled_from(SPECIAL))
@example("\x85")
@example("a\u2028b")
@example("\U0010ffff\ufffe")
def test_any_text_is_written_so_every_parser_reads_that_text(value: str) -> None:
    token = render_scalar(value)
    assert yaml.safe_load(f"k: {token}  # c\n") == {"k": value}
    assert yaml.load(f"k: {token}\n", Loader=yaml.BaseLoader) == {"k": value}
    assert unquote(token) == value
    assert other_parsers_read_text(token), token
    assert "\n" not in token and "\r" not in token


def test_a_double_quoted_token_reads_back_with_every_yaml_escape() -> None:
    assert double_quoted('a\tb\x85\u2028"\\') == '"a\\tb\\x85\\u2028\\"\\\\"'
    assert unquote('"\\t\\n\\x41\\u00e9\\U0001F600\\N\\_\\L\\P\\e\\0\\/\\ \\""') == (
        '\t\nAé😀\x85\xa0\u2028\u2029\x1b\0/ "'
    )


# -- through the CLI -------------------------------------------------------------------------


def crm(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--vault", str(root), *args])
    return result.exit_code, result.stdout, result.stderr


def front_matter(path: Path) -> dict[str, Any]:
    lines = path.read_text(encoding="utf-8").split("\n")
    loaded = yaml.safe_load("\n".join(lines[1 : lines.index("---", 1)]))
    assert isinstance(loaded, dict)
    return loaded


def assert_kept(root: Path, path: Path, want: dict[str, str | None], warned: str = "") -> None:
    """Show, list, export, check and yaml.safe_load all read ``want`` from the file at ``path``;
    check warns ``warned`` and nothing else."""
    code, out, err = crm(root, "show", path.stem, "--format", "json", "--today", TODAY)
    assert (code, err) == (0, "")
    shown = json.loads(out)
    assert {k: shown[k] for k in want} == want
    loaded = front_matter(path)
    assert {k: loaded[k] for k in want} == want
    code, out, err = crm(root, "list", "--format", "json", "--today", TODAY)
    assert code == 0
    assert {"id": path.stem, "name": want["name"]} in [
        {"id": r["id"], "name": r["name"]} for r in json.loads(out)
    ]
    code, out, _ = crm(root, "export", "--format", "json")
    assert code == 0
    (exported,) = [r for r in json.loads(out) if r["id"] == path.stem]
    assert {k: exported[k] for k in want} == want
    assert crm(root, "check") == (0, "", warned)


def vcard_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")


@settings(max_examples=60, deadline=None)
@given(typed=NAMES)
@example(" Null ")
@example("0123")
@example("- Bob")
@example("a: b")
@example("2026-01-01")
def test_a_name_is_kept_as_typed_by_new_set_import_and_reports(typed: str) -> None:
    name = typed.strip()  # spaces around a name are not part of it
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp, "vault")
        root.mkdir()
        (root / "crm.toml").write_text("", encoding="utf-8")

        code, out, err = crm(root, "new", "--today", TODAY, "--", typed)
        path = Path(out.strip())
        # A name whose first word is no given name (``- Bob``) suggests no first or last name
        # (it gave first_name '-' before): a warning, until one is set.
        first, last = name_parts(name)
        no_first = (
            f"warning: no first_name: '{name}' does not start with a given name; "
            "add one so greetings can use it\n"
        )
        assert (code, err) == (0, "" if first else no_first), err
        want = {"name": name, "first_name": first or None, "last_name": last or None}
        warned = f"{path}:2: warning: no first_name: add one so greetings can use it\n"
        assert_kept(root, path, want, "" if first else warned)

        sets = [f"{key}={typed}" for key in ("name", "first_name", "last_name")]
        code, _, err = crm(root, "set", path.stem, *sets)
        assert (code, err) == (0, ""), err
        assert_kept(root, path, dict.fromkeys(("name", "first_name", "last_name"), name))

        cards = Path(tmp, "cards.vcf")
        v = vcard_text(typed)
        cards.write_text(
            f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:{v}\r\nN:{v};{v};;;\r\nEND:VCARD\r\n",
            encoding="utf-8",
        )
        rows = io.StringIO()
        csv.writer(rows).writerows([["Full Name", "First Name", "Last Name"], [typed] * 3])
        sheet = Path(tmp, "sheet.csv")
        sheet.write_text(rows.getvalue(), encoding="utf-8")
        for n, source in enumerate((cards, sheet)):
            into = Path(tmp, f"import{n}")
            into.mkdir()
            (into / "crm.toml").write_text("", encoding="utf-8")
            code, _, err = crm(into, "import", str(source), "--today", TODAY)
            assert (code, err) == (0, ""), err
            (made,) = into.glob("*.md")
            assert_kept(into, made, dict.fromkeys(("name", "first_name", "last_name"), name))


# -- what a name may not hold ------------------------------------------------------------------


def test_name_problem_names_the_character() -> None:
    assert name_problem("last_name", "  Lee\n") is None  # around a name, it is not part of it
    assert name_problem("name", "Ann\tLee") is None
    assert name_problem("name", "Ann\nLee") == (
        "name 'Ann\\nLee' holds a line break (U+000A): "
        "a name is one line of text, without control characters"
    )
    assert name_problem("first_name", "Ann\x07") == (
        "first_name 'Ann\\x07' holds a control character (U+0007): "
        "a name is one line of text, without control characters"
    )
    assert name_problem("name", "a\u2028b") is not None
    assert name_problem("name", "a\udcffb") == (
        "name 'a\\udcffb' holds a character that is not text (U+DCFF): "
        "a name is one line of text, without control characters"
    )
    assert all(name_problem("name", f"a{c}b") for c in FORBIDDEN)


def test_new_refuses_a_name_with_a_line_break(write_vault: WriteVault) -> None:
    root = write_vault({})
    code, out, err = crm(root, "new", "Ann\nLee", "--today", TODAY)
    assert (code, out) == (2, "")
    assert err == (
        "crm: name 'Ann\\nLee' holds a line break (U+000A): "
        "a name is one line of text, without control characters\n"
    )
    code, out, err = crm(root, "new", "Ann Lee", "--set", "last_name=Lee\x1b", "--today", TODAY)
    assert (code, out) == (2, "")
    assert "last_name 'Lee\\x1b' holds a control character (U+001B)" in err
    assert sorted(p.name for p in root.iterdir()) == ["crm.toml"]


def test_set_refuses_a_name_with_a_control_character(write_vault: WriteVault) -> None:
    text = "---\nname: Ann Lee\nfirst_name: Ann\n---\n"
    root = write_vault({"ann.md": text})
    code, out, err = crm(root, "set", "ann", "last_name=Lee\x85Ann")
    assert (code, out) == (2, "")
    assert err == (
        "crm: last_name 'Lee\\x85Ann' holds a line break (U+0085): "
        "a name is one line of text, without control characters\n"
    )
    assert (root / "ann.md").read_text(encoding="utf-8") == text


def test_import_skips_a_card_whose_name_has_a_line_break(
    write_vault: WriteVault, tmp_path: Path
) -> None:
    root = write_vault({})
    sheet = tmp_path / "sheet.csv"
    sheet.write_text('Full Name,Email\n"Ann\nLee",ann@example.com\nBo Berg,bo@example.com\n')
    code, out, err = crm(root, "import", str(sheet), "--today", TODAY)
    assert code == 1
    assert (
        f"{sheet}:2: not imported: name 'Ann\\nLee' holds a line break (U+000A): "
        "a name is one line of text, without control characters"
    ) in err
    assert sorted(p.name for p in root.glob("*.md")) == ["bo-berg.md"]


def test_check_names_a_hand_written_value_another_parser_reads_as_no_text(
    write_vault: WriteVault,
) -> None:
    # The writer's rule (render_scalar) and the linter's are one: syntax.not_text.
    root = write_vault(
        {
            "ann.md": "---\nname: Ann Lee\nfirst_name: Ann\nnickname: ~\nsalutation: null\n"
            "company: 0x1F\nlast_name: 2026-01-01\n---\n"
        }
    )
    code, out, err = crm(root, "check")
    assert code == 1
    assert (out + err).replace(f"{root}/", "") == (
        "ann.md:6: company: unquoted 0x1F is not text to other YAML parsers (Obsidian, Hugo, "
        'PyYAML); write company: "0x1F"\n'
        "ann.md:7: last_name: unquoted 2026-01-01 is not text to other YAML parsers (Obsidian, "
        'Hugo, PyYAML); write last_name: "2026-01-01"\n'
    )


# -- the first and last name a new customer's name suggests ------------------------------------


def test_name_parts_takes_a_first_word_that_is_a_given_name() -> None:
    assert name_parts("Ann Lee") == ("Ann", "Lee")
    assert name_parts("Zoë  Müller") == ("Zoë", "Müller")
    assert name_parts("Zoe\u0308 Mu\u0308ller") == ("Zoe\u0308", "Mu\u0308ller")  # decomposed
    assert name_parts("O'Brien") == ("O'Brien", "")
    assert name_parts("Jean-Paul Sartre") == ("Jean-Paul", "Sartre")
    assert name_parts("J. R. R. Tolkien") == ("J.", "R. R. Tolkien")
    assert name_parts("李伟") == ("李伟", "")
    assert name_parts("مريم\u200f") == ("مريم\u200f", "")  # with its right-to-left mark
    for name in ("- Bob", "a: b", "#1 Fan", "0123", "3M Company", "{today} Smith", "😀 Ann"):
        assert name_parts(name) == ("", ""), name


def test_new_names_without_a_given_name_get_none_and_a_warning(write_vault: WriteVault) -> None:
    root = write_vault({})
    for typed, stem in (("- Bob", "bob"), ("a: b", "a-b")):
        code, out, err = crm(root, "new", "--today", TODAY, "--", typed)
        path = root / f"{stem}.md"
        assert (code, out, err) == (
            0,
            f"{path}\n",
            f"warning: no first_name: '{typed}' does not start with a given name; "
            "add one so greetings can use it\n",
        )
        assert front_matter(path) == {
            "name": typed, "first_name": None, "last_name": None, "status": "active", "tags": []
        }  # fmt: skip


def test_new_fills_the_template_in_one_pass(write_vault: WriteVault) -> None:
    """A name that holds a placeholder is kept as typed, not filled in again (it was refused)."""
    template = (
        "---\nname: {name}\nfirst_name: '{first_name}'\nlast_name: \"{last_name}\"\n"
        "customer_since: {today}\n---\n\n# {name}\n"
    )
    root = write_vault({"templates/customer.md": template})
    code, out, err = crm(root, "new", "Ann {last_name}", "--today", TODAY)
    assert (code, out, err) == (0, f"{root / 'ann-last-name.md'}\n", "")
    assert (root / "ann-last-name.md").read_text() == (
        "---\nname: Ann {last_name}\nfirst_name: 'Ann'\nlast_name: \"{last_name}\"\n"
        f"customer_since: {TODAY}\n---\n\n# Ann {{last_name}}\n"
    )
    code, out, err = crm(root, "new", "Bo {today}", "--today", TODAY)
    assert (code, out, err) == (0, f"{root / 'bo-today.md'}\n", "")
    assert front_matter(root / "bo-today.md") == {
        "name": "Bo {today}", "first_name": "Bo", "last_name": "{today}",
        "customer_since": date(2026, 11, 23),
    }  # fmt: skip
    code, out, err = crm(root, "new", "{today} Smith", "--set", "first_name=Tom", "--today", TODAY)
    assert (code, out, err) == (0, f"{root / 'today-smith.md'}\n", "")
    assert front_matter(root / "today-smith.md") == {
        "name": "{today} Smith", "first_name": "Tom", "last_name": "",  # as the template quotes it
        "customer_since": date(2026, 11, 23),
    }  # fmt: skip
