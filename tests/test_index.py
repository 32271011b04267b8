"""The index answers exactly what a fresh parse answers: after edits, deletions, renames, corruption."""

from __future__ import annotations

import os
import sqlite3
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from crm.cli import main
from crm.core.config import Config, load_config
from crm.feed.blocks import render_block
from crm.index import codec, schema, store
from crm.index.build import open_index
from crm.index.rows import parse_changed
from crm.index.schema import index_path
from crm.index.store import FeedBlocks
from crm.vault.files import find_files, path_key, scan
from crm.vault.load import load_vault
from tests.conftest import EXAMPLE, WriteVault, wall_clock

ANA = """\
---
name: Ana García
first_name: Ana
tags: [vip]
birthday: --02-29
likes: [espresso, jazz]
max_contacts: 1/30d
---
Met at the Straße fair.

## Log
- 2026-11-01 call: booked
- 2026-11-10 email: sent the offer
"""
BEN = """\
---
name: Ben Okafor
first_name: Ben
cadence: 2w
away:
  from: 2026-11-20
  to: 2026-11-30
---
## Log
- 2026-10-01 visit: cut
"""


def fresh(root: Path) -> object:
    config, _ = load_config(root)
    return load_vault(root, config)


def indexed(root: Path, **kwargs: object) -> store.Index:
    config, _ = load_config(root)
    return open_index(root, config, now=wall_clock(), **kwargs)  # type: ignore[arg-type]


def same_as_fresh(root: Path) -> store.Index:
    idx = indexed(root)
    assert not idx.bypassed
    assert idx.vault() == fresh(root)
    # The query path (problems without decoding every customer) agrees too.
    again = indexed(root)
    assert again.problems() == list(fresh(root).problems)  # type: ignore[attr-defined]
    assert again.count() == len(fresh(root).customers)  # type: ignore[attr-defined]
    return idx


