"""What counts as contact: the classes of ``[kinds]``, plans dated after today, crm.toml typos."""

from __future__ import annotations

import json
import tomllib
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from crm.cli import main
from crm.core.config import load_config, parse_config
from crm.core.kinds import NO_KIND, Kinds
from crm.core.model import Location
from tests.conftest import WriteVault

ADA = (
    "---\nname: Ada Lovelace\nfirst_name: Ada\n---\n## Log\n"
    "- 2026-09-01 call: hi\n"
    "- 2026-11-20 greeting: happy holidays\n"
    "- 2026-12-01 call: booked the tasting\n"
)
CADENCE = '[defaults]\ncadence = "30d"\nmax_contacts = "2/30d"\n'
OVERDUE_ADA = (
    "NAME          LATE  LAST CONTACT     EVERY  LIKES\nAda Lovelace  53d   2026-09-01 call  30d\n"
)


def crm(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--vault", str(root), *args])
    return result.exit_code, result.stdout, result.stderr


def messages(toml: str) -> list[str]:
    _, problems = parse_config(tomllib.loads(toml), Location(Path("crm.toml")))
    return [f"{p.severity}: {p.message}" for p in problems]


# --- the classes ---------------------------------------------------------------------------


def test_default_classes() -> None:
    kinds = Kinds()
    got = {k: (kinds.class_of(k), kinds.resets(k), kinds.counts(k)) for k in ("call", "offer")}
    assert got == {"call": ("contact", True, True), "offer": ("broadcast", False, True)}
    assert (kinds.class_of("note"), kinds.resets("note"), kinds.counts("note")) == (
        "note",
        False,
        False,
    )
    assert kinds.named("broadcast") == ("greeting", "newsletter", "notice", "offer")
    # An unknown kind is contact; the kind of an entry written without one is never unknown.
    assert (kinds.class_of("texted"), kinds.known("texted")) == ("contact", False)
    assert (kinds.class_of(NO_KIND), kinds.known(NO_KIND)) == ("contact", True)


def test_kinds_lists_move_kinds_between_classes() -> None:
    cfg, problems = parse_config(
        tomllib.loads('[kinds]\nbroadcast = ["Email", "flyer"]\nnote = ["-"]\n'),
        Location(Path("crm.toml")),
    )
    assert problems == []
    kinds = cfg.kinds
    assert [kinds.class_of(k) for k in ("email", "flyer", "-", "call", "offer")] == [
        "broadcast",
        "broadcast",
        "note",
        "contact",
        "broadcast",
    ]


def test_bad_kinds_lists_are_errors() -> None:
    toml = '[kinds]\ncontact = "call"\nbroadcast = ["two words", "promo"]\nnote = ["promo"]\n'
    assert messages(toml) == [
        "error: kinds.contact must be a list of strings",
        "error: kinds.broadcast: 'two words' is not a log kind (one word, or '-')",
        "error: kinds.note: 'promo' is also in kinds.broadcast",
    ]


def test_a_broadcast_does_not_reset_the_rhythm_but_counts_toward_the_cap(
    write_vault: WriteVault,
) -> None:
    bella = (
        "---\nname: Bella Rossi\nfirst_name: Bella\n---\n## Log\n"
        "- 2026-10-01 call: hi\n"
        "- 2026-11-01 newsletter: November\n"
        "- 2026-11-15 greeting: happy holidays\n"
        "- 2026-11-20 note: likes jazz\n"
    )
    root = write_vault({"crm.toml": '[defaults]\ncadence = "30d"\nmax_contacts = "1/30d"\n'})
    write_vault({"bella.md": bella})
    assert crm(root, "overdue", "--today", "2026-11-23") == (
        0,
        "NAME         LATE  LAST CONTACT     EVERY  LIKES\n"
        "Bella Rossi  23d   2026-10-01 call  30d\n",
        "",
    )
    code, out, _ = crm(root, "noisy", "--today", "2026-11-23", "--format", "json")
    assert (code, [(r["name"], r["count"]) for r in json.loads(out)]) == (0, [("Bella Rossi", 2)])


def test_a_change_of_kinds_is_no_stale_index(write_vault: WriteVault) -> None:
    root = write_vault({"crm.toml": CADENCE, "ada.md": ADA.replace("greeting", "flyer")})
    later = "2026-12-20"
    assert crm(root, "overdue", "--today", later)[1] == "Nobody is overdue.\n"
    # `flyer` was an unknown kind, so contact; as a broadcast the last contact is the call.
    (root / "crm.toml").write_text(CADENCE + '[kinds]\nbroadcast = ["flyer"]\nnote = ["call"]\n')
    assert crm(root, "overdue", "--today", later) == (
        0,
        "NAME          LATE   LAST CONTACT  EVERY  LIKES\nAda Lovelace  never  never         30d\n",
        "",
    )


def test_the_deprecated_outreach_list_still_decides_what_counts(write_vault: WriteVault) -> None:
    toml = '[defaults]\nmax_contacts = "1/30d"\n\n[contact]\noutreach = ["visit"]\n'
    log = "- 2026-11-10 visit: cut\n- 2026-11-20 visit: colour\n- 2026-11-21 email: x\n"
    root = write_vault({"crm.toml": toml, "ada.md": ADA.split("## Log\n")[0] + "## Log\n" + log})
    config, problems = load_config(root)
    assert [str(p).removeprefix(f"{root}/") for p in problems] == [
        "crm.toml:5: warning: contact.outreach is deprecated: name the kinds that are broadcast"
        " or note in [kinds] instead (until then it decides which kinds count toward"
        " max_contacts)"
    ]
    assert (config.kinds.counts("visit"), config.kinds.counts("email")) == (True, False)
    code, out, _ = crm(root, "noisy", "--today", "2026-11-23", "--format", "json")
    assert [(r["name"], r["count"]) for r in json.loads(out)] == [("Ada Lovelace", 2)]


# --- crm check: unknown kinds, plans -------------------------------------------------------


def test_check_lists_each_unknown_kind_once_at_its_first_use(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "b.md": "---\nname: B\nfirst_name: B\n---\n## Log\n"
            "- 2026-10-01 texted: hi\n- 2026-10-02 texted: again\n- 2026-10-03 haircut: short\n",
            "a.md": "---\nname: A\nfirst_name: A\n---\n## Log\n- [ ] 2026-10-09 texted: plan\n",
        }
    )
    code, out, err = crm(root, "check", "--today", "2026-11-23")
    assert (code, out) == (0, "")
    assert err.replace(f"{root}/", "") == (
        "a.md:6: warning: log kind 'texted' is not in [kinds] (counted as contact, 3 entries);"
        " did you mean 'text'?\n"
        "b.md:8: warning: log kind 'haircut' is not in [kinds] (counted as contact, 1 entry);"
        " name its class in crm.toml\n"
    )
    (root / "crm.toml").write_text('[kinds]\ncontact = ["texted", "haircut"]\n')
    assert crm(root, "check", "--today", "2026-11-23") == (0, "", "")


