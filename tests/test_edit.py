"""The edit core: minimal diffs compared byte-for-byte, validation, atomicity, locking."""

from __future__ import annotations

import os
import stat
import threading
from datetime import date, time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.core.config import Config
from crm.core.errors import CrmError
from crm.edit import atomic
from crm.edit.changes import (
    Change,
    append_log,
    apply_changes,
    parse_change,
)
from crm.edit.new import new_customer, slug
from crm.vault.parse import parse_bytes
from tests.conftest import WriteVault

HAND = """\
---
# Ana, met at the 2024 fair
name: "Ana García"
first_name: 'Ana'
last_name: García
tags: [vip,  "hair colour"]   # keep this comment
likes:
  - espresso
  - 'dark chocolate'
country: no
address: >
  Calle Mayor 1,
  Madrid
cadence: 30d  # roughly monthly
away:
  from: 2026-01-01
  to: 2026-01-05
---

Prefers mornings.   \n\
## Log
- 2026-03-01 call: asked about balayage
- 2026-05-20 visit: cut and colour

## Ideas
- a gift voucher
"""


def variants() -> list[tuple[str, bool, str]]:
    """Return (id, bom, newline) combinations every byte-for-byte test runs under."""
    return [("lf", False, "\n"), ("crlf", False, "\r\n"), ("bom-crlf", True, "\r\n")]


def encode(text: str, bom: bool, nl: str) -> bytes:
    return (("\ufeff" if bom else "") + text.replace("\n", nl)).encode("utf-8")


@pytest.fixture(params=variants(), ids=lambda v: v[0])
def style(request: pytest.FixtureRequest) -> tuple[bool, str]:
    _, bom, nl = request.param
    return bom, nl


def edited(
    write_vault: WriteVault, style: tuple[bool, str], changes: list[str], text: str = HAND
) -> tuple[bytes, bytes]:
    bom, nl = style
    root = write_vault({"ana.md": encode(text, bom, nl)})
    path = root / "ana.md"
    apply_changes(path, [parse_change(c) for c in changes])
    return path.read_bytes(), encode(text, bom, nl)


