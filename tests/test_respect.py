"""Respect, exactly (issue 31): no means no, one meaning per word, a repeated key holds back,
and a company is not a person."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from crm.cli import main
from crm.core.config import Config
from crm.core.fields import opt_out_items
from crm.rules import respect
from tests.conftest import WriteVault

TODAY = "2026-12-07"
CONFIG = """\
[defaults]
cadence = "30d"

[[rewards]]
name = "free coffee"
every = 2
kind = "visit"
"""
OFFER = """\
---
kind: offer
channel: email
subject: Something for you
topic: offers
---
Hi {{ hello }}, a little something for you.
"""
REWARD = """\
---
kind: email
channel: email
subject: Your reward
topic: rewards
---
Hi {{ hello }}, your free coffee is waiting.
"""
HOLIDAY = """\
---
kind: greeting
channel: email
subject: Happy holidays
topic: holidays
---
Hi {{ hello }}, happy holidays!
"""
FRANK = """\
---
name: Frank Hall
first_name: Frank
email: frank@example.com
opt_out: true
address: {street: Elm Street 1, city: Springfield}
---

## Log
- 2026-10-01 visit: cut
- 2026-10-20 visit: cut
- 2026-11-30 question: can I move my appointment?
"""
MIA = """\
---
name: Mia Wong
first_name: Mia
email: mia@example.com
dislikes: [marketing emails]
address: {street: Oak Street 2, city: Springfield}
---

## Log
- 2026-10-01 visit: cut
- 2026-10-20 visit: cut
"""
PAUL = """\
---
name: Paul Kim
first_name: Paul
email: paul@example.com
dislikes: [promotions]
---

## Log
- 2026-10-01 visit: cut
"""
SDG = """\
---
name: Springfield Dental Group
company: Springfield Dental Group
email: info@sdg.example
---

## Log
- 2026-10-01 visit: checkup
"""
ACME = """\
---
name: Acme Ltd
kind: org
contact: {name: Dr. Ana Ruiz, first_name: Ana}
email: hello@acme.example
---

