"""No customer ever vanishes: large files, two files with one id, one bad field (issue 11)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from crm.cli import main
from crm.core.fields import FIELDS, value_of
from crm.index import codec
from crm.vault import fastyaml
from crm.vault.parse import parse_bytes
from tests.conftest import WriteVault


def run(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--vault", str(root), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout, result.stderr


def both_ways(root: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str, str]:
    """Return a command's output from the index, having checked a plain parse says the same."""
    outputs = []
    for plain in ("", "1", ""):  # cold index, plain parse, warm index
        monkeypatch.setenv("CRM_NO_INDEX", plain)
        outputs.append(run(root, *args))
    assert outputs[0] == outputs[1] == outputs[2], args
    return outputs[0]


@pytest.fixture(autouse=True)
def in_vault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Problems print relative to the working folder.
    (tmp_path / "vault").mkdir()
    monkeypatch.chdir(tmp_path / "vault")


def backdate(root: Path) -> None:
    """Give every file an old mtime, so the index trusts it on the next run."""
    for path in root.rglob("*.md"):
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - 60 * 1_000_000_000))


# -- large files ------------------------------------------------------------------------------


def big_file(log_entries: int, mail_lines: int) -> str:
    mail = "".join(
        f"> line {i} of a pasted mail thread, quoted and requoted\n" for i in range(mail_lines)
    )
    log = "".join(
        f"- 2020-{1 + i % 12:02d}-{1 + i % 28:02d} call: talk {i}\n" for i in range(log_entries)
    )
    return (
        "---\nname: Big Bella\nfirst_name: Bella\ncadence: 4w\nlast_contact: 2019-05-01\n---\n"
        f"## Notes\n\n{mail}\n## Log\n\n{log}- 2026-02-01 email: the newest\n"
    )


def test_a_large_file_loads_in_full(write_vault: WriteVault) -> None:
    root = write_vault({"bella.md": big_file(20_000, 20_000)})
    size = (root / "bella.md").stat().st_size
    assert size > 1024 * 1024  # past the old limit, below the warning
    assert run(root, "check") == (0, "", "")
    code, out, _ = run(root, "show", "bella")
    assert code == 0 and "2026-02-01 email: the newest" in out