def swap(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


@pytest.mark.parametrize(
    ("changes", "old", "new"),
    [
        (["cadence=14d"], "cadence: 30d  #", "cadence: 14d  #"),
        (["first_name=Ana María"], "first_name: 'Ana'", "first_name: 'Ana María'"),
        (["name=Ana García López"], 'name: "Ana García"', 'name: "Ana García López"'),
        (["last_name=O'Neill"], "last_name: García", "last_name: O'Neill"),
        (["country=yes"], "country: no", 'country: "yes"'),
        (["country=12:30"], "country: no", 'country: "12:30"'),
        (["country=01234"], "country: no", 'country: "01234"'),
        (["tags+=regular"], '"hair colour"]', '"hair colour", regular]'),
        (["tags-=vip"], '[vip,  "hair colour"]', '["hair colour"]'),
        (["tags=vip, new"], '[vip,  "hair colour"]', "[vip, new]"),
        (["likes+=tea, green"], "  - 'dark chocolate'\n", "  - 'dark chocolate'\n  - tea, green\n"),
        (["likes-=espresso"], "  - espresso\n", ""),
        (["address=Calle Nueva 2"], ">\n  Calle Mayor 1,\n  Madrid\n", "Calle Nueva 2\n"),
        (
            ["away=2026-02-01..2026-02-03"],
            "2026-01-01\n  to: 2026-01-05",
            "2026-02-01\n  to: 2026-02-03",
        ),
        (["unset:away"], "away:\n  from: 2026-01-01\n  to: 2026-01-05\n", ""),
        (["unset:address"], "address: >\n  Calle Mayor 1,\n  Madrid\n", ""),
        (["status=lead"], "---\n\nPrefers", "status: lead\n---\n\nPrefers"),
        (["birthday=--04-14"], "---\n\nPrefers", "birthday: --04-14\n---\n\nPrefers"),
        (["email+=ana@example.es"], "---\n\nPrefers", "email: ana@example.es\n---\n\nPrefers"),
    ],
)
def test_changes_touch_only_their_lines(
    write_vault: WriteVault, style: tuple[bool, str], changes: list[str], old: str, new: str
) -> None:
    parsed = [
        Change(c.removeprefix("unset:"), "unset") if c.startswith("unset:") else c for c in changes
    ]
    bom, nl = style
    root = write_vault({"ana.md": encode(HAND, bom, nl)})
    path = root / "ana.md"
    result = apply_changes(path, [c if isinstance(c, Change) else parse_change(c) for c in parsed])
    assert result.changed
    assert path.read_bytes() == encode(swap(HAND, old, new), bom, nl)


def test_set_reports_a_one_line_diff(write_vault: WriteVault) -> None:
    root = write_vault({"ana.md": HAND})
    result = apply_changes(root / "ana.md", [parse_change("cadence=14d")])
    assert result.diff() == (
        "--- a/ana.md\n+++ b/ana.md\n@@ -14 +14 @@\n"
        "-cadence: 30d  # roughly monthly\n+cadence: 14d  # roughly monthly\n"
    )


def test_flow_list_without_spaces_keeps_its_style(write_vault: WriteVault) -> None:
    text = "---\nname: Bo\nfirst_name: Bo\ntags: [a,b]\n---\n"
    root = write_vault({"bo.md": text})
    apply_changes(root / "bo.md", [parse_change("tags+=c")])
    assert (root / "bo.md").read_text() == text.replace("[a,b]", "[a,b,c]")
    apply_changes(root / "bo.md", [parse_change("tags-=a")])
    assert (root / "bo.md").read_text() == text.replace("[a,b]", "[b,c]")


def test_removing_the_last_block_item_leaves_an_empty_list(write_vault: WriteVault) -> None:
    text = "---\nname: Bo\nfirst_name: Bo\ntags:\n- solo\n---\n"
    root = write_vault({"bo.md": text})
    apply_changes(root / "bo.md", [parse_change("tags-=solo")])
    assert (root / "bo.md").read_text() == text.replace("tags:\n- solo\n", "tags: []\n")


def test_a_no_op_writes_nothing(write_vault: WriteVault, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_vault({"ana.md": HAND})

    def fail(*args: object) -> None:
        raise AssertionError("nothing should be written")

    monkeypatch.setattr(atomic, "replace", fail)
    for change in ("cadence=30d", "tags+=vip", "tags-=nobody", "first_name=Ana"):
        result = apply_changes(root / "ana.md", [parse_change(change)])
        assert not result.changed and result.diff() == ""
    assert not apply_changes(root / "ana.md", [Change("segment", "unset")]).changed


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            "cadence=3 weeks",
            "not written: cadence=3 weeks: cadence: '3 weeks' is not a cadence (expected e.g. "
            "14d, 2w, 3m, 1y, weekly, monthly, quarterly or yearly)",
        ),
        (
            "status=gone",
            "not written: status=gone: status must be one of lead, active, paused, lost, not 'gone'",
        ),
        (
            "birthday=1990-02-30",
            "not written: birthday=1990-02-30: birthday: '1990-02-30' is not a real date (day is out of range for month)",
        ),
        (
            "next_contact=soon",
            "not written: next_contact=soon: next_contact: 'soon' is not a date (expected YYYY-MM-DD or YYYY-MM-DD HH:MM)",
        ),
        ("away=2026-02-03..2026-02-01", "away: 'to' (2026-02-01) is before 'from' (2026-02-03)"),
        (
            "cadence+=1d",
            "+= works on list fields (tags, likes, dislikes, opt_out, email, phone), not cadence",
        ),
        ("dates=x", "dates is a list of mappings; change it with crm edit"),
    ],
)
def test_invalid_values_are_refused_and_nothing_is_written(
    write_vault: WriteVault, change: str, message: str
) -> None:
    root = write_vault({"ana.md": HAND})
    with pytest.raises(CrmError) as err:
        apply_changes(root / "ana.md", [parse_change(change)])
    assert str(err.value) == message
    assert (root / "ana.md").read_text() == HAND
    assert sorted(p.name for p in root.iterdir()) == ["ana.md", "crm.toml"]