def backdate(path: Path, seconds: int = 60) -> None:
    """Give a file an old mtime, as files have that were not just written."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - seconds * 1_000_000_000))


def test_example_vault_from_index_equals_fresh_parse(tmp_path: Path) -> None:
    root = tmp_path / "v"
    root.mkdir()
    for src in EXAMPLE.rglob("*"):
        if ".crm" in src.parts:
            continue
        dst = root / src.relative_to(EXAMPLE)
        if src.is_dir():
            dst.mkdir(exist_ok=True)
        else:
            dst.write_bytes(src.read_bytes())
    first = same_as_fresh(root)
    assert first.stats.parsed == 22
    for path in root.rglob("*.md"):
        backdate(path)
    assert indexed(root).stats.parsed == 22  # just-written files are parsed again once
    assert indexed(root).stats.parsed == 0


def test_codec_round_trips_every_example_customer() -> None:
    for c in fresh(EXAMPLE).customers:  # type: ignore[attr-defined]
        assert codec.decode_parts(*codec.encode_parts(c), c.location.path) == c


def test_edits_deletions_and_renames(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "ana.md": ANA,
            "ben.md": BEN,
            "sub/cleo.md": "---\nname: Cleo\nid: ana\n---\n",  # a duplicate id
            "bad.md": "no front matter\n",
        }
    )
    same_as_fresh(root)
    # The same size, written within the same second: only the racy rule catches it.
    (root / "ana.md").write_text(ANA.replace("jazz", "rock"), encoding="utf-8")
    idx = same_as_fresh(root)
    assert "rock" in idx.vault().customers[0].likes
    (root / "ben.md").unlink()
    (root / "sub" / "cleo.md").rename(root / "cleo-renamed.md")
    (root / "bad.md").write_text("---\nname: Now Fine\nfirst_name: Now\n---\n", encoding="utf-8")
    idx = same_as_fresh(root)
    assert idx.stats.removed == 2
    assert [c.name for c in idx.vault().customers] == ["Ana García", "Cleo", "Now Fine"]


def test_unchanged_files_are_not_parsed_again(write_vault: WriteVault) -> None:
    root = write_vault({"ana.md": ANA, "ben.md": BEN})
    for path in root.glob("*.md"):
        backdate(path)
    assert indexed(root).stats.parsed == 2
    assert indexed(root).stats.parsed == 0
    (root / "ben.md").write_text(BEN + "- 2026-11-02 call: hi\n", encoding="utf-8")
    assert indexed(root).stats.parsed == 1


def test_corrupt_index_is_rebuilt(write_vault: WriteVault) -> None:
    root = write_vault({"ana.md": ANA, "ben.md": BEN})
    same_as_fresh(root)
    index_path(root).write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        Path(f"{index_path(root)}{suffix}").unlink(missing_ok=True)
    idx = same_as_fresh(root)
    assert not idx.bypassed


def test_index_folder_ignores_itself_in_git(write_vault: WriteVault) -> None:
    root = write_vault({"ana.md": ANA})
    indexed(root).close()
    assert (root / ".crm" / ".gitignore").read_text(encoding="utf-8") == "*\n"


def test_corrupt_index_never_breaks_a_command(write_vault: WriteVault) -> None:
    root = write_vault({"ana.md": ANA})
    index_path(root).parent.mkdir()
    index_path(root).write_bytes(b"\x00garbage" * 1000)
    result = CliRunner().invoke(main, ["--vault", str(root), "list"])
    assert result.exit_code == 0
    assert "Ana García" in result.output


def test_schema_and_config_changes_rebuild(write_vault: WriteVault) -> None:
    root = write_vault({"ana.md": ANA})
    indexed(root).close()
    with sqlite3.connect(index_path(root)) as conn:
        conn.execute("UPDATE meta SET value = '0' WHERE key = 'schema'")
    conn.close()
    assert indexed(root).stats.rebuilt == "schema or crm version changed"
    assert indexed(root).stats.rebuilt is None
    (root / "crm.toml").write_text('[defaults]\ncadence = "30d"\n', encoding="utf-8")
    assert indexed(root).stats.rebuilt == "crm.toml changed"
    same_as_fresh(root)


def test_locked_index_is_bypassed(write_vault: WriteVault, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_vault({"ana.md": ANA})
    indexed(root).close()
    (root / "ben.md").write_text(BEN, encoding="utf-8")
    monkeypatch.setattr(schema, "BUSY_SECONDS", 0.05)
    holder = sqlite3.connect(index_path(root), isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        idx = indexed(root)
        assert idx.bypassed
        assert idx.vault() == fresh(root)
    finally:
        holder.close()
    assert not indexed(root).bypassed


def test_scan_picks_the_files_find_files_picks(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "a.md": ANA,
            "README.md": "# not a customer",
            "sub/README.md": ANA,
            "templates/t.md": ANA,
            "sub/templates/t.md": ANA,
            ".hidden/h.md": ANA,
            "sub/.h.md": ANA,
            "notes.txt": "x",
            "archive/old.md": ANA,
            "a-b.md": ANA,
            "a/b.md": ANA,
        }
    )
    (root / "link.md").symlink_to(root / "a.md")
    (root / "out.md").symlink_to(root.parent / "elsewhere.md")
    (root / "linkdir").symlink_to(root / "sub")
    for config in (Config(), Config(exclude=("archive/**",)), Config(include=("sub/**",))):
        files, problems = find_files(root, config)
        found, scan_problems = scan(root, config)
        rels = sorted((rel for rel, _, _ in found), key=path_key)
        assert rels == [p.relative_to(root).as_posix() for p in files]
        assert sorted(map(str, scan_problems)) == sorted(map(str, problems))


def test_parallel_parse_gives_the_serial_rows(write_vault: WriteVault) -> None:
    root = write_vault({f"c{n}.md": ANA.replace("Ana", f"Ana{n}") for n in range(12)})
    found, _ = scan(root, Config())
    items = sorted(found)
    serial = list(parse_changed(root, items, Config(), 0, workers=1))
    seen: list[tuple[int, int]] = []
    chunked = list(
        parse_changed(
            root, items, Config(), 0, workers=2, min_parallel=2, chunk=5,
            progress=lambda done, total: seen.append((done, total)),
        )
    )  # fmt: skip
    assert chunked == serial
    assert seen == [(5, 12), (10, 12), (12, 12)]


DAYS = [date(2026, 11, 23) + timedelta(days=n) for n in range(-400, 400, 37)] + [
    date(2027, 2, 28),
    date(2028, 2, 28),
    date(2026, 11, 20),
]
REPORTS = [
    ["overdue"],
    ["upcoming"],
    ["upcoming", "--days", "3"],
    ["upcoming", "--days", "400"],
    ["noisy"],
    ["replies"],
    ["rewards", "--format", "json"],
    ["agenda"],
    ["agenda", "--format", "json"],
    ["list", "--overdue"],
]


@pytest.mark.parametrize("vault", ["example", "tricky"])
def test_reports_from_the_index_equal_reports_from_a_plain_parse(
    vault: str, write_vault: WriteVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = EXAMPLE
    if vault == "tricky":
        root = write_vault(
            {
                "ana.md": ANA,
                "ben.md": BEN,
                "dup.md": "---\nname: Ana Again\nid: ana\nbirthday: --11-25\n---\n",
                "lost.md": "---\nname: Lou\nstatus: lost\nbirthday: --11-24\n---\n",
                "bad.md": "---\nname: [x\n---\n",
                "zed.md": "---\nname: Zed\nsnooze_until: 2026-11-25\nlast_contact: 2026-01-01\n"
                "cadence: 30d\nbirthday: 2000-02-29\n---\n",
            }
        )
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(main, ["--vault", str(root), *args])
        return f"{result.exit_code}\n{result.output}"

    for today in DAYS:
        for report in REPORTS:
            args = [*report, "--today", today.isoformat()]
            monkeypatch.delenv("CRM_NO_INDEX", raising=False)
            with_index = run(*args)
            monkeypatch.setenv("CRM_NO_INDEX", "1")
            assert run(*args) == with_index, args
    for words in (["espresso"], ["straße"], ["STRASSE"], ["a"], ["jazz", "ana"], ["ü", "zoë"]):
        monkeypatch.delenv("CRM_NO_INDEX", raising=False)
        with_index = run("search", *words)
        monkeypatch.setenv("CRM_NO_INDEX", "1")
        assert run("search", *words) == with_index, words


@pytest.mark.parametrize(
    "name", ["ana", "ANA", "Ana G", "a", "ben okafor", "zz", "", "ü", "Ana\U0010ffff"]
)
def test_show_finds_the_customer_a_full_parse_finds(
    name: str, write_vault: WriteVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_vault(
        {"ana.md": ANA, "ben.md": BEN, "anabel.md": "---\nname: Anabel Ünal\nfirst_name: A\n---\n"}
    )
    outputs = []
    for plain in ("", "1"):
        monkeypatch.setenv("CRM_NO_INDEX", plain)
        result = CliRunner().invoke(
            main, ["--vault", str(root), "show", name, "--today", "2026-11-23"]
        )
        outputs.append((result.exit_code, result.output))
    assert outputs[0] == outputs[1]


def test_search_finds_substrings_and_keeps_up_with_edits(write_vault: WriteVault) -> None:
    root = write_vault({"ana.md": ANA, "ben.md": BEN})
    runner = CliRunner()
    result = runner.invoke(main, ["--vault", str(root), "search", "spress"])
    assert result.output == "ID   NAME        STATUS  TAGS\nana  Ana García  active  vip\n"
    (root / "ben.md").write_text(BEN.replace("cut", "espresso chat"), encoding="utf-8")
    result = runner.invoke(main, ["--vault", str(root), "search", "spress"])
    assert result.output == (
        "ID   NAME        STATUS  TAGS\nana  Ana García  active  vip\nben  Ben Okafor  active\n"
    )


def test_index_command(write_vault: WriteVault) -> None:
    root = write_vault({"ana.md": ANA, "ben.md": BEN, "bad.md": "oops\n"})
    runner = CliRunner()
    result = runner.invoke(main, ["--vault", str(root), "index"])
    assert (result.exit_code, result.output) == (0, "3 files: 3 parsed, 0 removed (new index)\n")
    result = runner.invoke(main, ["--vault", str(root), "index", "--rebuild", "--stats"])
    lines = result.output.splitlines()
    assert lines[:3] == [
        "3 files: 3 parsed, 0 removed (rebuild requested)",
        "customers: 2",
        "problems:  1",
    ]
    assert lines[3].startswith(f"index:     {index_path(root)} (")
    assert lines[4].startswith("time:      open ")
    assert "Update the index" in runner.invoke(main, ["index", "--help"]).output


FEED_TOML = (
    '[vault]\ntimezone = "Europe/Berlin"\n[feed]\ndays_ahead = 400\ninclude_details = true\n'
)
TRICKY_FEED = {
    "ana.md": ANA,
    "ben.md": BEN,
    "dup.md": "---\nname: Ana Again\nid: ana\nbirthday: --11-25\n---\n",
    "lost.md": "---\nname: Lou\nstatus: lost\nbirthday: --11-24\n---\n",
    "bad.md": "---\nname: [x\n---\n",
    "sub/zed.md": "---\nname: Zed\ncompany: ACME\nsegment: b2b\nnext_contact: 2026-11-25 14:30\n"
    "snooze_until: 2026-11-25\nlast_contact: 2026-01-01\ncadence: 30d\n"
    "birthday: 2000-02-29\n---\n",
    "zoe.md": "---\nname: zoë\ntags: [vip, team]\nstatus: lead\nanniversary: 2019-11-30\n---\n",
}
FILTERS = (
    [],
    ["--tag", "vip"],
    ["--tag", "vip", "--tag", "team"],
    ["--status", "lead"],
    ["--status", "lost"],
    ["--segment", "b2b"],
    ["--company", "acme"],
)


def ics_both_ways(
    root: Path, args: list[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, bytes, str]:
    """Return ``crm ics`` from the index, having checked it equals the plain parse's."""
    outputs = []
    for plain in ("", "1"):
        monkeypatch.setenv("CRM_NO_INDEX", plain)
        result = CliRunner().invoke(main, ["--vault", str(root), "ics", *args])
        outputs.append((result.exit_code, result.stdout_bytes, result.stderr))
    assert outputs[0] == outputs[1], args
    return outputs[0]


