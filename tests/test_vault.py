"""The loader: which files are customers, how fields are typed, vault discovery, crm.toml, init."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import pytest
from click.testing import CliRunner

from crm.cli import main
from crm.core.config import Config, load_config
from crm.core.errors import CrmError
from crm.core.model import Address, Away, ContactCap, Location, PartialDate, Span
from crm.vault.files import find_files, find_root
from crm.vault.load import load_vault
from crm.vault.parse import parse_bytes
from tests.conftest import WriteVault

FULL = """\
---
# a comment is fine
name: "Zoë Müller"
first_name: Zoë
last_name: Müller
email: [zoe@example.de, "zoe.m@work.example"]
phone: "+49 30 1234"
company: Atelier Z
address: Kastanienallee 5, Berlin
tags:
  - regular
  - vip
segment: salon
status: Active
value: 1_250.50
likes: [tea, "jazz, mostly"]
dislikes: loud music
birthday: --04-14
anniversary: 2010-06-01
dates:
  - label: Shop opening
    date: 2021-12-01
  - {label: Wedding, date: 2027-05-05, yearly: false}
customer_since: 2019-12-01
cadence: 6w
last_contact: 2026-10-01
next_contact: 2026-12-02 10:30
snooze_until: 2026-11-01
away: {from: 2026-12-20, to: 2027-01-05}
max_contacts: 3/30d
country: "no"
favourite_number: 7
---
Met at the **spring** fair.

## Log
- 2026-10-01 visit: colour
- 2026-10-05 14:15 call: booked December
- 2026-10-06 note: allergic to ammonia
- [ ] 2026-12-01 call: confirm the booking
* 2026-09-01 Email: newsletter