def test_broken_front_matter_is_refused_with_the_located_problem(write_vault: WriteVault) -> None:
    text = "---\nname: Bo\nfirst_name: Bo\n\n## Log\n"
    root = write_vault({"bo.md": text})
    path = root / "bo.md"
    for attempt in (
        lambda: apply_changes(path, [parse_change("cadence=14d")]),
        lambda: append_log(path, date(2026, 11, 23), "call", "hi"),
    ):
        with pytest.raises(CrmError) as err:
            attempt()
        assert str(err.value) == (
            f"refusing to edit {path}: fix its problems first (crm edit):\n"
            f"  {path}:1: front matter is not closed: add a '---' line after it"
        )
    assert path.read_text() == text


def test_a_bad_value_can_be_fixed_by_setting_that_key(write_vault: WriteVault) -> None:
    text = "---\nname: Bo\nfirst_name: Bo\ncadence: 3 weeks\n---\n"
    root = write_vault({"bo.md": text})
    with pytest.raises(CrmError, match="fix its problems first"):
        apply_changes(root / "bo.md", [parse_change("tags+=vip")])
    apply_changes(root / "bo.md", [parse_change("cadence=3w")])
    assert (root / "bo.md").read_text() == text.replace("3 weeks", "3w")


def test_a_key_written_twice_is_refused(write_vault: WriteVault) -> None:
    root = write_vault({"bo.md": "---\nname: Bo\nfirst_name: Bo\ncadence: 3w\ncadence: 2w\n---\n"})
    with pytest.raises(CrmError, match="cadence appears twice in the front matter"):
        apply_changes(root / "bo.md", [parse_change("cadence=1w")])


# -- the log ----------------------------------------------------------------------------------


def test_log_inserts_one_line_in_date_order(
    write_vault: WriteVault, style: tuple[bool, str]
) -> None:
    bom, nl = style
    root = write_vault({"ana.md": encode(HAND, bom, nl)})
    path = root / "ana.md"
    append_log(path, date(2026, 4, 2), "call", "asked about the spring offers", time(9, 5))
    expected = swap(
        HAND,
        "- 2026-05-20",
        "- 2026-04-02 09:05 call: asked about the spring offers\n- 2026-05-20",
    )
    assert path.read_bytes() == encode(expected, bom, nl)
    append_log(path, date(2026, 11, 23), "Visit", "trim")
    expected = swap(expected, "colour\n\n", "colour\n- 2026-11-23 visit: trim\n\n")
    assert path.read_bytes() == encode(expected, bom, nl)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("\nNotes.\n", "\nNotes.\n\n## Log\n- 2026-11-23 call: hi\n"),
        ("\nNo newline", "\nNo newline\n\n## Log\n- 2026-11-23 call: hi\n"),
        ("", "\n## Log\n- 2026-11-23 call: hi\n"),
        ("\n## Log\n", "\n## Log\n- 2026-11-23 call: hi\n"),
        ("\n## Log\n\n## Next\n", "\n## Log\n- 2026-11-23 call: hi\n\n## Next\n"),
        (
            "\n## Log\n* 2026-12-01 call: later\n* 2026-01-01 call: earlier\n",
            "\n## Log\n* 2026-12-01 call: later\n* 2026-11-23 call: hi\n* 2026-01-01 call: earlier\n",
        ),
        (
            "\n## Log\n- 2026-01-01 call: a\n  more about a\n- [ ] send the voucher",
            "\n## Log\n- 2026-01-01 call: a\n  more about a\n- 2026-11-23 call: hi\n- [ ] send the voucher",
        ),
        (
            "\n## Log\n- 2026-12-01 call: later\n",
            "\n## Log\n- 2026-11-23 call: hi\n- 2026-12-01 call: later\n",
        ),
    ],
)
def test_log_section_shapes(write_vault: WriteVault, body: str, expected: str) -> None:
    head = "---\nname: Bo\nfirst_name: Bo\n---\n"
    root = write_vault({"bo.md": head + body})
    append_log(root / "bo.md", date(2026, 11, 23), "call", "hi")
    assert (root / "bo.md").read_text() == head + expected