def test_a_contact_entry_after_today_is_a_plan(write_vault: WriteVault) -> None:
    root = write_vault({"crm.toml": CADENCE, "ada.md": ADA})
    # Through the index, whose stored due date comes from the newest entry (12-01 + 30d).
    assert crm(root, "overdue", "--today", "2026-11-23") == (0, OVERDUE_ADA, "")
    assert crm(root, "overdue", "--today", "2026-12-01")[1] == "Nobody is overdue.\n"
    assert crm(root, "overdue", "--today", "2026-11-23") == (0, OVERDUE_ADA, "")
    code, out, err = crm(root, "check", "--today", "2026-11-23", "--format", "json")
    assert (code, err) == (0, "")
    assert [(Path(p["path"]).name, p["line"], p["message"]) for p in json.loads(out)] == [
        (
            "ada.md",
            8,
            "call entry dated 2026-12-01 is after today: a plan, not contact yet"
            " (write a plan as '- [ ] 2026-12-01 call: ...')",
        )
    ]
    assert crm(root, "check", "--today", "2026-12-01") == (0, "", "")
    # A broadcast dated ahead (a scheduled newsletter) is no contact: no warning.
    write_vault({"ada.md": ADA.replace("12-01 call", "12-01 newsletter")})
    assert crm(root, "check", "--today", "2026-11-23") == (0, "", "")