## Log
- 2026-10-01 meeting: kickoff
"""
SDG_WARNING = (
    "sdg.md:2: warning: an organisation with no contact person: add contact: "
    "{name: …, first_name: …} so messages greet a person\n"
)


def run(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--vault", str(root), *args])
    here = f"{root}/"
    return result.exit_code, result.stdout.replace(here, ""), result.stderr.replace(here, "")


def salon(write_vault: WriteVault) -> Path:
    return write_vault(
        {
            "crm.toml": CONFIG,
            "templates/messages/offer.md": OFFER,
            "templates/messages/reward.md": REWARD,
            "templates/messages/holiday.md": HOLIDAY,
            "frank.md": FRANK,
            "mia.md": MIA,
            "paul.md": PAUL,
            "sdg.md": SDG,
            "acme.md": ACME,
        }
    )


def test_opt_out_words_mean_what_people_mean() -> None:
    assert opt_out_items(("true",)) == ("all",)
    assert opt_out_items(("Yes",)) == ("all",)
    assert opt_out_items(("offers", "all", "true")) == ("offers", "all")
    assert opt_out_items(("false",)) == ()
    assert opt_out_items(("no",)) == ()
    assert opt_out_items(("offers", "sms")) == ("offers", "sms")


def test_one_meaning_per_word() -> None:
    config = Config()
    offer = respect.message(config, "email", topic="offers", kind="offer")
    reward = respect.message(config, "email", topic="rewards", kind="email")
    news = respect.message(config, "sms", topic="spring", kind="newsletter")
    assert respect.covers("promotions", offer)
    assert respect.covers("marketing emails", offer)
    assert not respect.covers("marketing emails", reward)  # a channel word never matches a kind
    assert respect.covers("emails", reward)  # channel words only: that channel
    assert not respect.covers("emails", news)
    assert respect.covers("news", news)  # the kind of a broadcast is a topic too
    assert respect.covers("texts", news)


def test_topics_in_crm_toml_extend_a_group(write_vault: WriteVault) -> None:
    root = salon(write_vault)
    (root / "crm.toml").write_text(CONFIG + '\n[topics]\noffers = ["goodies"]\n', "utf-8")
    (root / "paul.md").write_text(PAUL.replace("[promotions]", "[goodies]"), "utf-8")
    code, out, _ = run(root, "draft", "offer", "--today", TODAY, "--to", "paul", "--dry-run")
    assert (code, out.splitlines()[0]) == (
        0,
        "offer-2026-12-07: 0 drafts; held back: 1 dislikes the topic",
    )


def test_no_means_no_and_a_company_is_not_a_person(write_vault: WriteVault) -> None:
    root = salon(write_vault)
    code, out, err = run(root, "draft", "offer", "--today", TODAY, "--explain")
    assert (code, err) == (0, "")
    assert out == (
        "offer-2026-12-07: 1 draft; held back: 1 opted out, 2 dislikes the topic, "
        "1 no person to greet\n"
        "  draft  Acme Ltd (acme): email Acme Ltd <hello@acme.example>\n"
        "  held   Frank Hall (frank): opted out (all)\n"
        "  held   Mia Wong (mia): dislikes the topic (marketing emails)\n"
        "  held   Paul Kim (paul): dislikes the topic (promotions)\n"
        "  held   Springfield Dental Group (sdg): no person to greet "
        "(an organisation: add its contact person)\n"
        "Wrote 1 to outbox/offer-2026-12-07/; read and edit them, then: "
        "crm send offer-2026-12-07\n"
    )
    draft = (root / "outbox/offer-2026-12-07/acme.md").read_text("utf-8")
    assert "Hi Ana, a little something for you." in draft
    # The reward email is no marketing email: Mia, who dislikes those, gets it.
    code, out, _ = run(root, "draft", "reward", "--today", TODAY, "--report", "rewards")
    assert out.splitlines()[0] == "reward-2026-12-07: 1 draft; held back: 1 opted out"
    assert (root / "outbox/reward-2026-12-07/mia.md").is_file()


def test_a_template_may_greet_an_organisation(write_vault: WriteVault) -> None:
    root = salon(write_vault)
    greets = OFFER.replace("topic: offers\n", "topic: offers\ngreet_organisations: true\n")
    (root / "templates/messages/offer.md").write_text(greets, "utf-8")
    code, out, _ = run(root, "draft", "offer", "--today", TODAY, "--to", "sdg")
    assert (code, out.splitlines()[0]) == (0, "offer-2026-12-07: 1 draft")
    draft = (root / "outbox/offer-2026-12-07/sdg.md").read_text("utf-8")
    assert "Hi Springfield Dental Group, a little something for you." in draft


def test_opted_out_of_everything_leaves_every_reach_out_list(write_vault: WriteVault) -> None:
    root = salon(write_vault)
    code, out, _ = run(root, "agenda", "--today", TODAY)
    assert code == 0
    assert out == (
        "Agenda for Mon 2026-12-07 (5 customers)\n"
        "\n"
        "Replies you owe (1)\n"
        "  NAME        WAITING  REPLY        REACH\n"
        "  Frank Hall  7 days   late 5 days  frank@example.com\n"
        "    2026-11-30 question: can I move my appointment?\n"
        "\n"
        "Contact now (4)\n"
        "  NAME                      LATE  REACH               LIKES\n"
        "  Acme Ltd                  37d   hello@acme.example\n"
        "    2026-10-01 meeting: kickoff\n"
        "  Paul Kim                  37d   paul@example.com\n"
        "    2026-10-01 visit: cut\n"
        "  Springfield Dental Group  37d   info@sdg.example\n"
        "    2026-10-01 visit: checkup\n"
        "  Mia Wong                  18d   mia@example.com\n"
        "    2026-10-20 visit: cut\n"
        "\n"
        "Rewards (4)\n"
        "  NAME                  REWARD       STANDING         EARNED          LAST GIVEN\n"
        "  Frank Hall            free coffee  due, no contact  every 2 visits  never\n"
        "  Mia Wong              free coffee  due              every 2 visits  never\n"
        "  Paul Kim              free coffee  1 visit to go    every 2 visits  never\n"
        "  Springfield Dental …  free coffee  1 visit to go    every 2 visits  never\n"
        "\n"
        "Files to fix (1)\n"
        "  " + SDG_WARNING.replace("\n", "") + "\n"
    )
    overdue = json.loads(run(root, "overdue", "--today", TODAY, "--format", "json")[1])
    assert "frank" not in {r["id"] for r in overdue}
    code, out, _ = run(root, "ics", "--today", TODAY)
    summaries = [line for line in out.splitlines() if line.startswith("SUMMARY:")]
    assert [s for s in summaries if "Frank" in s] == [
        "SUMMARY:Reply to Frank Hall: can I move my appointment? (late 5 days)"
    ]
    code, out, err = run(root, "labels")
    assert (code, out) == (0, "Mia Wong\nOak Street 2\nSpringfield\n")
    assert err.splitlines()[-1] == (
        "1 label, 3 without an address, 1 opted out of every message left out (--all)"
    )
    code, out, _ = run(root, "labels", "--all")
    assert out.startswith("Frank Hall\nElm Street 1\nSpringfield\n\n")
    code, out, _ = run(root, "draft", "holiday", "--today", TODAY, "--to", "frank", "--dry-run")
    assert out.splitlines()[0] == "holiday-2026-12-07: 0 drafts; held back: 1 opted out"
    # Answering someone who wrote to you is not outreach.
    code, out, _ = run(root, "draft", "holiday", "--today", TODAY, "--report", "replies")
    assert out.splitlines()[0] == "holiday-2026-12-07: 1 draft"


def test_show_list_and_json_say_no_contact(write_vault: WriteVault) -> None:
    root = salon(write_vault)
    assert run(root, "show", "frank", "--today", TODAY)[1] == (
        "Frank Hall (frank)  active\n"
        "  first name:     Frank\n"
        "  email:          frank@example.com\n"
        "  address:        Elm Street 1\n"
        "                  Springfield\n"
        "  opted out:      everything: no contact\n"
        "  contact:        no contact: opted out of every message, last 2026-11-30 (question)\n"
        "Latest log:\n"
        "  2026-11-30 question: can I move my appointment?\n"
        "  2026-10-20 visit: cut\n"
        "  2026-10-01 visit: cut\n"
        "File: frank.md\n"
    )
    profile = json.loads(run(root, "show", "frank", "--today", TODAY, "--format", "json")[1])
    assert (profile["opt_out"], profile["no_contact"], profile["kind"]) == (["all"], True, "person")
    assert profile["contact"]["state"] == "no contact"
    assert run(root, "list")[1] == (
        "ID     NAME                      STATUS              TAGS\n"
        "acme   Acme Ltd                  active\n"
        "frank  Frank Hall                active, no contact\n"
        "mia    Mia Wong                  active\n"
        "paul   Paul Kim                  active\n"
        "sdg    Springfield Dental Group  active\n"
    )
    acme = json.loads(run(root, "show", "acme", "--today", TODAY, "--format", "json")[1])
    assert (acme["kind"], acme["hello"], acme["first_name"]) == ("org", "Ana", None)
    assert acme["contact_person"] == {"name": "Dr. Ana Ruiz", "first_name": "Ana"}


def test_set_opt_out_true_is_a_no(write_vault: WriteVault) -> None:
    root = salon(write_vault)
    (root / "paul.md").write_text(PAUL.replace("dislikes: [promotions]\n", ""), "utf-8")
    assert run(root, "set", "paul", "opt_out=true")[0] == 0
    assert run(root, "check") == (0, "", SDG_WARNING)
    code, out, _ = run(root, "draft", "holiday", "--today", TODAY, "--to", "paul", "--dry-run")
    assert out.splitlines()[0] == "holiday-2026-12-07: 0 drafts; held back: 1 opted out"
    assert run(root, "set", "paul", "opt_out=false")[0] == 0
    code, out, _ = run(root, "draft", "holiday", "--today", TODAY, "--to", "paul", "--dry-run")
    assert out.splitlines()[0] == "holiday-2026-12-07: 1 draft"


def test_an_opt_out_nobody_knows_is_a_warning(write_vault: WriteVault) -> None:
    root = salon(write_vault)
    (root / "frank.md").write_text(FRANK.replace("opt_out: true", "opt_out: [newsleter, sms]"))
    code, _, err = run(root, "check")
    assert code == 0
    assert err == (
        "frank.md:5: warning: opt_out: 'newsleter' names no topic, template kind or channel "
        "that crm knows, so it holds back nothing (known: all, email, sms, whatsapp, holidays, "
        "greeting, offers, offer, rewards, promotion, promotional, promo, deal, marketing, "
        "discount, sale, special, advertising, ad, newsletter, news, update, mailing, greetings, "
        "season's greetings, events, event, invitation, invite; [topics] adds words)\n"
        + SDG_WARNING
    )


def test_a_repeated_key_is_an_error_and_the_stricter_reading_holds(
    write_vault: WriteVault,
) -> None:
    root = salon(write_vault)
    (root / "paul.md").write_text(
        "---\nname: Paul Kim\nfirst_name: Paul\nopt_out: all\nstatus: lost\n"
        "email: paul@example.com\nopt_out: [offers]\nstatus: active\n"
        "snooze_until: 2027-03-01\nsnooze_until: 2027-01-01\n---\n",
        "utf-8",
    )
    code, _, err = run(root, "check")
    assert code == 1
    assert err == (
        "paul.md:7: opt_out is written 2 times (lines 4 and 7): keep one; until then every "
        "opt_out (all over any list) counts\n"
        "paul.md:8: status is written 2 times (lines 5 and 8): keep one; until then the "
        "strictest status (lost, then paused) counts\n"
        "paul.md:10: snooze_until is written 2 times (lines 9 and 10): keep one; until then "
        "the later snooze counts\n" + SDG_WARNING
    )
    profile = json.loads(run(root, "show", "paul", "--today", TODAY, "--format", "json")[1])
    assert (profile["opt_out"], profile["status"], profile["no_contact"]) == (
        ["all", "offers"],
        "lost",
        True,
    )
    assert profile["contact"]["snooze_until"] == "2027-03-01"


def test_new_makes_an_organisation_without_a_persons_name(write_vault: WriteVault) -> None:
    root = write_vault({})
    name = "Springfield Dental Group"
    assert run(root, "new", name, "--company", name)[:2] == (
        0,
        "springfield-dental-group.md\n",
    )
    assert (root / "springfield-dental-group.md").read_text("utf-8") == (
        "---\nname: Springfield Dental Group\nstatus: active\ntags: []\n"
        "company: Springfield Dental Group\nkind: org\n---\n\n## Notes\n\n## Log\n"
    )
    assert run(root, "new", "Acme Ltd", "--org", "--contact", "Ana Ruiz")[0] == 0
    assert (root / "acme-ltd.md").read_text("utf-8") == (
        "---\nname: Acme Ltd\nstatus: active\ntags: []\ncontact: Ana Ruiz\nkind: org\n---\n"
        "\n## Notes\n\n## Log\n"
    )


def test_import_keeps_an_organisation_an_organisation(
    write_vault: WriteVault, tmp_path: Path
) -> None:
    root = write_vault({})
    cards = tmp_path / "orgs.vcf"
    cards.write_text(
        "BEGIN:VCARD\nVERSION:4.0\nKIND:org\nFN:Springfield Dental Group\n"
        "ORG:Springfield Dental Group\nEMAIL:info@sdg.example\nEND:VCARD\n"
        "BEGIN:VCARD\nVERSION:3.0\nFN:Bakery Moreau\nORG:Bakery Moreau\nEND:VCARD\n"
        "BEGIN:VCARD\nVERSION:3.0\nN:Ruiz;Ana;;;\nFN:Ana Ruiz\nORG:Acme Ltd\nEND:VCARD\n",
        "utf-8",
    )
    assert run(root, "import", str(cards), "--today", TODAY)[0] == 0
    sdg = (root / "springfield-dental-group.md").read_text("utf-8")
    assert "first_name" not in sdg and "last_name" not in sdg and "kind: org" in sdg
    bakery = (root / "bakery-moreau.md").read_text("utf-8")
    assert "first_name" not in bakery and "kind: org" in bakery
    ana = (root / "ana-ruiz.md").read_text("utf-8")
    assert "first_name: Ana" in ana and "kind:" not in ana and "company: Acme Ltd" in ana
    exported = run(root, "export", "--format", "vcard")[1]
    assert "X-ABSHOWAS:COMPANY" in exported and "KIND:org" in exported


def test_thanks_and_winback_leave_out_who_opted_out_with_and_without_the_index(
    write_vault: WriteVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    visits = "".join(f"- 2026-{m:02d}-05 visit: cut\n" for m in range(6, 12))
    root = write_vault(
        {
            "crm.toml": CONFIG,
            "ann.md": f"---\nname: Ann Lee\nfirst_name: Ann\n---\n\n## Log\n{visits}",
            "bo.md": f"---\nname: Bo Lee\nfirst_name: Bo\nopt_out: yes\n---\n\n## Log\n{visits}",
            "cy.md": "---\nname: Cy Lee\nfirst_name: Cy\nstatus: lost\nvalue: 5000\nopt_out: all\n---\n",
        }
    )
    for plain in ("", "1"):
        monkeypatch.setenv("CRM_NO_INDEX", plain)
        for args in (("thanks",), ("thanks", "--min-visits", "1")):
            rows = json.loads(run(root, *args, "--today", TODAY, "--format", "json")[1])
            assert [r["id"] for r in rows] == ["ann"], (plain, args)
        assert run(root, "winback", "--today", TODAY)[1] == "Nobody lost is worth winning back.\n"


def test_taking_back_all_leaves_the_topics_in_force(write_vault: WriteVault) -> None:
    root = salon(write_vault)
    (root / "paul.md").write_text(PAUL.replace("dislikes: [promotions]", "opt_out: [offers]"))
    assert run(root, "set", "paul", "opt_out+=yes")[0] == 0
    assert "opt_out: [offers, all]\n" in (root / "paul.md").read_text("utf-8")
    code, out, _ = run(root, "draft", "holiday", "--today", TODAY, "--to", "paul", "--dry-run")
    assert out.splitlines()[0] == "holiday-2026-12-07: 0 drafts; held back: 1 opted out"
    assert run(root, "set", "paul", "opt_out-=true")[0] == 0
    assert "opt_out: [offers]\n" in (root / "paul.md").read_text("utf-8")
    code, out, _ = run(root, "draft", "offer", "--today", TODAY, "--to", "paul", "--dry-run")
    assert out.splitlines()[0] == "offer-2026-12-07: 0 drafts; held back: 1 opted out"
    code, out, _ = run(root, "draft", "holiday", "--today", TODAY, "--to", "paul", "--dry-run")
    assert out.splitlines()[0] == "holiday-2026-12-07: 1 draft"