def test_log_refuses_bad_kind_and_multiline_text(write_vault: WriteVault) -> None:
    root = write_vault({"ana.md": HAND})
    with pytest.raises(CrmError, match="'phone call' is not a log kind"):
        append_log(root / "ana.md", date(2026, 11, 23), "phone call", "x")
    with pytest.raises(CrmError, match="a log entry is one line"):
        append_log(root / "ana.md", date(2026, 11, 23), "call", "a\nb")
    assert (root / "ana.md").read_text() == HAND


def test_concurrent_logs_lose_no_entry(write_vault: WriteVault) -> None:
    root = write_vault({"ana.md": HAND})
    path = root / "ana.md"
    errors: list[BaseException] = []

    def log(n: int) -> None:
        try:
            append_log(path, date(2026, 11, 23), "call", f"entry {n}")
        except BaseException as exc:  # surfaced in the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=log, args=(n,)) for n in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    text = path.read_text()
    assert sorted(int(x.split("entry ")[1]) for x in text.splitlines() if "entry " in x) == list(
        range(24)
    )
    assert not atomic.lock_path(path).exists()


# -- atomic, locked, no lost updates ----------------------------------------------------------


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name not in ("ana.md", "crm.toml"))


def test_a_failing_replace_leaves_the_original_intact(
    write_vault: WriteVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_vault({"ana.md": HAND})

    def crash(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(CrmError) as err:
        apply_changes(root / "ana.md", [parse_change("cadence=14d")])
    assert str(err.value) == (
        f"cannot write {root / 'ana.md'}: the disk is full; the file is unchanged"
    )
    assert (root / "ana.md").read_text() == HAND
    assert leftovers(root) == []


def test_a_write_failing_midway_leaves_the_original_intact(
    write_vault: WriteVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_vault({"ana.md": HAND})
    real_write = os.write

    def half_then_full_disk(fd: int, data: object) -> int:
        if fd > 2 and not getattr(half_then_full_disk, "done", False):
            half_then_full_disk.done = True  # type: ignore[attr-defined]
            return real_write(fd, bytes(data)[:10])  # type: ignore[call-overload]
        if fd > 2:
            raise OSError(28, "No space left on device")
        return real_write(fd, data)  # type: ignore[call-overload]

    monkeypatch.setattr(os, "write", half_then_full_disk)
    with pytest.raises(CrmError, match="the disk is full; the file is unchanged"):
        append_log(root / "ana.md", date(2026, 11, 23), "call", "hi")
    assert (root / "ana.md").read_text() == HAND
    assert leftovers(root) == []


def test_a_file_saved_meanwhile_is_not_overwritten(
    write_vault: WriteVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_vault({"ana.md": HAND})
    path = root / "ana.md"
    real_fsync = os.fsync
    saved = HAND.replace("Prefers mornings.", "Prefers evenings.")

    def editor_saves(fd: int) -> None:
        real_fsync(fd)
        path.write_text(saved)  # an editor saves between our read and our replace

    monkeypatch.setattr(os, "fsync", editor_saves)
    with pytest.raises(CrmError) as err:
        apply_changes(path, [parse_change("cadence=14d")])
    assert str(err.value) == (
        f"{path} changed on disk while crm was editing it (saved in an editor?); "
        "nothing was written, run the command again"
    )
    assert path.read_text() == saved
    assert leftovers(root) == []


def test_a_held_lock_makes_the_edit_wait_then_fail(
    write_vault: WriteVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_vault({"ana.md": HAND})
    path = root / "ana.md"
    monkeypatch.setattr(atomic, "LOCK_TIMEOUT", 0.05)
    with atomic.locked(path):  # held by another crm (another open file: flock tells them apart)
        with pytest.raises(CrmError) as err:
            apply_changes(path, [parse_change("cadence=14d")])
        assert atomic.lock_path(path).exists()  # someone else's lock is never removed
    assert str(err.value) == (
        f"{path} is locked by another crm (process {os.getpid()} holds {path}.lock); "
        "try again when it has finished"
    )
    assert path.read_text() == HAND


def test_the_file_mode_is_kept(write_vault: WriteVault) -> None:
    root = write_vault({"ana.md": HAND})
    path = root / "ana.md"
    path.chmod(0o640)
    apply_changes(path, [parse_change("cadence=14d")])
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


# -- new customers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        ("Bella Rossi", "bella-rossi"),
        ("Zoë Müller", "zoe-muller"),
        ("Søren Kristensen", "soren-kristensen"),
        ("Marcus O'Neill", "marcus-oneill"),
        ("Straße  Groß", "strasse-gross"),
        ("李伟", "李伟"),
        ("Ελένη Παπαδοπούλου", "ελένη-παπαδοπούλου"),
    ],
)
def test_slug(name: str, stem: str) -> None:
    assert slug(name) == stem


def test_new_customer_fills_the_vault_template(write_vault: WriteVault) -> None:
    template = "---\nname: {name}\nfirst_name: {first_name}\nlast_name: {last_name}\ncustomer_since: {today}\ntags: []  # who\n---\n\n## Log\n"
    root = write_vault({"templates/customer.md": template})
    made = new_customer(
        root,
        Config(),
        "  Zoë  Müller ",
        {"tags": ["vip", "regular"], "cadence": "30d", "birthday": date(1990, 4, 14)},
        today=date(2026, 11, 23),
    )
    assert made.path == root / "zoe-muller.md"
    assert made.warnings == ()
    assert made.path.read_text() == (
        # Spaces around a name are not part of it; inside, it is kept as typed.
        "---\nname: Zoë  Müller\nfirst_name: Zoë\nlast_name: Müller\ncustomer_since: 2026-11-23\n"
        "tags: [vip, regular]  # who\ncadence: 30d\nbirthday: 1990-04-14\n---\n\n## Log\n"
    )


def test_new_customer_uses_the_built_in_template_and_warns_about_twins(
    write_vault: WriteVault,
) -> None:
    root = write_vault(
        {"people/cher.md": "---\nname: Cher\nfirst_name: Cher\nemail: cher@example.com\n---\n"}
    )
    made = new_customer(
        root, Config(), "Cher", {"email": "CHER@example.com"}, today=date(2026, 11, 23)
    )
    assert made.path.read_text() == (
        # The template's hint comments are for whoever edits the template, not in every file.
        "---\nname: Cher\nfirst_name: Cher\nlast_name:\nstatus: active\ntags: []\n"
        "email: CHER@example.com\n---\n\n## Notes\n\n## Log\n"
    )
    other = root / "people" / "cher.md"
    assert made.warnings == (
        f"a customer named 'Cher' already exists: {other}:1",
        f"cher@example.com is also the email of Cher: {other}:1",
    )


def test_new_customer_refuses_to_overwrite_and_bad_values(write_vault: WriteVault) -> None:
    root = write_vault({"bo-li.md": "---\nname: Bo Li\n---\n"})
    with pytest.raises(CrmError, match="refusing to overwrite .*bo-li.md: it already exists"):
        new_customer(root, Config(), "Bo Li", {}, today=date(2026, 11, 23))
    with pytest.raises(CrmError, match="not written: cadence=often: cadence: 'often'"):
        new_customer(root, Config(), "Al Ma", {"cadence": "often"}, today=date(2026, 11, 23))
    assert not (root / "al-ma.md").exists()


def test_new_customer_goes_where_include_looks(write_vault: WriteVault) -> None:
    root = write_vault({})
    config = Config(include=("customers/**/*.md",))
    made = new_customer(root, config, "Al Ma", {}, today=date(2026, 11, 23))
    assert made.path == root / "customers" / "al-ma.md"


def test_new_files_are_created_without_hard_links_too(
    write_vault: WriteVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(src: object, dst: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    root = write_vault({})
    made = new_customer(root, Config(), "Al Ma", {}, today=date(2026, 11, 23))
    assert made.path.read_text().startswith("---\nname: Al Ma\n")
    with pytest.raises(CrmError, match="refusing to overwrite"):
        atomic.replace(made.path, b"x", None)
    assert sorted(p.name for p in root.iterdir()) == ["al-ma.md", "crm.toml"]


# -- property: any text written by set reads back as that text ---------------------------------

TEXT = (
    st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\ufeff"),
        min_size=1,
        max_size=30,
    )
    .map(str.strip)
    .filter(lambda t: t not in ("", "~", "null", "Null", "NULL"))  # nulls read as "absent"
)


@settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(value=TEXT, item=TEXT)
def test_any_text_reads_back_unchanged_and_without_warnings(
    write_vault: WriteVault, value: str, item: str
) -> None:
    root = write_vault({"bo.md": "---\nname: Bo\nfirst_name: Bo\ncompany: 'x'\ntags: [a]\n---\n"})
    path = root / "bo.md"
    apply_changes(path, [Change("segment", "=", value), Change("company", "=", value)])
    if "," not in item:
        apply_changes(path, [Change("tags", "+=", item)])
    customer, problems = parse_bytes(path.read_bytes(), path, "bo")
    assert problems == []
    assert customer is not None
    assert (customer.segment, customer.company) == (value, value)
    assert customer.tags == (("a",) if item == "a" or "," in item else ("a", item))


def test_comments_inside_a_block_list_stay_with_it(write_vault: WriteVault) -> None:
    text = "---\nname: Bo\nfirst_name: Bo\nlikes:\n  - tea\n# the one she loves\n  - cake\n---\n"
    root = write_vault({"bo.md": text})
    apply_changes(root / "bo.md", [parse_change("likes-=cake")])
    assert (root / "bo.md").read_text() == text.replace("  - cake\n", "")
    apply_changes(root / "bo.md", [parse_change("likes+=cake")])
    assert (root / "bo.md").read_text() == text.replace(
        "  - tea\n", "  - tea\n  - cake\n", 1
    ).replace("loves\n  - cake\n", "loves\n")


def test_an_edit_that_would_not_read_back_as_asked_is_refused(write_vault: WriteVault) -> None:
    text = "---\nname: Bo\nfirst_name: Bo\nlikes:\n  - >\n    tea\n  - cake\n---\n"
    root = write_vault({"bo.md": text})
    with pytest.raises(CrmError) as err:
        apply_changes(root / "bo.md", [parse_change("likes-=tea")])
    assert str(err.value) == (
        "not written: likes would read back as ('tea', 'cake'), not ('cake',); "
        "change it with crm edit"
    )
    assert (root / "bo.md").read_text() == text


def test_a_symlinked_file_is_edited_through_its_link(write_vault: WriteVault) -> None:
    root = write_vault({"shared/ana.md": HAND})
    link = root / "ana.md"
    link.symlink_to(root / "shared" / "ana.md")
    apply_changes(link, [parse_change("cadence=14d")])
    append_log(link, date(2026, 11, 23), "call", "hi")
    assert link.is_symlink()
    assert (root / "shared" / "ana.md").read_text() == swap(
        swap(HAND, "cadence: 30d", "cadence: 14d"),
        "colour\n\n",
        "colour\n- 2026-11-23 call: hi\n\n",
    )


def test_a_template_without_front_matter_is_reported(write_vault: WriteVault) -> None:
    root = write_vault({"templates/customer.md": "# {name}\n"})
    with pytest.raises(CrmError) as err:
        new_customer(root, Config(), "Al Ma", {}, today=date(2026, 11, 23))
    assert str(err.value) == (
        f"cannot use {root / 'templates' / 'customer.md'}: "
        "no front matter: the file must start with a '---' line"
    )