def test_a_very_large_file_loads_with_a_warning(
    write_vault: WriteVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_vault({"bella.md": big_file(60_000, 160_000), "ann.md": "---\nname: Ann\n---\n"})
    size = (root / "bella.md").stat().st_size
    assert size > 10_000_000
    warning = (
        f"bella.md:1: warning: file is {size / 1e6:.1f} MB (over 10 MB): it loads, but every "
        "command reads all of it; move pasted mail or old notes elsewhere\n"
    )
    assert run(root, "check") == (
        0,
        "",
        "ann.md:2: warning: no first_name: add one so greetings can use it\n" + warning,
    )
    backdate(root)
    code, out, err = both_ways(root, monkeypatch, "list", "--format", "json")
    assert code == 0
    assert [r["id"] for r in json.loads(out)] == ["ann", "bella"]
    code, out, _ = both_ways(
        root, monkeypatch, "overdue", "--today", "2026-03-15", "--format", "json"
    )
    assert [r["id"] for r in json.loads(out)] == ["bella"]  # its newest log entry counts


# -- two files, one id ------------------------------------------------------------------------

CLASH = {
    "ann.md": "---\nname: Ann Owner\nfirst_name: Ann\nbirthday: --03-04\n---\n",
    "old/ann-2020.md": (
        "---\nid: ann\nname: Ann Copy\nfirst_name: Ann\nbirthday: --03-05\ncadence: 2w\n---\n"
        "## Log\n\n- 2026-01-01 call: hello\n"
    ),
    # named after the id too, in another folder: it keeps its file name, made unique
    "x/ann.md": "---\nname: Ann Third\nfirst_name: Ann\nbirthday: --03-06\n---\n",
    # already called like the name the first loser would get
    "ann-2020.md": "---\nid: ann-2020\nname: Ann Twenty\nfirst_name: Ann\n---\n",
}


def test_both_customers_of_one_id_stay_everywhere(
    write_vault: WriteVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_vault(CLASH)
    backdate(root)
    code, _, err = both_ways(root, monkeypatch, "check")
    assert code == 1
    assert err == (
        "old/ann-2020.md:1: duplicate id 'ann' (also ann.md:1); "
        "this customer is 'ann-2020-2' until one id changes\n"
        "x/ann.md:1: duplicate id 'ann' (also ann.md:1); "
        "this customer is 'ann-2' until one id changes\n"
    )
    code, out, _ = both_ways(root, monkeypatch, "list", "--format", "json")
    assert [(r["id"], r["name"]) for r in json.loads(out)] == [
        ("ann-2020-2", "Ann Copy"),
        ("ann", "Ann Owner"),
        ("ann-2", "Ann Third"),
        ("ann-2020", "Ann Twenty"),
    ]
    code, out, _ = both_ways(root, monkeypatch, "show", "ann-2020-2")
    assert code == 0 and out.startswith("Ann Copy (ann-2020-2)  active\n")
    code, out, _ = both_ways(root, monkeypatch, "show", "ann")
    assert code == 0 and out.startswith("Ann Owner (ann)  active\n")
    code, out, _ = both_ways(
        root, monkeypatch, "upcoming", "--today", "2026-03-01", "--format", "json"
    )
    assert [r["id"] for r in json.loads(out)] == ["ann", "ann-2020-2", "ann-2"]
    code, out, _ = both_ways(root, monkeypatch, "search", "Copy", "--format", "json")
    assert [r["id"] for r in json.loads(out)] == ["ann-2020-2"]


def test_the_feed_keeps_both_with_unique_stable_uids(
    write_vault: WriteVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_vault(CLASH)
    backdate(root)
    code, feed, _ = both_ways(root, monkeypatch, "ics", "--today", "2026-03-01")
    assert code == 0
    uids = re.findall(r"^UID:(.*?)\r?$", feed, re.MULTILINE)
    assert len(uids) == len(set(uids))
    assert sorted(u for u in uids if "birthday" in u) == [
        f"birthday-{cid}-{year}@crm"
        for cid in ("ann-2", "ann-2020-2", "ann")
        for year in (2026, 2027)
    ]
    for name in ("Ann Owner", "Ann Copy", "Ann Third"):
        assert f"{name}'s birthday" in feed or f"{name} turns" in feed
    # Stable: the same UIDs on another run and after an unrelated edit.
    (root / "ann-2020.md").write_text(CLASH["ann-2020.md"] + "Notes.\n", encoding="utf-8")
    backdate(root)
    again = both_ways(root, monkeypatch, "ics", "--today", "2026-03-01")[1]
    assert re.findall(r"^UID:(.*?)\r?$", again, re.MULTILINE) == uids


# -- one bad field ----------------------------------------------------------------------------

# A good value of each kind, as front matter text; a new kind needs one here.
GOOD_VALUE: dict[str, str] = {
    "text": "Some text",
    "texts": "[one, two]",
    "status": "lead",
    "number": "12.5",
    "date": "2020-01-02",
    "when": "2026-05-01 10:00",
    "span": "2w",
    "cap": "2/30d",
    "yearly": "--03-04",
    "away": "{from: 2026-06-01, to: 2026-06-10}",
    "dates": "[{label: Met, date: 2019-05-06}]",
    "address": "{street: Main Street 1, city: Town}",
    "family": "[{name: Jo, relation: son, birthday: 2019-02-03}]",
    "channel": "sms",
    "optout": "[offers, sms]",
    "entity": "person",
    "person": "{name: Jo Smith, first_name: Jo}",
}
# Wrong values of each kind (a wrong shape is tried for every field).
BAD_VALUE: dict[str, tuple[str, ...]] = {
    "text": ("[a, b]",),
    "texts": ("[a, {b: c}]", "[[a, b]]"),
    "status": ("gone", "[lead]"),
    "number": ("lots", "nan", "1e400"),
    "date": ("2026-02-30", "12", "9999-01-01"),
    "when": ("tomorrow-ish", "2026-05-01 25:00"),
    "span": ("often", "0w", "101y"),
    "cap": ("many", "2/often"),
    "yearly": ("1985-02-30", "--13-01", "12"),
    "away": ("soon", "{from: 2026-06-10, to: 2026-06-01}", "{from: [a], to: b}", "{from: x}"),
    "dates": (
        "[{label: Met, date: 2019-02-30}]",
        "[{date: {a: b}}]",
        "[{date: 2019, yearly: no}]",
        "soon",
    ),
    "address": ("{floor: 3}", "{street: [a, b]}"),
    "family": ("soon", "[{relation: son}]", "[{name: [a]}]"),
    "channel": ("pigeon", "[sms]"),
    "optout": ("[a, {b: c}]", "[[a, b]]"),
    "entity": ("robot", "[org]"),
    "person": ("[a, b]", "{name: [a]}"),
}
SHAPES = ("{a: b}", "[{a: b}]", "[{a: b}, {c: d}]")
# What a field falls back to when its value is dropped (None or an empty tuple otherwise).
# A name that is not text gives way to the id.
FALLBACK = {"id": "whole", "name": "Some text", "status": "active"}


def whole_file(key: str | None = None, value: str = "") -> str:
    """Return a customer file with a good value in every field, ``key`` set to ``value``."""
    lines = ["---"]
    for f in FIELDS:
        lines.append(f"{f.key}: {value if f.key == key else GOOD_VALUE[f.kind]}")
    return "\n".join([*lines, "---", "## Log", "", "- 2026-01-02 call: hello", ""])


CASES = [
    (f.key, bad)
    for f in FIELDS
    for bad in (*SHAPES, *BAD_VALUE[f.kind])
    if not (f.kind == "text" and bad == "12")
]


@pytest.fixture(params=["fast", "pyyaml"])
def reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Read front matter with the fast reader where it can, or always with PyYAML."""
    if request.param == "pyyaml":
        monkeypatch.setattr(fastyaml, "load", lambda text: None)
    return str(request.param)


def test_the_whole_file_has_a_good_value_in_every_field(reader: str) -> None:
    customer, problems = parse_bytes(whole_file().encode(), Path("whole.md"), "whole")
    assert customer is not None and problems == []
    for f in FIELDS:
        assert value_of(customer, f) not in (None, ()), f.key


@pytest.mark.parametrize(("key", "bad"), CASES)
def test_a_bad_field_is_dropped_and_the_rest_loads(reader: str, key: str, bad: str) -> None:
    path = Path("whole.md")
    good, _ = parse_bytes(whole_file().encode(), path, "whole")
    customer, problems = parse_bytes(whole_file(key, bad).encode(), path, "whole")
    assert good is not None and customer is not None, problems
    line = 2 + next(n for n, f in enumerate(FIELDS) if f.key == key)
    errors = [p for p in problems if p.severity == "error"]
    assert errors and all(p.location.line == line for p in errors), problems
    assert all(p.message.startswith(key) for p in errors), problems
    # Nothing else is reported (without first_name, the file's nickname and salutation greet).
    assert len(problems) == len(errors), problems
    for f in FIELDS:
        if f.key == key:
            assert value_of(customer, f) in (FALLBACK.get(key), None, ()), key
        else:
            assert value_of(customer, f) == value_of(good, f), f.key
    assert customer.log == good.log and customer.body == good.body
    # The index stores and gives back exactly what was read.
    assert codec.decode_parts(*codec.encode_parts(customer), path) == customer


def test_a_name_that_is_not_text_gives_way_to_the_id(write_vault: WriteVault) -> None:
    root = write_vault({"bella.md": "---\nname: {first: Bella}\nfirst_name: Bella\n---\n"})
    assert run(root, "check") == (
        1,
        "",
        "bella.md:2: name must be text, not a mapping; shown as 'bella'\n",
    )
    code, out, _ = run(root, "list", "--format", "json")
    assert [(r["id"], r["name"]) for r in json.loads(out)] == [("bella", "bella")]