def index_rows(root: Path, query: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(index_path(root)) as db:
        return db.execute(query).fetchall()


def block_rows(root: Path) -> list[tuple[Any, ...]]:
    return index_rows(root, "SELECT fid, day FROM blocks ORDER BY fid")


def test_feed_from_the_index_equals_the_plain_feed(
    write_vault: WriteVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_vault({**TRICKY_FEED, "crm.toml": FEED_TOML})
    for path in root.rglob("*.md"):
        backdate(path)
    for today in ("2026-11-23", "2026-11-24", "2027-02-28", "2026-11-23"):
        for args in FILTERS:
            code, data, err = ics_both_ways(root, [*args, "--today", today], monkeypatch)
            assert code == 0
            assert err.startswith(f"{root / 'bad.md'}:")
            assert "duplicate id 'ana'" in err
    assert b"Zed turns" in ics_both_ways(root, ["--today", "2026-11-23"], monkeypatch)[1]
    assert len(block_rows(root)) == 5  # every customer but the renamed duplicate, for the last day
    # Edits, deletions and renames drop the old blocks with the file's row.
    (root / "ana.md").write_text(ANA.replace("--02-29", "--11-27"), encoding="utf-8")
    (root / "ben.md").unlink()
    (root / "sub" / "zed.md").rename(root / "zed.md")
    (root / "dup.md").unlink()  # the other Ana is no longer a duplicate
    for today in ("2026-11-23", "2026-11-26"):
        for args in FILTERS:
            ics_both_ways(root, [*args, "--today", today], monkeypatch)
    data = ics_both_ways(root, ["--today", "2026-11-23"], monkeypatch)[1]
    assert b"Ana Garc\xc3\xada turns" not in data and b"Ana Garc\xc3\xada's birthday" in data
    assert b"Ben Okafor" not in data and b"Zed turns" in data
    assert len(block_rows(root)) == 4  # Ben and dup.md are gone


def test_example_feed_from_the_index_matches_the_golden_file(tmp_path: Path) -> None:
    golden = (Path(__file__).parent / "golden" / "example-2026-11-23.ics").read_bytes()
    root = tmp_path / "v"
    for src in EXAMPLE.rglob("*"):
        if ".crm" in src.parts:
            continue
        dst = root / src.relative_to(EXAMPLE)
        if src.is_dir():
            dst.mkdir(parents=True, exist_ok=True)
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_bytes(src.read_bytes())
    for _ in range(2):  # rendered, then read back from the blocks table
        result = CliRunner().invoke(main, ["--vault", str(root), "ics", "--today", "2026-11-23"])
        assert result.exit_code == 0
        assert result.stdout_bytes == golden


def test_cached_blocks_are_not_rendered_again(
    write_vault: WriteVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crm.feed import blocks

    root = write_vault({**TRICKY_FEED, "crm.toml": FEED_TOML})
    for path in root.rglob("*.md"):
        backdate(path)
    rendered: list[str] = []
    real = blocks.customer_block

    def counting(c: object, config: Config, today: date, messages: object = None) -> blocks.Block:
        rendered.append(c.name)  # type: ignore[attr-defined]
        return real(c, config, today, messages)  # type: ignore[arg-type]

    monkeypatch.setattr(blocks, "customer_block", counting)
    monkeypatch.delenv("CRM_NO_INDEX", raising=False)

    def run(*args: str) -> list[str]:
        rendered.clear()
        result = CliRunner().invoke(main, ["--vault", str(root), "ics", *args])
        assert result.exit_code == 0
        return sorted(rendered)

    everyone = ["Ana García", "Ben Okafor", "Lou", "Zed", "zoë"]
    # The cold build renders every parsed file; the file that lost its id to ana.md is
    # rendered again under the id it gets, and so on every run (its block is never stored).
    assert run("--today", "2026-11-23") == sorted([*everyone, "Ana Again", "Ana Again"])
    assert run("--today", "2026-11-23") == []  # the whole feed is stored for the day
    assert run("--today", "2026-11-23", "--tag", "vip") == []  # filters use the stored columns
    (root / "ben.md").write_text(BEN.replace("2w", "3w"), encoding="utf-8")
    backdate(root / "ben.md")
    assert run("--today", "2026-11-23") == ["Ana Again", "Ben Okafor"]
    assert run("--today", "2026-11-24") == sorted([*everyone, "Ana Again"])  # a new day
    (root / "crm.toml").write_text(FEED_TOML + "alarms = true\n", encoding="utf-8")
    assert run("--today", "2026-11-24") == sorted([*everyone, "Ana Again"])  # a config too
    assert {day for _, day in block_rows(root)} == {date(2026, 11, 24).toordinal()}


def feed_rows(root: Path) -> list[tuple[Any, ...]]:
    return index_rows(root, "SELECT key, day FROM feeds ORDER BY key")


def test_the_whole_feed_is_kept_until_a_file_changes(
    write_vault: WriteVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_vault({**TRICKY_FEED, "crm.toml": FEED_TOML})
    for path in root.rglob("*.md"):
        backdate(path)
    day = date(2026, 11, 23).toordinal()
    first = ics_both_ways(root, ["--today", "2026-11-23"], monkeypatch)
    assert [d for _, d in feed_rows(root)] == [day]
    assert ics_both_ways(root, ["--today", "2026-11-23"], monkeypatch) == first  # read back
    ics_both_ways(root, ["--today", "2026-11-23", "--tag", "vip"], monkeypatch)
    assert [d for _, d in feed_rows(root)] == [day, day]  # one per filter
    # An edit drops every stored feed: the next one shows it, byte for byte the plain feed.
    (root / "ben.md").write_text(BEN.replace("Ben Okafor", "Benedict Okafor"), encoding="utf-8")
    backdate(root / "ben.md")
    edited = ics_both_ways(root, ["--today", "2026-11-23"], monkeypatch)
    assert edited != first and b"Benedict Okafor" in edited[1]
    assert len(feed_rows(root)) == 1
    ics_both_ways(root, ["--today", "2026-11-24"], monkeypatch)
    assert [d for _, d in feed_rows(root)] == [day + 1]  # another day replaces it


def test_feed_without_a_writable_index_still_renders(
    write_vault: WriteVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_vault({**TRICKY_FEED, "crm.toml": FEED_TOML})
    for path in root.rglob("*.md"):
        backdate(path)
    assert CliRunner().invoke(main, ["--vault", str(root), "index"]).exit_code == 0
    assert block_rows(root) == []  # a build without a feed day renders nothing
    monkeypatch.setattr(store.Index, "_in_transaction", lambda self, work: False)
    ics_both_ways(root, ["--today", "2026-11-23"], monkeypatch)
    assert block_rows(root) == []


def test_block_codec_round_trips(write_vault: WriteVault) -> None:
    from crm.feed.blocks import customer_block, encode_block
    from tests.reference import decode_block

    root = write_vault({**TRICKY_FEED, "crm.toml": FEED_TOML})
    config, _ = load_config(root)
    for c in fresh(root).customers:  # type: ignore[attr-defined]
        block = customer_block(c, config, date(2026, 11, 23))
        assert decode_block(block.name, block.timed, encode_block(block)) == block


def test_live_feed_builds_from_the_index_and_renders_only_what_changed(
    write_vault: WriteVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crm.feed import blocks
    from crm.feed.live import FeedJob
    from crm.rules.filters import CustomerFilter

    root = write_vault({**TRICKY_FEED, "crm.toml": FEED_TOML})
    for path in root.rglob("*.md"):
        backdate(path)
    monkeypatch.delenv("CRM_NO_INDEX", raising=False)
    rendered: list[str] = []
    real = blocks.customer_block

    def counting(c: object, config: Config, today: date, messages: object = None) -> blocks.Block:
        rendered.append(c.name)  # type: ignore[attr-defined]
        return real(c, config, today, messages)  # type: ignore[arg-type]

    monkeypatch.setattr(blocks, "customer_block", counting)
    logged: list[str] = []
    job = FeedJob(
        root, CustomerFilter(tags=("vip",)), date(2026, 11, 23), logged.append, now=wall_clock
    )
    first = job.build()
    assert len(rendered) == 6  # in the cold build, with the duplicate (not a vip: not again)
    assert index_path(root).exists()
    (root / "zoe.md").write_text(TRICKY_FEED["zoe.md"].replace("2019", "2018"), "utf-8")
    backdate(root / "zoe.md")
    rendered.clear()
    second = job.build()
    assert rendered == ["zoë"]
    assert second != first and b"anniversary (8 years)" in second
    assert (
        job.summary() == f"{second.count(b'BEGIN:VEVENT')} events, 6 problems"
    )  # 4 of them warnings
    assert logged[0].startswith(f"{root / 'bad.md'}:")
    monkeypatch.setenv("CRM_NO_INDEX", "1")
    assert job.build() == second


def test_block_codec_falls_back_to_json_when_a_separator_turns_up() -> None:
    from crm.feed.blocks import Block, BlockEvent, encode_block
    from tests.reference import decode_block

    odd = Block("x", (BlockEvent("2026-11-23T0000000000000", "u\x1fid", b"A\x1eB\r\n"),), False)
    data = encode_block(odd)
    assert data[:1] == b"J"
    assert decode_block("x", False, data) == odd
    assert decode_block("y", True, encode_block(Block("y", (), True))) == Block("y", (), True)


def test_parallel_parse_renders_the_serial_blocks(write_vault: WriteVault) -> None:
    root = write_vault({f"c{n}.md": ANA.replace("Ana", f"Ana{n}") for n in range(6)})
    items = sorted(scan(root, Config())[0])
    day = FeedBlocks(date(2026, 11, 23), render_block)
    serial = list(parse_changed(root, items, Config(), 0, workers=1, blocks=day))
    pooled = list(
        parse_changed(root, items, Config(), 0, workers=2, min_parallel=2, chunk=3, blocks=day)
    )
    assert pooled == serial
    assert all(row.block is not None and b"BEGIN:VEVENT" in row.block[2] for row in serial)


def run_list(root: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--vault", str(root), "list", "--format", "csv"])
    return result.exit_code, result.stdout


def test_damaged_pages_fall_back_to_a_plain_parse(write_vault: WriteVault) -> None:
    files: dict[str, str | bytes] = {
        f"c{n:03d}.md": ANA.replace("ana", f"c{n:03d}") for n in range(60)
    }
    root = write_vault(files)
    for name in files:
        backdate(root / name)
    expected = run_list(root)
    path = index_path(root)
    data = bytearray(path.read_bytes())
    # Keep the header, so the file opens; damage every later page.
    for page in range(4096, len(data), 4096):
        data[page + 100 : page + 400] = b"\xa5" * 300
    path.write_bytes(bytes(data))
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    assert run_list(root) == expected
    assert run_list(root) == expected  # and the next command has a sound index again


def test_an_index_that_cannot_be_removed_is_bypassed(write_vault: WriteVault) -> None:
    root = write_vault({"ana.md": ANA})
    index_path(root).mkdir(parents=True)  # a folder where the database should be
    code, out = run_list(root)
    assert code == 0 and "Ana García" in out


def test_new_parsing_code_rebuilds_the_index(
    write_vault: WriteVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_vault({"ana.md": ANA})
    indexed(root).close()
    monkeypatch.setattr(schema, "_code_hash", lambda: "different code")
    idx = indexed(root)
    assert idx.stats.rebuilt == "schema or crm version changed"
    idx.close()


def test_the_code_hash_covers_the_renderer_the_feed_hands_the_index() -> None:
    from crm.feed import blocks, events, icswrite, render

    # The index never imports the feed, but the blocks it stores are the feed's output.
    for module in (blocks, events, icswrite, render):
        assert Path(str(module.__file__)).parent.name in schema.CODE_PACKAGES
    assert render_block.__module__ == blocks.__name__


def test_a_database_error_mid_command_answers_from_a_plain_parse(
    write_vault: WriteVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_vault({"crm.toml": '[defaults]\ncadence = "30d"\n', "ana.md": ANA, "ben.md": BEN})
    args = ["--vault", str(root), "overdue", "--today", "2026-12-20"]
    expected = CliRunner(env={"CRM_NO_INDEX": "1"}).invoke(main, args).output

    def malformed(self: store.Index, *a: object) -> set[int]:
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr(store.Index, "_fids", malformed)
    result = CliRunner().invoke(main, args)
    assert (result.exit_code, result.output) == (0, expected)
    assert "Ana García" in expected
    assert not index_path(root).exists()  # damaged: removed, the next command rebuilds it


def test_an_edit_that_restores_size_and_mtime_is_still_seen(write_vault: WriteVault) -> None:
    # What `cp -p`, `rsync -a` and `touch -r` do: the content changes, mtime is put back.
    root = write_vault({"ana.md": ANA, "ben.md": BEN})
    path = root / "ana.md"
    backdate(path)
    before = path.stat()
    indexed(root).close()
    path.write_text(ANA.replace("Ana García", "Anx García"), encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size
    idx = same_as_fresh(root)
    assert [c.name for c in idx.vault().customers][0] == "Anx García"


def test_a_database_error_mid_feed_renders_from_a_plain_parse(
    write_vault: WriteVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_vault({"ana.md": ANA, "ben.md": BEN})
    args = ["--vault", str(root), "ics", "--today", "2026-11-23"]
    expected = CliRunner(env={"CRM_NO_INDEX": "1"}).invoke(main, args).output
    calls = []
    real = store.Index.feed_parts

    def failing_once(self: store.Index, *a: object, **k: object) -> object:
        calls.append(1)
        if len(calls) == 1:
            raise sqlite3.DatabaseError("database disk image is malformed")
        return real(self, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(store.Index, "feed_parts", failing_once)
    result = CliRunner().invoke(main, args)
    assert (result.exit_code, result.output) == (0, expected)
    assert "BEGIN:VEVENT" in expected


def warning(why: str) -> str:
    return f"crm: warning: index not used ({why}); reading every file, which is slower\n"


def test_an_unusable_index_is_reported_once_on_stderr(write_vault: WriteVault) -> None:
    root = write_vault({"ana.md": ANA, "ben.md": BEN})
    plain = CliRunner(env={"CRM_NO_INDEX": "1"})
    expected = {
        cmd: plain.invoke(main, ["--vault", str(root), cmd, "--today", "2026-11-23"]).stdout
        for cmd in ("list", "agenda", "ics")
    }
    (root / ".crm").write_text("")  # a file where the folder goes: nothing can be created in it
    why = f"index unusable ([Errno 17] File exists: '{root / '.crm'}')"
    for cmd in ("list", "agenda", "ics"):
        result = CliRunner().invoke(main, ["--vault", str(root), cmd, "--today", "2026-11-23"])
        assert (result.exit_code, result.stdout, result.stderr) == (
            0,
            expected[cmd],
            warning(why),
        ), cmd
    result = CliRunner().invoke(
        main, ["--vault", str(root), "show", "ben", "--today", "2026-11-23"]
    )
    assert (result.exit_code, result.stderr) == (0, warning(why))
    assert result.stdout.startswith("Ben Okafor (ben)  active\n")
    # Turned off on purpose: no warning.
    result = plain.invoke(main, ["--vault", str(root), "list"])
    assert (result.exit_code, result.stdout, result.stderr) == (0, expected["list"], "")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder")
def test_a_read_only_index_folder_is_reported_once_on_stderr(write_vault: WriteVault) -> None:
    root = write_vault({"ana.md": ANA})
    expected = CliRunner(env={"CRM_NO_INDEX": "1"}).invoke(main, ["--vault", str(root), "list"])
    (root / ".crm").mkdir(mode=0o555)
    try:
        result = CliRunner().invoke(main, ["--vault", str(root), "list"])
    finally:
        (root / ".crm").chmod(0o755)
    why = f"index unusable ([Errno 13] Permission denied: '{root / '.crm' / '.gitignore'}')"
    assert (result.exit_code, result.stdout, result.stderr) == (0, expected.stdout, warning(why))


def test_an_index_locked_too_long_is_reported_once_on_stderr(
    write_vault: WriteVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_vault({"ana.md": ANA})
    indexed(root).close()
    (root / "ben.md").write_text(BEN, encoding="utf-8")
    expected = CliRunner(env={"CRM_NO_INDEX": "1"}).invoke(main, ["--vault", str(root), "list"])
    monkeypatch.setattr(schema, "BUSY_SECONDS", 0.05)
    holder = sqlite3.connect(index_path(root), isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        result = CliRunner().invoke(main, ["--vault", str(root), "list"])
    finally:
        holder.close()
    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        expected.stdout,
        warning("index busy (database is locked)"),
    )


GENERATED_DAYS = [date(2026, 11, 23), date(2026, 12, 10), date(2026, 6, 1), date(2025, 12, 15), date(2027, 3, 1)]  # fmt: skip
GENERATED_REPORTS = [
    ["overdue"],
    ["overdue", "--limit", "3"],
    ["upcoming", "--days", "400"],
    ["noisy"],
    ["replies", "--format", "json"],
    ["replies", "--limit", "2"],
    ["rewards"],
    ["rewards", "--limit", "3", "--format", "csv"],
    ["agenda"],
    ["agenda", "--limit", "0", "--format", "json"],
    ["thanks"],
    ["thanks", "--min-visits", "1", "--period", "30d"],
    ["winback", "--min-value", "0"],
    ["winback"],
    ["search", "espresso"],
    ["search", "JAZZ", "ana"],
    ["draft", "offer", "--dry-run", "--explain"],
    ["draft", "offer", "--dry-run", "--report", "overdue", "--format", "json"],
]


@pytest.mark.parametrize("kind", ["bench", "imported"])
def test_reports_on_generated_vaults_equal_a_plain_parse_after_edits(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bench's vault and the imported one (half overdue): index and plain parse agree on
    every report, over days before, inside and after the logs, and after an edit, a deletion
    and a rename."""
    import subprocess
    import sys

    root = tmp_path / kind
    genvault = Path(__file__).parent.parent / "bench" / "genvault.py"
    extra = ["--imported"] if kind == "imported" else []
    subprocess.run(
        [sys.executable, str(genvault), "--count", "80", "--out", str(root), *extra], check=True
    )
    runner = CliRunner()

    def both(days: list[date]) -> None:
        for today in days:
            for report in GENERATED_REPORTS:
                args = ["--vault", str(root), *report, "--today", today.isoformat()]
                monkeypatch.delenv("CRM_NO_INDEX", raising=False)
                with_index = runner.invoke(main, args)
                monkeypatch.setenv("CRM_NO_INDEX", "1")
                plain = runner.invoke(main, args)
                assert (plain.exit_code, plain.output) == (
                    with_index.exit_code,
                    with_index.output,
                ), args

    both(GENERATED_DAYS)
    files = sorted(root.rglob("*.md"))
    monkeypatch.delenv("CRM_NO_INDEX", raising=False)
    logged = runner.invoke(
        main,
        ["--vault", str(root), "log", files[0].stem, "visit: a new cut", "--date", "2026-11-23"],
    )
    assert logged.exit_code == 0, logged.output
    files[1].unlink()
    files[2].rename(files[2].with_name("renamed.md"))
    both([date(2026, 11, 23), date(2026, 6, 1)])


def test_customers_by_exact_id_from_the_index_equal_the_plain_parse(
    write_vault: WriteVault,
) -> None:
    from crm.index.collection import Collection

    root = write_vault({**TRICKY_FEED, "crm.toml": FEED_TOML})
    for path in root.rglob("*.md"):
        backdate(path)
    plain = {c.id: c for c in load_vault(root, Config()).customers}
    assert {"ana", "dup"} <= set(plain)  # the file that lost the clash over "ana" is "dup"
    wanted = [*plain, "nobody", "ANA", "an"]
    found = Collection(root, now=wall_clock()).by_ids(iter(wanted))
    assert {k: (c.name, c.location.path) for k, c in found.items()} == {
        k: (c.name, c.location.path) for k, c in plain.items()
    }
    collection = Collection(root, now=wall_clock())
    assert collection.by_id("dup") is not None and collection.by_id("dup").name == "Ana Again"  # type: ignore[union-attr]
    assert collection.by_id("an") is None and collection.by_id("ANA") is None