## Ideas
- 2026-01-01 this is not a log line
"""


def test_every_field_is_typed() -> None:
    c, problems = parse_bytes(FULL.encode(), Path("v/zoe.md"), "zoe")
    assert problems == []
    assert c is not None
    assert (c.id, c.name, c.first_name, c.last_name) == ("zoe", "Zoë Müller", "Zoë", "Müller")
    assert c.emails == ("zoe@example.de", "zoe.m@work.example")
    assert c.phones == ("+49 30 1234",)
    assert (c.company, c.address, c.segment) == (
        "Atelier Z", Address("Kastanienallee 5, Berlin"), "salon",
    )  # fmt: skip
    assert (c.tags, c.status, c.value) == (("regular", "vip"), "active", 1250.5)
    assert (c.likes, c.dislikes) == (("tea", "jazz, mostly"), ("loud music",))
    assert [(d.kind, d.label, d.date, d.yearly, d.location.line) for d in c.dates] == [
        ("birthday", "Birthday", PartialDate(4, 14, None), True, 18),
        ("anniversary", "Anniversary", PartialDate(6, 1, 2010), True, 19),
        ("date", "Shop opening", PartialDate(12, 1, 2021), True, 20),
        ("date", "Wedding", PartialDate(5, 5, 2027), False, 20),
    ]
    assert c.customer_since == date(2019, 12, 1)
    assert (c.cadence, c.max_contacts) == (Span(6, "w"), ContactCap(3, Span(30, "d")))
    assert c.last_contact == date(2026, 10, 1)
    assert c.next_contact == datetime(2026, 12, 2, 10, 30)
    assert c.snooze_until == date(2026, 11, 1)
    assert c.away == Away(date(2026, 12, 20), date(2027, 1, 5))
    # Unknown keys are kept as text, never typed by YAML.
    assert c.extra == (("country", "no"), ("favourite_number", "7"))
    assert c.location == Location(Path("v/zoe.md"), 1)
    assert c.body.startswith("Met at the **spring** fair.")


def test_log_entries_carry_their_line() -> None:
    c, _ = parse_bytes(FULL.encode(), Path("zoe.md"), "zoe")
    assert c is not None
    assert [(i.day, i.time, i.kind, i.text, i.done, i.location.line) for i in c.log] == [
        (date(2026, 10, 1), None, "visit", "colour", True, 37),
        (date(2026, 10, 5), time(14, 15), "call", "booked December", True, 38),
        (date(2026, 10, 6), None, "note", "allergic to ammonia", True, 39),
        (date(2026, 12, 1), None, "call", "confirm the booking", False, 40),
        (date(2026, 9, 1), None, "email", "newsletter", True, 41),
    ]


def test_id_field_wins_over_the_file_name() -> None:
    c, _ = parse_bytes(b"---\nid: zm\nname: Z\nfirst_name: Z\n---\n", Path("zoe.md"), "zoe")
    assert c is not None and c.id == "zm"


def test_crlf_and_bom_give_the_same_customer_as_lf() -> None:
    lf, _ = parse_bytes(FULL.encode(), Path("zoe.md"), "zoe")
    crlf, _ = parse_bytes(FULL.replace("\n", "\r\n").encode(), Path("zoe.md"), "zoe")
    bom, _ = parse_bytes(b"\xef\xbb\xbf" + FULL.encode(), Path("zoe.md"), "zoe")
    assert lf is not None and crlf is not None and bom is not None
    assert crlf.log == lf.log and crlf.dates == lf.dates
    assert bom == lf


def test_a_field_problem_drops_that_field_and_keeps_the_customer() -> None:
    text = "---\nname: Ann\nfirst_name: Ann\ncadence: often\nbirthday: 1990-01-02\n---\n"
    c, problems = parse_bytes(text.encode(), Path("ann.md"), "ann")
    assert c is not None
    assert c.cadence is None
    assert c.dates[0].date == PartialDate(1, 2, 1990)
    assert [str(p) for p in problems] == [
        "ann.md:4: cadence: 'often' is not a cadence"
        " (expected e.g. 14d, 2w, 3m, 1y, weekly, monthly, quarterly or yearly)"
    ]


def test_which_files_are_customers(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "README.md": "# about this vault\n",
            "templates/customer.md": "---\nname: '{{name}}'\n---\n",
            ".git/x.md": "nope",
            ".obsidian/y.md": "nope",
            "notes.txt": "not markdown",
            "a.md": "---\nname: A\nfirst_name: A\n---\n",
            "team/README.md": "---\nname: Team Readme\nfirst_name: T\n---\n",
            "team/b.md": "---\nname: B\nfirst_name: B\n---\n",
            "archive/c.md": "---\nname: C\nfirst_name: C\n---\n",
        }
    )
    files, problems = find_files(root, Config())
    assert [f.relative_to(root).as_posix() for f in files] == [
        "a.md",
        "archive/c.md",
        "team/README.md",
        "team/b.md",
    ]
    assert problems == []
    narrowed = Config(include=("team/**", "*.md"), exclude=("**/README.md",))
    files, _ = find_files(root, narrowed)
    assert [f.relative_to(root).as_posix() for f in files] == ["a.md", "team/b.md"]


def test_include_and_exclude_from_crm_toml(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "crm.toml": '[vault]\nexclude = ["archive/**"]\n',
            "a.md": "---\nname: A\nfirst_name: A\n---\n",
            "archive/c.md": "---\nname: C\nfirst_name: C\n---\n",
        }
    )
    config, problems = load_config(root)
    assert problems == []
    assert [c.id for c in load_vault(root, config).customers] == ["a"]


def test_vault_discovery_order(tmp_path: Path) -> None:
    outer = tmp_path / "outer"
    inner = outer / "sub" / "deeper"
    inner.mkdir(parents=True)
    (outer / "crm.toml").write_text("")
    other = tmp_path / "other"
    other.mkdir()
    assert find_root(inner, None, None) == outer
    assert find_root(inner, None, str(other)) == other
    assert find_root(inner, str(outer / "sub"), str(other)) == outer / "sub"
    with pytest.raises(CrmError, match="no vault found"):
        find_root(tmp_path, None, None)
    with pytest.raises(CrmError, match="vault folder not found"):
        find_root(tmp_path, str(tmp_path / "missing"), None)


def test_crm_vault_environment_variable(
    write_vault: WriteVault, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    root = write_vault({"a.md": "---\nname: Ann A\nfirst_name: Ann\n---\n"})
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CRM_VAULT", str(root))
    result = CliRunner().invoke(main, ["list"])
    assert (result.exit_code, result.output) == (0, "ID  NAME   STATUS  TAGS\na   Ann A  active\n")


def test_no_vault_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CRM_VAULT", raising=False)
    result = CliRunner().invoke(main, ["list"])
    assert result.exit_code == 2
    assert result.output == (
        "crm: no vault found: pass --vault DIR, set CRM_VAULT, or run inside a folder with "
        "crm.toml (crm init creates one)\n"
    )


def test_config_keys(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "crm.toml": """
[vault]
timezone = "Europe/Berlin"
feb29 = "mar1"
[defaults]
cadence = "90d"
max_contacts = "4/30d"
[cadence]
vip = "14d"
[kinds]
contact = ["Haircut"]
broadcast = ["promo"]
note = ["email"]
[feed]
name = "My customers"
days_ahead = 100
"""
        }
    )
    config, problems = load_config(root)
    assert problems == []
    assert (config.timezone, config.feb29) == ("Europe/Berlin", "mar1")
    assert config.default_cadence == Span(90, "d")
    assert config.default_max_contacts == ContactCap(4, Span(30, "d"))
    assert config.cadence_by_tag == (("vip", Span(14, "d")),)
    kinds = config.kinds
    assert [kinds.class_of(k) for k in ("haircut", "promo", "email", "call", "texted")] == [
        "contact",
        "broadcast",
        "note",
        "contact",
        "contact",
    ]
    assert (kinds.known("haircut"), kinds.known("texted")) == (True, False)
    assert (config.feed.name, config.feed.days_ahead) == ("My customers", 100)


def test_config_problems_point_at_their_line(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "crm.toml": '[vault]\ntimezone = "Mars/Base"\n[defaults]\ncadence = "often"\n'
            '[cadence]\nvip = "soon"\n[feed]\ndays_back = -1\n'
        }
    )
    _, problems = load_config(root)
    assert [f"{p.location.line}: {p.message}" for p in problems] == [
        "2: vault.timezone: unknown time zone 'Mars/Base'",
        "4: defaults.cadence: 'often' is not a cadence"
        " (expected e.g. 14d, 2w, 3m, 1y, weekly, monthly, quarterly or yearly)",
        "6: cadence.vip: 'soon' is not a cadence"
        " (expected e.g. 14d, 2w, 3m, 1y, weekly, monthly, quarterly or yearly)",
        "8: feed.days_back must be a non-negative int",
    ]


def test_invalid_toml_is_located(write_vault: WriteVault) -> None:
    root = write_vault({"crm.toml": "[vault]\ntimezone = \n"})
    _, problems = load_config(root)
    assert [(p.location.line, p.message) for p in problems] == [(2, "invalid TOML: Invalid value")]


MESSAGES = [
    f"templates/messages/{name}.md"
    for name in ("holiday", "birthday", "thanks", "offer", "winback", "closure")
]


@pytest.mark.parametrize("example", [False, True])
def test_init_creates_a_vault_that_checks_clean(tmp_path: Path, example: bool) -> None:
    folder = tmp_path / "new"
    runner = CliRunner()
    result = runner.invoke(main, ["init", str(folder), *(["--example"] if example else [])])
    assert result.exit_code == 0
    sample = ["bella-rossi.md"] if example else []
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == [
        ".gitignore",
        *sample,
        "crm.toml",
        "templates/customer.md",
        *sorted(MESSAGES),
    ]
    assert result.output == "".join(
        f"created {folder / name}\n"
        for name in ("crm.toml", "templates/customer.md", *MESSAGES, ".gitignore", *sample)
    )
    assert (folder / ".gitignore").read_text() == (
        "# crm's index cache: derived from the files, safe to delete\n.crm/\n"
    )
    result = runner.invoke(main, ["--vault", str(folder), "check"])
    assert (result.exit_code, result.output) == (0, "")
    # The commented defaults in crm.toml parse.
    assert load_config(folder)[1] == []


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    folder = tmp_path / "new"
    folder.mkdir()
    (folder / "crm.toml").write_text("# mine\n")
    result = CliRunner().invoke(main, ["init", str(folder)])
    assert result.exit_code == 1
    assert result.output == f"crm: refusing to overwrite existing files: {folder / 'crm.toml'}\n"
    assert (folder / "crm.toml").read_text() == "# mine\n"
    assert not (folder / "bella-rossi.md").exists()


FENCED = """\
---
name: Fen Ce
first_name: Fen
---
How I write my log:

```markdown
## Log
- 2026-01-01 call: an example, not contact
```

## Log
- 2026-10-01 visit: real
"""


def test_a_log_inside_a_code_fence_is_only_an_example() -> None:
    c, problems = parse_bytes(FENCED.encode(), Path("fen.md"), "fen")
    assert problems == []
    assert c is not None
    assert [(i.day, i.text, i.location.line) for i in c.log] == [(date(2026, 10, 1), "real", 13)]


def test_crm_log_writes_to_the_real_log_not_the_fenced_example(write_vault: WriteVault) -> None:
    root = write_vault({"fen.md": FENCED})
    result = CliRunner().invoke(
        main, ["--vault", str(root), "log", "fen", "call: new", "--date", "2026-11-23"]
    )
    assert result.exit_code == 0, result.output
    assert (root / "fen.md").read_text() == FENCED + "- 2026-11-23 call: new\n"


def test_a_vault_without_crm_toml_works_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "ann.md").write_text("---\nname: Ann A\nfirst_name: Ann\n---\n")
    result = CliRunner().invoke(main, ["--vault", str(tmp_path), "list"])
    assert result.exit_code == 0
    assert result.stderr == f"crm: warning: {tmp_path} has no crm.toml; using defaults\n"
    assert result.stdout == "ID   NAME   STATUS  TAGS\nann  Ann A  active\n"


def test_notes_are_the_body_outside_the_log_and_a_fenced_heading_is_text() -> None:
    from crm.vault.syntax import notes

    body = (
        "Likes the window seat.\n\n"
        "```\n## Log\n- 2026-01-01 call: an example, not an entry\n```\n\n"
        "## Log\n- 2026-11-02 visit: cut\n\n"
        "## Family\nTwo kids.\n"
    )
    assert notes(body) == (
        "Likes the window seat.\n\n"
        "```\n## Log\n- 2026-01-01 call: an example, not an entry\n```\n\n"
        "## Family\nTwo kids."
    )


def test_a_new_vault_takes_today_from_the_machine_until_it_names_a_time_zone(
    tmp_path: Path,
) -> None:
    CliRunner().invoke(main, ["init", str(tmp_path / "new")])
    config, problems = load_config(tmp_path / "new")
    assert (problems, config.timezone_set, config.timezone) == ([], False, "UTC")
