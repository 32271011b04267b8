"""``crm send`` keeps the draft's promises: the campaign's own settings, only what changed since."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from crm.cli import main
from crm.core.config import Config
from crm.core.model import Customer, Interaction, Location, Span
from crm.outreach.campaign import contacted_since
from crm.outreach.drafted import Drafted, file_text, read_runs, run_of
from crm.rules.filters import CustomerFilter
from tests.conftest import WriteVault
from tests.smtpserver import Mailbox, smtp_server

DAY = "2026-12-15"  # the draft day
CAMPAIGN = "hi-2026-12-15"
HI = "---\nkind: greeting\nchannel: email\nsubject: Hi\ntopic: news\n---\nHi {{ hello }}\n"


def run(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--vault", str(root), *args])


def person(name: str, front: str = "", log: str = "") -> str:
    first = name.split()[0]
    return (
        f"---\nname: {name}\nfirst_name: {first}\nemail: {first.lower()}@example.com\n{front}"
        f"---\n\n## Log\n{log}"
    )


def smtp(port: int) -> str:
    return (
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
        'from = "Lumen <hello@lumen.example>"\n'
    )


def test_a_campaign_drafted_with_quiet_0d_is_sent_and_then_nothing_is_left(
    write_vault: WriteVault,
) -> None:
    # The trial: seen three days and one day before the draft, written to with --quiet 0d.
    mailbox = Mailbox()
    with smtp_server(mailbox) as port:
        root = write_vault(
            {
                "crm.toml": smtp(port),
                "templates/messages/hi.md": HI,
                "ana.md": person("Ana Lopez", "", "- 2026-12-12 visit: cut\n"),
                "bo.md": person("Bo Li", "", "- 2026-12-14 call: booked\n"),
                "cy.md": person("Cy Young"),
            }
        )
        drafted = run(root, "draft", "hi", "--quiet", "0d", "--today", DAY)
        assert (drafted.exit_code, drafted.output) == (
            0,
            f"{CAMPAIGN}: 3 drafts\n"
            f"Wrote 3 to outbox/{CAMPAIGN}/; read and edit them, then: crm send {CAMPAIGN}\n",
        )
        assert (root / "outbox" / CAMPAIGN / "campaign.toml").read_text(encoding="utf-8") == (
            "# How crm draft wrote this campaign, one [[drafted]] table a run: crm send holds a draft\n"
            "# back only for what changed since its run (see docs/outreach.md). Leave it to crm.\n"
            "\n"
            "[[drafted]]\n"
            "day = 2026-12-15\n"
            'template = "hi"\n'
            'quiet = "0d"\n'
            'drafts = [\n  "ana",\n  "bo",\n  "cy",\n]\n'
        )
        sent = run(root, "send", CAMPAIGN, "--yes", "--today", "2026-12-16")
        assert (sent.exit_code, sent.output) == (
            0,
            "sent: ana: Ana Lopez <ana@example.com>\n"
            "sent: bo: Bo Li <bo@example.com>\n"
            "sent: cy: Cy Young <cy@example.com>\n",
        )
        again = run(root, "send", CAMPAIGN, "--yes", "--today", "2026-12-16")
        assert (again.exit_code, again.output) == (0, f"nothing left to send in {CAMPAIGN}\n")
        assert len(mailbox.arrived) == 3


CHANGED = {
    # Each changed after the draft of 2026-12-15 (Gus did not: seen that day, before it).
    "ana": (person("Ana Lopez"), person("Ana Lopez", "", "- 2026-12-16 call: booked\n")),
    "bo": (person("Bo Li"), person("Bo Li", "opt_out: [all]\n")),
    "cy": (person("Cy Young"), person("Cy Young", "away: 2026-12-16..2026-12-20\n")),
    "dee": (person("Dee Snow"), person("Dee Snow", "snooze_until: 2026-12-20\n")),
    "eve": (person("Eve Stone"), person("Eve Stone", "status: paused\n")),
    "fay": (person("Fay Hill"), person("Fay Hill", "status: lost\n")),
    "gus": (person("Gus Ray", "", "- 2026-12-15 visit: cut\n"),) * 2,
}


def test_only_what_changed_since_the_draft_holds_it_back(write_vault: WriteVault) -> None:
    before = {f"{slug}.md": texts[0] for slug, texts in CHANGED.items()}
    root = write_vault({"crm.toml": smtp(1), "templates/messages/hi.md": HI, **before})
    assert run(root, "draft", "hi", "--quiet", "0d", "--today", DAY).output.startswith(
        f"{CAMPAIGN}: 7 drafts\n"
    )
    write_vault({f"{slug}.md": texts[1] for slug, texts in CHANGED.items()})
    result = run(root, "send", CAMPAIGN, "--today", "2026-12-17")
    assert (result.exit_code, result.output) == (
        0,
        "not sent: ana: held back now: contacted since it was drafted (2026-12-16)\n"
        "not sent: bo: held back now: opted out (all)\n"
        "not sent: cy: held back now: away (until 2026-12-20)\n"
        "not sent: dee: held back now: snoozed (until 2026-12-20)\n"
        "not sent: eve: held back now: paused\n"
        "not sent: fay: held back now: lost\n"
        "would send: gus: Gus Ray <gus@example.com>: Hi\n"
        "1 to send; run again with --yes to send them.\n",
    )


def test_an_outbox_without_campaign_toml_is_checked_as_before(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "crm.toml": smtp(1),
            "templates/messages/hi.md": HI,
            "ana.md": person("Ana Lopez", "", "- 2026-12-12 visit: cut\n"),
        }
    )
    assert run(root, "draft", "hi", "--quiet", "0d", "--today", DAY).exit_code == 0
    (root / "outbox" / CAMPAIGN / "campaign.toml").unlink()
    result = run(root, "send", CAMPAIGN, "--today", DAY)
    assert (result.exit_code, result.output) == (
        0,
        "not sent: ana: held back now: contacted lately (2026-12-12, within 7d)\n"
        f"nothing left to send in {CAMPAIGN}\n",
    )


def test_each_draft_is_checked_against_the_run_that_wrote_it(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "crm.toml": smtp(1),
            "templates/messages/hi.md": HI,
            "ana.md": person("Ana Lopez", "", "- 2026-12-09 visit: cut\n"),
        }
    )
    first = run(root, "draft", "hi", "--campaign", "hi", "--quiet", "0d", "--today", "2026-12-10")
    assert first.output.startswith("hi: 1 draft\n")
    # Bo arrives later; the second run has the default quiet period (it holds Ana back anew,
    # but her draft is the first run's).
    write_vault({"bo.md": person("Bo Li")})
    second = run(root, "draft", "hi", "--campaign", "hi", "--today", "2026-12-14")
    assert second.output.startswith("hi: 1 draft; held back: 1 contacted in the last 7 days\n")
    assert (
        (root / "outbox" / "hi" / "campaign.toml")
        .read_text(encoding="utf-8")
        .endswith(
            "[[drafted]]\n"
            "day = 2026-12-10\n"
            'template = "hi"\n'
            'quiet = "0d"\n'
            'drafts = [\n  "ana",\n]\n'
            "\n"
            "[[drafted]]\n"
            "day = 2026-12-14\n"
            'template = "hi"\n'
            'quiet = "7d"\n'
            'drafts = [\n  "bo",\n]\n'
        )
    )
    write_vault({"bo.md": person("Bo Li", "", "- 2026-12-15 call: asked about prices\n")})
    result = run(root, "send", "hi", "--today", "2026-12-15")
    assert (result.exit_code, result.output) == (
        0,
        "not sent: bo: held back now: contacted since it was drafted (2026-12-15)\n"
        "would send: ana: Ana Lopez <ana@example.com>: Hi\n"
        "1 to send; run again with --yes to send them.\n",
    )


def test_a_campaign_toml_crm_cannot_read_stops_the_send(write_vault: WriteVault) -> None:
    root = write_vault(
        {"crm.toml": smtp(1), "templates/messages/hi.md": HI, "ana.md": person("Ana Lopez")}
    )
    assert run(root, "draft", "hi", "--today", DAY).exit_code == 0
    path = root / "outbox" / CAMPAIGN / "campaign.toml"
    path.write_text("[[drafted]]\nday = 2026-12-15\n", encoding="utf-8")
    result = run(root, "send", CAMPAIGN, "--today", DAY)
    assert (result.exit_code, result.output) == (
        1,
        f"crm: {path}: drafted[1]: day and template are required\n",
    )


def test_a_call_logged_the_same_day_counts_by_the_minute_the_draft_was_written(
    write_vault: WriteVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crm.cli import clock

    # 09:30:45 UTC is 10:30 in Berlin: the run remembers that minute (there is no --today).
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 12, 15, 9, 30, 45, tzinfo=UTC))
    root = write_vault(
        {
            "crm.toml": '[vault]\ntimezone = "Europe/Berlin"\n\n' + smtp(1),
            "templates/messages/hi.md": HI,
            "ana.md": person("Ana Lopez", "", "- 2026-12-15 09:00 visit: cut\n"),
            "bo.md": person("Bo Li"),
        }
    )
    assert run(root, "draft", "hi", "--quiet", "0d").exit_code == 0
    remembered = (root / "outbox" / CAMPAIGN / "campaign.toml").read_text(encoding="utf-8")
    assert "day = 2026-12-15\ntime = 10:30:00\n" in remembered
    write_vault({"bo.md": person("Bo Li", "", "- 2026-12-15 10:31 call: booked\n")})
    result = run(root, "send", CAMPAIGN)
    assert (result.exit_code, result.output) == (
        0,
        "not sent: bo: held back now: contacted since it was drafted (2026-12-15)\n"
        "would send: ana: Ana Lopez <ana@example.com>: Hi\n"
        "1 to send; run again with --yes to send them.\n",
    )


# The rule itself, on plain values.
HERE = Location(Path("pat.md"))
CONFIG = Config()
RUN = Drafted(date(2026, 12, 15), "hi", Span(0, "d"), time=time(10, 0), drafts=("pat",))


def pat(*entries: tuple[date, time | None], last_contact: date | None = None) -> Customer:
    log = tuple(Interaction(d, t, "call", "booked", True, HERE) for d, t in entries)
    return Customer("pat", "Pat", HERE, log=log, last_contact=last_contact)


def since(customer: Customer, run: Drafted = RUN, day: date = date(2026, 12, 17)) -> date | None:
    return contacted_since(customer, run, CONFIG, day)


def test_contact_after_the_draft_is_told_by_its_date_and_time() -> None:
    draft_day, later = date(2026, 12, 15), date(2026, 12, 16)
    assert since(pat((later, None))) == later
    assert since(pat((date(2026, 12, 14), None))) is None
    # On the draft day: after it only with a time past the draft's minute.
    assert since(pat((draft_day, time(10, 1)))) == draft_day
    assert since(pat((draft_day, time(10, 0)))) is None
    assert since(pat((draft_day, time(9, 45)))) is None
    assert since(pat((draft_day, None))) is None
    assert since(pat((draft_day, time(11, 0))), replace(RUN, time=None)) is None
    # Dated after the send day: not yet.
    assert since(pat((date(2026, 12, 18), None))) is None
    assert since(pat(last_contact=later)) == later
    assert since(pat((later, None), (date(2026, 12, 17), time(8, 0)))) == date(2026, 12, 17)


def test_within_the_runs_quiet_period_the_draft_would_have_refused_it() -> None:
    quiet = replace(RUN, quiet=Span(7, "d"), time=None)
    assert since(pat((date(2026, 12, 15), None)), quiet) == date(2026, 12, 15)
    assert since(pat((date(2026, 12, 9), None)), quiet) == date(2026, 12, 9)
    assert since(pat((date(2026, 12, 8), None)), quiet) is None
    assert since(pat(last_contact=date(2026, 12, 10)), quiet) == date(2026, 12, 10)


def test_news_of_a_closure_is_never_held_back_by_contact() -> None:
    news = replace(RUN, news=("pat",))
    assert since(pat((date(2026, 12, 16), None)), news) is None


def test_campaign_toml_reads_back_what_it_wrote(tmp_path: Path) -> None:
    first = Drafted(
        day=date(2026, 12, 15),
        template="hi",
        quiet=Span(2, "w"),
        time=time(9, 30),
        filters=CustomerFilter(("vip", 'say "hi"'), segment="salon", city="Köln"),
        report="overdue",
        likes="tea",
        to=("zoe", "ana"),
        closure=date(2026, 12, 24),
        occasion="Holiday greetings",
        drafts=("zoe", "ana"),
        news=("ana",),
    )
    second = Drafted(date(2026, 12, 16), "hi", Span(0, "d"), drafts=("bo",))
    text = file_text([first, second])
    assert text.split("\n\n", 1)[1] == (
        "[[drafted]]\n"
        "day = 2026-12-15\n"
        "time = 09:30:00\n"
        'template = "hi"\n'
        'quiet = "2w"\n'
        'tag = ["vip", "say \\"hi\\""]\n'
        'segment = "salon"\n'
        'city = "Köln"\n'
        'report = "overdue"\n'
        'likes = "tea"\n'
        'to = ["ana", "zoe"]\n'
        "closure = 2026-12-24\n"
        'occasion = "Holiday greetings"\n'
        'drafts = [\n  "ana",\n  "zoe",\n]\n'
        'news = [\n  "ana",\n]\n'
        "\n"
        "[[drafted]]\n"
        "day = 2026-12-16\n"
        'template = "hi"\n'
        'quiet = "0d"\n'
        'drafts = [\n  "bo",\n]\n'
    )
    (tmp_path / "campaign.toml").write_text(text, encoding="utf-8")
    runs = read_runs(tmp_path)
    assert runs == (
        replace(first, to=("ana", "zoe"), drafts=("ana", "zoe")),
        second,
    )
    assert run_of(runs, "bo") == second
    assert run_of(runs, "cy") is None
    assert read_runs(tmp_path / "missing") is None
