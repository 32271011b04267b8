"""Whom a closure notice goes to: those it concerns, never everyone loyal (issue 31)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from pathlib import Path

from click.testing import CliRunner, Result

from crm.cli import main
from tests.conftest import WriteVault

TODAY = "2026-07-13"  # the notice day: 21 days before the closure
CAMPAIGN = "closure-2026-08-03"
SALON = """\
[defaults]
cadence = "8w"

[outreach]
regulars = ["stammkunde"]

[smtp]
host = "127.0.0.1"
security = "none"
from = "Salon <hallo@salon.example>"

[[closures]]
from = 2026-08-03
to = 2026-08-16
reason = "summer holiday"
"""
NOTICE = """\
---
kind: notice
channel: email
subject: Closed from {{ closure.from | date("d MMMM") }}
topic: closures
---
Hi {{ hello }}, we are closed from {{ closure.from | date("d MMMM") }} to \
{{ closure.to | date("d MMMM") }}.
"""
HEAD = "About the closure 2026-08-03 to 2026-08-16 (summer holiday): the customers it concerns\n"


def run(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--vault", str(root), *args])


def person(name: str, front: str = "", visits: tuple[date, ...] = ()) -> str:
    first = name.split()[0]
    log = "".join(f"- {d.isoformat()} visit: cut\n" for d in visits)
    return (
        f"---\nname: {name}\nfirst_name: {first}\nemail: {first.lower()}@example.com\n{front}"
        f"---\n\n## Log\n{log}"
    )


def every_seven_weeks(last: date) -> tuple[date, ...]:
    """Four visits in the year, seven weeks apart: loyal by the rule of crm thanks."""
    return tuple(last - timedelta(weeks=7 * n) for n in (3, 2, 1, 0))


# Whom the closure concerns, each for its own reason (or held back by a rule that still applies).
CONCERNED = {
    # Due by the contact rhythm (their own cadence) while the salon is closed.
    "ada": person("Ada Due", "cadence: 30d\n", (date(2026, 7, 6),)),
    # A follow-up planned for the week after it reopens.
    "ben": person("Ben Follow", "next_contact: 2026-08-20\n", every_seven_weeks(date(2026, 7, 1))),
    # Comes every 40 days: the next visit falls inside the closure.
    "cleo": person("Cleo Habit", "", (date(2026, 4, 15), date(2026, 5, 25), date(2026, 7, 4))),
    # A regular by tag, not due then.
    "dora": person("Dora Regular", "tags: [stammkunde]\n", every_seven_weeks(date(2026, 7, 2))),
    # Visited five days ago; her next appointment falls inside the closure.
    "eva": person("Eva Recent", "next_contact: 2026-08-04\n", every_seven_weeks(date(2026, 7, 8))),
    # Regulars the other rules still hold back.
    "finn": person(
        "Finn Optout",
        "tags: [stammkunde]\nopt_out: [closures]\n",
        every_seven_weeks(date(2026, 7, 2)),
    ),
    "gil": person(
        "Gil Away",
        "tags: [stammkunde]\naway: 2026-07-10..2026-07-20\n",
        every_seven_weeks(date(2026, 7, 3)),
    ),
}


def salon(write_vault: WriteVault) -> Path:
    """Forty customers: 33 loyal ones not due near the closure, and the seven above."""
    files: dict[str, str | bytes] = {"crm.toml": SALON, "templates/messages/closure.md": NOTICE}
    for n in range(1, 34):
        # Last seen 1 to 5 July: due by the 8-week cadence after the busy week (26 to 30 August),
        # and their seven-week habit brings them back after the closure (19 to 23 August).
        last = date(2026, 7, 1) + timedelta(days=n % 5)
        files[f"loyal-{n:02}.md"] = person(f"Loyal{n:02} Customer", "", every_seven_weeks(last))
    files.update({f"{slug}.md": text for slug, text in CONCERNED.items()})
    root = write_vault(files)
    assert len(list(root.glob("*.md"))) == 40
    return root


def test_the_notice_reaches_exactly_those_the_closure_concerns(write_vault: WriteVault) -> None:
    result = run(salon(write_vault), "draft", "closure", "--dry-run", "--explain", "--today", TODAY)
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"{CAMPAIGN}: 5 drafts; held back: 1 away, 1 opted out\n"
        f"{HEAD}"
        "  draft  Ada Due (ada): email Ada Due <ada@example.com> (due 2026-08-05)\n"
        "  draft  Ben Follow (ben): email Ben Follow <ben@example.com> "
        "(due 2026-08-20; follow-up planned 2026-08-20)\n"
        "  draft  Cleo Habit (cleo): email Cleo Habit <cleo@example.com> "
        "(usually comes every 40 days, next around 2026-08-13)\n"
        "  draft  Dora Regular (dora): email Dora Regular <dora@example.com> "
        "(regular (stammkunde))\n"
        "  draft  Eva Recent (eva): email Eva Recent <eva@example.com> "
        "(due 2026-08-04; follow-up planned 2026-08-04)\n"
        "  held   Finn Optout (finn): opted out (closures)\n"
        "  held   Gil Away (gil): away (until 2026-07-20)\n"
        "Dry run: nothing written.\n"
    )


def test_json_and_csv_carry_why_the_closure_concerns_each(write_vault: WriteVault) -> None:
    root = salon(write_vault)
    args = ("draft", "closure", "--dry-run", "--explain", "--today", TODAY, "--format")
    shown = run(root, *args, "json")
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    assert [(r["id"], r["why"]) for r in data["drafts"]] == [
        ("ada", "due 2026-08-05"),
        ("ben", "due 2026-08-20; follow-up planned 2026-08-20"),
        ("cleo", "usually comes every 40 days, next around 2026-08-13"),
        ("dora", "regular (stammkunde)"),
        ("eva", "due 2026-08-04; follow-up planned 2026-08-04"),
    ]
    assert data["held"] == [
        {"id": "finn", "name": "Finn Optout", "outcome": "held", "channel": None, "to": None,
         "reason": "opted out", "detail": "closures", "path": None,
         "why": "regular (stammkunde)"},
        {"id": "gil", "name": "Gil Away", "outcome": "held", "channel": None, "to": None,
         "reason": "away", "detail": "until 2026-07-20", "path": None,
         "why": "regular (stammkunde)"},
    ]  # fmt: skip
    table = run(root, *args, "csv")
    assert table.exit_code == 0, table.output
    rows = list(csv.reader(io.StringIO(table.output)))
    assert rows[0] == ["id", "name", "outcome", "channel", "to", "reason", "detail", "path", "why"]
    assert rows[1] == [
        "ada", "Ada Due", "draft", "email", "Ada Due <ada@example.com>", "", "",
        f"outbox/{CAMPAIGN}/ada.md", "due 2026-08-05",
    ]  # fmt: skip
    assert [(r[0], r[-1]) for r in rows[2:]] == [
        ("ben", "due 2026-08-20; follow-up planned 2026-08-20"),
        ("cleo", "usually comes every 40 days, next around 2026-08-13"),
        ("dora", "regular (stammkunde)"),
        ("eva", "due 2026-08-04; follow-up planned 2026-08-04"),
        ("finn", "regular (stammkunde)"),
        ("gil", "regular (stammkunde)"),
    ]


def test_whom_it_concerns_is_sent_the_notice_though_seen_lately(write_vault: WriteVault) -> None:
    # Ada (seen 7 days ago) and Eva (5 days ago) are within the 7-day quiet period: the notice,
    # news of their own next visit, is written to them and goes out the next day all the same.
    root = salon(write_vault)
    drafted = run(root, "draft", "closure", "--today", TODAY)
    assert (drafted.exit_code, drafted.output) == (
        0,
        f"{CAMPAIGN}: 5 drafts; held back: 1 away, 1 opted out\n{HEAD}"
        f"Wrote 5 to outbox/{CAMPAIGN}/; read and edit them, then: crm send {CAMPAIGN}\n",
    )
    remembered = (root / "outbox" / CAMPAIGN / "campaign.toml").read_text(encoding="utf-8")
    assert remembered.endswith(
        "[[drafted]]\n"
        "day = 2026-07-13\n"
        'template = "closure"\n'
        'quiet = "7d"\n'
        "closure = 2026-08-03\n"
        'drafts = [\n  "ada",\n  "ben",\n  "cleo",\n  "dora",\n  "eva",\n]\n'
        'news = [\n  "ada",\n  "ben",\n  "cleo",\n  "dora",\n  "eva",\n]\n'
    )
    sent = run(root, "send", CAMPAIGN, "--today", "2026-07-14")
    assert (sent.exit_code, sent.output) == (
        0,
        "would send: ada: Ada Due <ada@example.com>: Closed from 3 August\n"
        "would send: ben: Ben Follow <ben@example.com>: Closed from 3 August\n"
        "would send: cleo: Cleo Habit <cleo@example.com>: Closed from 3 August\n"
        "would send: dora: Dora Regular <dora@example.com>: Closed from 3 August\n"
        "would send: eva: Eva Recent <eva@example.com>: Closed from 3 August\n"
        "5 to send; run again with --yes to send them.\n",
    )


def test_a_closure_audience_named_on_the_command_line_keeps_the_quiet_period_for_the_rest(
    write_vault: WriteVault,
) -> None:
    # --tag chooses the audience: Dora, a regular, hears of it; Lou, seen three days ago and not
    # concerned, is held back by the quiet period as for any message.
    root = salon(write_vault)
    lou = person("Lou Lately", "tags: [team]\n", (date(2026, 7, 10),))
    (root / "lou.md").write_text(lou, encoding="utf-8")
    (root / "dora.md").write_text(
        CONCERNED["dora"].replace("tags: [stammkunde]", "tags: [stammkunde, team]"),
        encoding="utf-8",
    )
    result = run(
        root, "draft", "closure", "--tag", "team", "--dry-run", "--explain", "--today", TODAY
    )
    assert (result.exit_code, result.output) == (
        0,
        f"{CAMPAIGN}: 1 draft; held back: 1 contacted in the last 7 days\n"
        "About the closure 2026-08-03 to 2026-08-16 (summer holiday)\n"
        "  draft  Dora Regular (dora): email Dora Regular <dora@example.com> "
        "(regular (stammkunde))\n"
        "  held   Lou Lately (lou): contacted lately (2026-07-10, within 7d)\n"
        "Dry run: nothing written.\n",
    )