def test_a_plan_is_never_the_last_contact_nor_an_only_one(write_vault: WriteVault) -> None:
    only_plan = "---\nname: Ben Ode\nfirst_name: Ben\n---\n## Log\n- 2026-12-01 call: booked\n"
    root = write_vault({"crm.toml": CADENCE, "ben.md": only_plan})
    assert crm(root, "overdue", "--today", "2026-11-23")[1] == (
        "NAME     LATE   LAST CONTACT  EVERY  LIKES\nBen Ode  never  never         30d\n"
    )
    assert (
        crm(root, "winback", "--today", "2026-11-23")[1] == "Nobody lost is worth winning back.\n"
    )


def test_a_front_matter_last_contact_after_today_is_a_plan_too(write_vault: WriteVault) -> None:
    from crm.rules.rhythm import last_contact
    from crm.vault.parse import parse_bytes

    text = (
        "---\nname: C\nfirst_name: C\nlast_contact: 2026-12-24\n---\n## Log\n- 2026-11-01 call: x\n"
    )
    c, _ = parse_bytes(text.encode(), Path("c.md"), "c")
    assert c is not None
    on = last_contact(c, Kinds(), date(2026, 11, 23))
    assert on is not None and on.day == date(2026, 11, 1)
    later = last_contact(c, Kinds(), date(2026, 12, 24))
    assert later is not None and (later.day, later.entry) == (date(2026, 12, 24), None)


# --- crm.toml: unknown keys ----------------------------------------------------------------


def test_unknown_keys_and_sections_are_located_warnings_with_a_guess(
    write_vault: WriteVault,
) -> None:
    toml = (
        "timezone = 'UTC'\n"
        "[vault]\n"
        'date_order = "dmy"\n'
        "[defaults]\n"
        'cadance = "90d"\n'
        "[cadence]\n"
        'anything-goes = "14d"\n'
        "[feeds]\n"
        'name = "x"\n'
        "[feed]\n"
        "alarm = true\n"
        "[kinds]\n"
        'broadcasts = ["promo"]\n'
        "[colours]\n"
    )
    root = write_vault({"crm.toml": toml})
    code, out, err = crm(root, "check", "--today", "2026-11-23")
    assert (code, out) == (0, "")
    assert err.replace(f"{root}/", "") == (
        "crm.toml:1: warning: timezone: unknown key, ignored; did you mean '[vault] timezone'?\n"
        "crm.toml:5: warning: defaults.cadance: unknown key, ignored; did you mean 'cadence'?\n"
        "crm.toml:8: warning: [feeds]: unknown section, ignored; did you mean '[feed]'?\n"
        "crm.toml:11: warning: feed.alarm: unknown key, ignored; did you mean 'alarms'?\n"
        "crm.toml:13: warning: kinds.broadcasts: unknown key, ignored; did you mean 'broadcast'?\n"
        "crm.toml:14: warning: [colours]: unknown section, ignored (known: [vault], [defaults],"
        " [cadence], [contact], [kinds], [feed], [loyalty], [business], [outreach], [digest], [agenda],"
        " [serve], [topics], [smtp])\n"
    )
    assert crm(root, "check", "--strict", "--today", "2026-11-23")[0] == 1


@pytest.mark.parametrize(
    "toml",
    [
        "",
        '[vault]\ninclude = ["*.md"]\nexclude = []\ntimezone = "UTC"\nfeb29 = "mar1"\n',
        '[loyalty]\nthanks_period = "90d"\nmin_visits = 3\nmin_value = 1\nwinback_min_value = 2\n',
        '[feed]\nname = "x"\ndays_back = 1\ntoken = "t"\nalarms = true\nlead_days = 1\n',
        '[kinds]\ncontact = []\nbroadcast = []\nnote = []\n[cadence]\n"VIP customers" = "7d"\n',
    ],
)
def test_known_keys_are_quiet(toml: str) -> None:
    assert messages(toml) == []
