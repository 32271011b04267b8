"""`crm check` and the loader on bad input: one located message per broken file, never a traceback."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from crm.cli import main
from crm.vault.parse import parse_bytes
from tests.conftest import EXAMPLE, WriteVault

GOOD = "---\nname: Good Person\nfirst_name: Good\n---\nLikes tea.\n"

# One broken file per case, with the exact line `crm check` must print for it.
BAD_INPUTS: dict[str, tuple[str | bytes, str]] = {
    "malformed-yaml": (
        "---\nname: Bad Yaml\nfirst_name: Bad\ntags: [a, b\n---\n",
        "bad.md:4: invalid YAML: did not find expected ',' or ']'"
        " (while parsing a flow sequence that opens on this line; the parser gave up on line 5)",
    ),
    "bad-indentation": (
        "---\nname: Bad Indent\n  first_name: Bad\n---\n",
        "bad.md:3: invalid YAML: mapping values are not allowed in this context",
    ),
    "not-a-mapping": (
        "---\n- a\n- b\n---\n",
        "bad.md:2: front matter must be a mapping of keys to values, not a list",
    ),
    "plain-text-front-matter": (
        "---\njust some words\n---\n",
        "bad.md:2: front matter must be a mapping of keys to values, not plain text",
    ),
    "unclosed": (
        "---\nname: Unclosed\nfirst_name: U\n\nNotes here.\n",
        "bad.md:1: front matter is not closed: add a '---' line after it",
    ),
    "empty-file": ("", "bad.md:1: empty file; a customer file starts with '---' front matter"),
    "no-front-matter": (
        "# Just notes\n",
        "bad.md:1: no front matter: the file must start with a '---' line",
    ),
    "empty-front-matter": (
        "---\n---\nbody\n",
        "bad.md:2: front matter is empty: a customer needs at least a name",
    ),
    "not-utf8": (
        "---\nname: José\n---\n".encode("latin-1"),
        "bad.md:2: not UTF-8 text (byte 0xe9); save it as UTF-8",
    ),
    "binary": (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "bad.md:3: binary file (NUL byte); not a customer file",
    ),
    "impossible-date": (
        "---\nname: Bad Date\nfirst_name: Bad\nbirthday: 2026-02-30\n---\n",
        "bad.md:4: birthday: '2026-02-30' is not a real date (day is out of range for month)",
    ),
    "bad-cadence": (
        "---\nname: Bad Cadence\nfirst_name: Bad\ncadence: often\n---\n",
        "bad.md:4: cadence: 'often' is not a cadence"
        " (expected e.g. 14d, 2w, 3m, 1y, weekly, monthly, quarterly or yearly)",
    ),
    "bad-max-contacts": (
        "---\nname: Bad Cap\nfirst_name: Bad\nmax_contacts: lots\n---\n",
        "bad.md:4: max_contacts: 'lots' is not a contact limit (expected N/period, e.g. 4/30d)",
    ),
    "away-backwards": (
        "---\nname: Bad Away\nfirst_name: Bad\naway: {from: 2026-12-10, to: 2026-12-01}\n---\n",
        "bad.md:4: away: 'to' (2026-12-01) is before 'from' (2026-12-10)",
    ),
    "away-not-a-mapping": (
        "---\nname: Bad Away\nfirst_name: Bad\naway: next week\n---\n",
        "bad.md:4: away: 'next' is not a date (expected YYYY-MM-DD)",
    ),
    "away-a-list": (
        "---\nname: Bad Away\nfirst_name: Bad\naway: [2026-12-10]\n---\n",
        "bad.md:4: away must be FROM..TO or a mapping with 'from' and 'to' dates",
    ),
    "missing-name": (
        "---\nfirst_name: Nobody\nemail: n@example.com\n---\n",
        "bad.md:2: missing 'name': every customer needs a name",
    ),
    "yaml11-no": (
        "---\nname: Nora\nfirst_name: Nora\ncompany: no\n---\n",
        "bad.md:4: company: unquoted no is not text to other YAML parsers"
        ' (Obsidian, Hugo, PyYAML); write company: "no"',
    ),
    "yaml11-time": (
        "---\nname: Tim\nfirst_name: Tim\naddress: 12:30\n---\n",
        "bad.md:4: address: unquoted 12:30 is not text to other YAML parsers"
        ' (Obsidian, Hugo, PyYAML); write address: "12:30"',
    ),
    "yaml11-octal": (
        "---\nname: Otto\nfirst_name: Otto\nphone: 01234\n---\n",
        "bad.md:4: phone: unquoted 01234 is not text to other YAML parsers"
        ' (Obsidian, Hugo, PyYAML); write phone: "01234"',
    ),
    "alias-bomb": (
        "---\nname: Bomb\n"
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
        "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
        "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
        "e: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n---\n",
        "bad.md:4: YAML anchors and aliases (&name / *name) are not allowed:"
        " write out the value *a repeats",
    ),
    "bad-status": (
        "---\nname: Stan\nfirst_name: Stan\nstatus: gone\n---\n",
        "bad.md:4: status must be one of lead, active, paused, lost, not 'gone'",
    ),
    "nan-value": (
        "---\nname: Nan\nfirst_name: Nan\nvalue: nan\n---\n",
        "bad.md:4: value: 'nan' is not a number",
    ),
    "bad-value": (
        "---\nname: Val\nfirst_name: Val\nvalue: lots\n---\n",
        "bad.md:4: value: 'lots' is not a number",
    ),
    "tags-mapping": (
        "---\nname: Tag\nfirst_name: Tag\ntags: {a: b}\n---\n",
        "bad.md:4: tags must be text or a list of text",
    ),
}


def run(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--vault", str(root), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Problems print relative to the working folder, as compilers and linters do.
    (tmp_path / "vault").mkdir()
    monkeypatch.chdir(tmp_path / "vault")


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_each_bad_input_gets_one_located_message(write_vault: WriteVault, case: str) -> None:
    content, expected = BAD_INPUTS[case]
    root = write_vault({"good.md": GOOD, "bad.md": content})
    code, out = run(root, "check")
    assert (code, out) == (1, expected + "\n")
    # Everything else still loads.
    code, out = run(root, "list", "--format", "json")
    assert code == 0
    ids = [row["id"] for row in json.loads(out)]
    assert "good" in ids


def test_every_bad_input_together(write_vault: WriteVault) -> None:
    files: dict[str, str | bytes] = {"good.md": GOOD}
    files.update({f"{case}.md": content for case, (content, _) in BAD_INPUTS.items()})
    root = write_vault(files)
    code, out = run(root, "check")
    expected = sorted(msg.replace("bad.md", f"{case}.md") for case, (_, msg) in BAD_INPUTS.items())
    assert code == 1
    assert out.splitlines() == expected
    assert "Traceback" not in out
    code, out = run(root, "list", "--format", "json")
    rows = json.loads(out)
    assert code == 0
    # Files whose problems are per field still load; the customer keeps every other field.
    assert [r["id"] for r in rows if r["id"] != "good"] == sorted(
        [
            "away-a-list", "away-backwards", "away-not-a-mapping", "bad-cadence",
            "bad-max-contacts", "bad-status", "bad-value", "impossible-date", "nan-value",
            "tags-mapping", "yaml11-no", "yaml11-octal", "yaml11-time",
        ],
        key=lambda i: next(r["name"] for r in rows if r["id"] == i).casefold(),
    )  # fmt: skip
    assert {"id", "name", "path"} <= rows[0].keys()


def test_duplicate_ids_name_both_files(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "a.md": "---\nid: same\nname: Ann One\nfirst_name: Ann\n---\n",
            "sub/b.md": "---\nid: same\nname: Ann Two\nfirst_name: Ann\n---\n",
        }
    )
    assert run(root, "check") == (
        1,
        "sub/b.md:1: duplicate id 'same' (also a.md:1); this customer is 'b' until one id changes\n",
    )
    code, out = run(root, "list", "--format", "json")
    assert [(r["id"], r["name"]) for r in json.loads(out)] == [
        ("same", "Ann One"),
        ("b", "Ann Two"),
    ]


def test_same_file_name_in_two_folders_is_a_duplicate_id(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "x/ann.md": "---\nname: Ann X\nfirst_name: Ann\n---\n",
            "y/ann.md": "---\nname: Ann Y\nfirst_name: Ann\n---\n",
        }
    )
    assert run(root, "check") == (
        1,
        "y/ann.md:1: duplicate id 'ann' (also x/ann.md:1); "
        "this customer is 'ann-2' until one id changes\n",
    )
    code, out = run(root, "list", "--format", "json")
    assert [(r["id"], r["name"]) for r in json.loads(out)] == [("ann", "Ann X"), ("ann-2", "Ann Y")]


def test_symlinks_leaving_the_vault_or_looping_are_skipped(
    write_vault: WriteVault, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text(GOOD, encoding="utf-8")
    root = write_vault({"good.md": GOOD})
    os.symlink(outside, root / "elsewhere")
    os.symlink(outside / "secret.md", root / "secret.md")
    os.symlink(root / "loop-b.md", root / "loop-a.md")
    os.symlink(root / "loop-a.md", root / "loop-b.md")
    (root / "sub").mkdir()
    os.symlink(root, root / "sub" / "back")  # a folder loop: os.walk must not follow it
    code, out = run(root, "check")
    assert code == 1
    assert out == (
        f"elsewhere: symlinked folder leaves the vault ({outside}); skipped\n"
        "loop-a.md:1: symlinked file loops; skipped\n"
        "loop-b.md:1: symlinked file loops; skipped\n"
        f"secret.md:1: symlinked file leaves the vault ({outside / 'secret.md'}); skipped\n"
        "sub/back: warning: symlinked folder inside the vault is not followed\n"
    )
    code, out = run(root, "list", "--format", "json")
    assert [r["id"] for r in json.loads(out)] == ["good"]


def test_bom_and_crlf_files_are_valid(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "bom.md": "\ufeff---\nname: Bom Person\nfirst_name: Bom\n---\nHi\n",
            "crlf.md": "---\r\nname: Crlf Person\r\nfirst_name: Crlf\r\n---\r\n"
            "## Log\r\n- 2026-01-02 call: hello\r\n",
        }
    )
    assert run(root, "check") == (0, "")
    code, out = run(root, "list", "--format", "json")
    assert [(r["id"], r["name"]) for r in json.loads(out)] == [
        ("bom", "Bom Person"),
        ("crlf", "Crlf Person"),
    ]


def test_warnings_exit_zero_unless_strict(write_vault: WriteVault) -> None:
    root = write_vault({"ann.md": "---\nname: Ann Lee\n---\n"})
    expected = "ann.md:2: warning: no first_name: add one so greetings can use it\n"
    assert run(root, "check") == (0, expected)
    assert run(root, "check", "--strict") == (1, expected)


def test_check_json_shape(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "ann.md": "---\nname: Ann Lee\n---\n",
            "bob.md": "---\nname: Bob\nfirst_name: Bob\ncadence: often\n---\n",
        }
    )
    code, out = run(root, "check", "--format", "json")
    assert code == 1
    assert json.loads(out) == [
        {
            "path": "ann.md",
            "line": 2,
            "severity": "warning",
            "message": "no first_name: add one so greetings can use it",
        },
        {
            "path": "bob.md",
            "line": 4,
            "severity": "error",
            "message": "cadence: 'often' is not a cadence"
            " (expected e.g. 14d, 2w, 3m, 1y, weekly, monthly, quarterly or yearly)",
        },
    ]
    code, out = run(root, "check", "--format", "csv")
    assert out.splitlines()[0] == "path,line,severity,message"
    assert out.splitlines()[1] == "ann.md,2,warning,no first_name: add one so greetings can use it"


def test_clean_vault_prints_nothing_and_exits_zero(write_vault: WriteVault) -> None:
    root = write_vault({"good.md": GOOD})
    assert run(root, "check") == (0, "")
    assert run(root, "check", "--format", "json") == (0, "[]\n")


def test_bad_crm_toml_is_located(write_vault: WriteVault) -> None:
    root = write_vault({"crm.toml": "[defaults]\ncadence = 'often'\n", "good.md": GOOD})
    code, out = run(root, "check")
    assert code == 1
    assert out.startswith("crm.toml:")
    assert "often" in out


def test_example_vault_is_clean() -> None:
    result = CliRunner().invoke(main, ["--vault", str(EXAMPLE), "check", "--strict"])
    assert (result.exit_code, result.output) == (0, "")


YAMLISH = st.lists(
    st.sampled_from(
        [*"ab:- \n\t'\"[]{}&*!|>#%@`,?\\0129", "é", "\x00", "\ufeff", "---", "name: ", "2026-02-30"]
    )
).map("".join)


@settings(max_examples=300, deadline=None)
@given(front=YAMLISH, body=YAMLISH)
def test_no_input_raises(front: str, body: str) -> None:
    # Whatever the bytes, the loader answers with a customer or problems, never an exception.
    for data in (
        f"---\n{front}\n---\n{body}".encode(),
        f"---\nname: X\n{front}".encode("utf-8", "surrogatepass"),
    ):
        customer, problems = parse_bytes(data, Path("f.md"), "f")
        assert customer is not None or problems
        assert all(p.location.line is None or p.location.line >= 1 for p in problems)


def test_the_file_named_after_an_id_keeps_it(write_vault: WriteVault) -> None:
    # dup.md claims the id of good.md: good.md is the one that stays.
    root = write_vault(
        {
            "good.md": "---\nname: Good One\nfirst_name: Good\n---\n",
            "a-dup.md": "---\nid: good\nname: Intruder\nfirst_name: In\n---\n",
        }
    )
    assert run(root, "check") == (
        1,
        "a-dup.md:1: duplicate id 'good' (also good.md:1); "
        "this customer is 'a-dup' until one id changes\n",
    )
    code, out = run(root, "list", "--format", "json")
    assert [(r["id"], r["name"]) for r in json.loads(out)] == [
        ("good", "Good One"),
        ("a-dup", "Intruder"),
    ]
