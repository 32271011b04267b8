"""Replies you owe: inbound entries, answered by contact from you, late after reply_within."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE, WriteVault, customer, run_at

FILES: dict[str, str | bytes] = {
    "ada.md": customer(
        "Ada Lovelace",
        "phone: +49 170 1234567\nprefer: sms\n",
        ("2026-11-01 visit: cut", "2026-11-20 question: do you sell gift vouchers?"),
    ),
    "ben.md": customer(
        "Ben Ode",
        "email: ben@example.com\n",
        ("2026-11-21 10:00 missed-call: no message", "2026-11-21 09:00 call: left a voicemail"),
    ),
    "cara.md": customer(
        "Cara Diaz",
        "email: cara@example.com\n",
        ("2026-11-18 request: move my appointment", "2026-11-19 email: moved it to Friday"),
    ),
    "lou.md": customer("Lou Gone", "status: lost\n", ("2026-11-20 question: still open?",)),
}


def run(root: Path, *args: str, today: str = "2026-11-21") -> tuple[int, str]:
    return run_at(root, today, *args)


def test_replies_lists_who_waits_oldest_first_with_what_they_asked(
    write_vault: WriteVault,
) -> None:
    root = write_vault(FILES)
    assert run(root, "replies") == (
        0,
        "NAME          WAITING  REPLY         REACH\n"
        "Ada Lovelace  1 day    by Sun 11-22  +49 170 1234567\n"
        "  2026-11-20 question: do you sell gift vouchers?\n"
        "Ben Ode       today    by Mon 11-23  ben@example.com\n"
        "  2026-11-21 missed-call: no message\n",
    )


def test_a_reply_turns_late_after_reply_within_and_goes_once_answered(
    write_vault: WriteVault,
) -> None:
    root = write_vault(FILES)
    code, out = run(root, "replies", "--format", "json", today="2026-11-24")
    assert code == 0
    ada, ben = json.loads(out)
    assert (ada["id"], ada["since"], ada["late_on"], ada["late"], ada["due"]) == (
        "ada",
        "2026-11-20",
        "2026-11-22",
        True,
        "late 2 days",
    )
    assert (ben["late"], ben["due"], ben["asked"], ben["kind"]) == (
        True,
        "late 1 day",
        ["no message"],
        "missed-call",
    )
    # Answered: a call back on the next day.
    logged = run(root, "log", "ben", "--kind", "call", "rang back", "--date", "2026-11-22")
    assert logged[0] == 0, logged[1]
    assert run(root, "replies", "--format", "csv", today="2026-11-24")[1].splitlines()[1:] == [
        "ada,Ada Lovelace,Ada,2026-11-20,4 days,2026-11-22,True,late 2 days,question,"
        "do you sell gift vouchers?,2026-11-20 question: do you sell gift vouchers?,"
        f"+49 170 1234567,{root / 'ada.md'}",
    ]
    # Before the day it came, nothing is owed.
    assert run(root, "replies", today="2026-11-19") == (0, "No replies owed.\n")


def test_reply_within_comes_from_crm_toml(write_vault: WriteVault) -> None:
    root = write_vault({**FILES, "crm.toml": '[outreach]\nreply_within = "0d"\n'})
    code, out = run(root, "replies", "--format", "json")
    assert [(r["id"], r["due"]) for r in json.loads(out)] == [
        ("ada", "late 1 day"),
        ("ben", "late today"),
    ]
    root = write_vault({"crm.toml": '[outreach]\nreply_within = "soon"\n'})
    code, out = run(root, "check")
    assert code == 1
    assert out == (
        f"{root / 'crm.toml'}:2: outreach.reply_within: 'soon' is not a span "
        "(2d, 1w, or 0d: late the day they ask)\n"
    )


def test_log_from_them_writes_the_inbound_kind_and_it_is_not_outreach(
    write_vault: WriteVault,
) -> None:
    root = write_vault(
        {
            "ada.md": customer(
                "Ada Lovelace",
                "max_contacts: 1/30d\n",
                ("2026-11-10 email: the winter offers",),
            )
        }
    )
    assert run(root, "log", "ada", "--from-them", "asked about prices") == (
        0,
        f"{root / 'ada.md'}:9: - 2026-11-21 received: asked about prices\n",
    )
    # One outreach in 30 days is the cap: the question is not a second one.
    assert run(root, "noisy") == (0, "Nobody is over-contacted.\n")
    assert run(root, "replies")[1].splitlines()[1:] == [
        "Ada Lovelace  today    by Mon 11-23",
        "  2026-11-21 received: asked about prices",
    ]
    assert run(root, "log", "ada", "--kind", "call", "--from-them", "x") == (
        2,
        "crm: give --from-them or --kind, not both (--from-them writes the inbound kind)\n",
    )


def test_inbound_kinds_come_from_crm_toml(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "crm.toml": '[kinds]\ninbound = ["enquiry", "received"]\n',
            "ada.md": customer("Ada Lovelace", "", ("2026-11-20 enquiry: wedding hair?",)),
        }
    )
    assert run(root, "log", "ada", "--from-them", "and her sister?")[1].endswith(
        "- 2026-11-21 enquiry: and her sister?\n"
    )
    code, out = run(root, "replies", "--format", "json")
    assert json.loads(out)[0]["asked"] == ["wedding hair?", "and her sister?"]


def test_a_reply_draft_is_not_held_by_the_quiet_period(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "crm.toml": '[outreach]\nquiet = "30d"\n',
            "ada.md": customer(
                "Ada Lovelace",
                "email: ada@example.com\nsnooze_until: 2026-12-31\n",
                ("2026-11-15 newsletter: winter", "2026-11-20 question: vouchers?"),
            ),
            "ben.md": customer("Ben Ode", "email: ben@example.com\n", ("2026-11-15 visit: cut",)),
            "templates/messages/answer.md": "---\nsubject: Your question\n---\n"
            "Hi {{ hello }}, yes: vouchers from 20 euros.\n",
        }
    )
    code, out = run(root, "draft", "answer", "--report", "replies", "--explain")
    assert (code, out) == (
        0,
        "answer-2026-11-21: 1 draft\n"
        "  draft  Ada Lovelace (ada): email Ada Lovelace <ada@example.com>\n"
        "Wrote 1 to outbox/answer-2026-11-21/; read and edit them, then: crm send answer-2026-11-21\n",
    )
    draft = (root / "outbox" / "answer-2026-11-21" / "ada.md").read_text(encoding="utf-8")
    assert "\nreply: true\n" in draft
    # An offer to the same people waits: the newsletter is within the quiet period.
    code, out = run(root, "draft", "answer", "--campaign", "other", "--dry-run")
    assert code == 0 and "1 snoozed, 1 contacted in the last 30 days" in out


def test_the_feed_reminds_on_the_day_a_reply_turns_late(write_vault: WriteVault) -> None:
    root = write_vault({"ada.md": FILES["ada.md"]})
    for today, summary, start in (
        ("2026-11-21", "", "20261122"),
        ("2026-11-22", " (late today)", "20261122"),
        ("2026-11-25", " (late 3 days)", "20261125"),
    ):
        code, out = run(root, "ics", today=today)
        event = out[out.index("SUMMARY:Reply") :].splitlines()[:6]
        assert event == [
            f"SUMMARY:Reply to Ada Lovelace: do you sell gift vouchers?{summary}",
            f"DTSTART;VALUE=DATE:{start}",
            event[2],  # DTEND
            event[3],  # DTSTAMP
            "UID:reply-ada-20261120@crm",
            "CATEGORIES:Reply",
        ]


@pytest.mark.parametrize("command", ["agenda", "digest"])
def test_the_example_vault_owes_a_reply_at_the_top_of_the_agenda(command: str) -> None:
    code, out = run(EXAMPLE, command, today="2026-12-01")
    assert code == 0
    assert out.split("\n\n")[1] == (
        "Replies you owe (1)\n"
        "  NAME           WAITING  REPLY       REACH\n"
        "  Henrik Larsen  3 days   late 1 day  henrik@example.no\n"
        "    2026-11-28 missed-call: his wife Ingrid, about booking him in again"
    )
