"""``crm draft``: one draft per person, and every audience rule that holds someone back."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from crm.cli import main
from tests.conftest import EXAMPLE, WriteVault

DAY = "2026-12-15"
NOTE = """\
---
kind: greeting
channel: {channel}
subject: Hello {{{{ hello }}}}
topic: holidays
---
Hi {{{{ hello }}}},
happy holidays!
"""
CONFIG = '[business]\nname = "Lumen"\nregion = "DE"\n\n[defaults]\nmax_contacts = "3/30d"\n'


def run(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--vault", str(root), *args])


def person(front: str = "", log: str = "", name: str = "Pat Doe") -> str:
    first = "" if "first_name" in front or "nameless" in front else "first_name: Pat\n"
    return f"---\nname: {name}\n{first}email: pat@example.com\n{front}---\n\n## Log\n{log}"


def held_reason(write_vault: WriteVault, text: str, *args: str, channel: str = "any") -> object:
    """Return how ``crm draft`` treats one customer: "draft", or [reason, detail]."""
    root = write_vault(
        {
            "crm.toml": CONFIG,
            "templates/messages/note.md": NOTE.format(channel=channel),
            "pat.md": text,
        }
    )
    result = run(root, "draft", "note", "--today", DAY, "--format", "json", "--dry-run", *args)
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    if shown["drafts"]:
        return "draft"
    return [shown["held"][0]["reason"], shown["held"][0]["detail"]] if shown["held"] else None


@pytest.mark.parametrize(
    ("text", "args", "expected"),
    [
        (person(), (), "draft"),
        (person("status: lost\n"), (), ["lost", None]),
        (person("status: paused\n"), (), ["paused", None]),
        (person("away: 2026-12-10..2026-12-20\n"), (), ["away", "until 2026-12-20"]),
        (person("away: 2026-12-01..2026-12-14\n"), (), "draft"),
        (person("snooze_until: 2026-12-16\n"), (), ["snoozed", "until 2026-12-16"]),
        (person("snooze_until: 2026-12-15\n"), (), "draft"),
        (person("opt_out: all\n"), (), ["opted out", "all"]),
        (person("opt_out: [Holiday]\n"), (), ["opted out", "Holiday"]),
        (person("opt_out: [offers]\n"), (), "draft"),
        (person("opt_out: [email]\n"), (), ["opted out", "email"]),
        (
            person(log="- 2026-12-01 greeting: hi [campaign: note-2026-12-15]\n"),
            (),
            ["already in this campaign", "note-2026-12-15"],
        ),
        (
            person(log="- 2026-12-09 greeting: season's greetings\n"),
            (),
            ["contacted lately", "2026-12-09, within 7d"],
        ),
        (person(log="- 2026-12-08 call: booked\n"), (), "draft"),
        (person(log="- 2026-12-09 note: thought of her\n"), (), "draft"),
        (person(log="- 2026-12-14 call: booked\n"), ("--quiet", "0d"), "draft"),
        (
            person(log="- 2026-12-12 call: booked\n"),
            ("--quiet", "2w"),
            ["contacted lately", "2026-12-12, within 2w"],
        ),
        (person("last_contact: 2026-12-13\n"), (), ["contacted lately", "2026-12-13, within 7d"]),
        (
            person(log="".join(f"- 2026-11-{d} offer: sale\n" for d in (20, 24, 28))),
            (),
            ["at max_contacts", "3 in 30d, at most 3"],
        ),
        (
            person("max_contacts: 1/90d\n", "- 2026-10-01 visit: cut\n"),
            (),
            ["at max_contacts", "1 in 90d, at most 1"],
        ),
        (person("dislikes: [holidays, loud music]\n"), (), ["dislikes the topic", "holidays"]),
        (person("dislikes: [holiday cards]\n"), (), "draft"),
        (
            "---\nname: Pat Doe\nfirst_name: Pat\nphone: '+49 151 1234567'\n---\n",
            (),
            "draft",
        ),
        ("---\nname: Pat Doe\nfirst_name: Pat\n---\n", (), ["no phone number", None]),
        (person("prefer: sms\n"), (), ["no phone number", None]),
        (person("prefer: whatsapp\nphone: '0151 1234567'\n"), (), "draft"),
        (
            person("prefer: sms\nphone: '12'\n"),
            (),
            ["bad address", "'12' has too few or too many digits for a phone number"],
        ),  # fmt: skip
        (person("nickname: ''\n", name="pat"), (), "draft"),
        ("---\nname: P. Doe\nemail: p@example.com\n---\n", (), ["needs a first name", None]),
    ],
)
def test_each_audience_rule(
    write_vault: WriteVault, text: str, args: tuple[str, ...], expected: object
) -> None:
    assert held_reason(write_vault, text, *args) == expected


def test_the_channel_of_a_template_needs_that_address(write_vault: WriteVault) -> None:
    phone_only = "---\nname: Pat Doe\nfirst_name: Pat\nphone: '+49 151 1234567'\n---\n"
    assert held_reason(write_vault, phone_only, channel="email") == ["no email address", None]
    assert held_reason(write_vault, person(), channel="sms") == ["no phone number", None]


def test_a_nameless_template_may_greet_without_a_name_but_never_a_valued_customer(
    write_vault: WriteVault,
) -> None:
    root = write_vault(
        {
            "templates/messages/plain.md": (
                "---\nnameless: true\n---\nHello{% if hello is defined %} {{ hello }}{% endif %},"
                "\nsee you soon.\n"
            ),
            "templates/messages/bad.md": "---\nkind: offer\n---\nDear Valued Customer,\nhi\n",
            "p.md": "---\nname: P. Doe\nemail: p@example.com\n---\n",
        }
    )
    result = run(root, "draft", "plain", "--today", DAY)
    assert result.exit_code == 0, result.output
    draft = root / "outbox" / "plain-2026-12-15" / "p.md"
    assert draft.read_text(encoding="utf-8").endswith("---\nHello,\nsee you soon.\n")
    refused = run(root, "draft", "bad", "--today", DAY)
    assert refused.exit_code == 2
    assert refused.output == (
        f"crm: {root}/templates/messages/bad.md:4: 'valued customer' is no greeting: "
        "greet each person by name ({{ hello }})\n"
    )


def test_likes_matches_whole_words_case_and_accents_aside(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "crm.toml": CONFIG,
            "templates/messages/note.md": NOTE.format(channel="email"),
            "a.md": person("likes: [Copper tones]\n", name="Ann A"),
            "b.md": person("likes: [copperplate]\n", name="Ben B"),
            "c.md": person("likes: [CÓPPER]\n", name="Cy C"),
            "d.md": person("likes: [copper]\ndislikes: [Copper]\n", name="Di D"),
            "e.md": person("likes: [coppers]\nopt_out: [copper]\n", name="Ed E"),
        }
    )
    result = run(root, "draft", "note", "--likes", "copper", "--today", DAY, "--explain")
    assert result.exit_code == 0, result.output
    assert result.output == (
        "note-2026-12-15: 2 drafts; held back: 1 opted out, 1 dislikes the topic\n"
        "  draft  Ann A (a): email Ann A <pat@example.com>\n"
        "  draft  Cy C (c): email Cy C <pat@example.com>\n"
        "  held   Di D (d): dislikes the topic (Copper)\n"
        "  held   Ed E (e): opted out (copper)\n"
        "Wrote 2 to outbox/note-2026-12-15/; read and edit them, then: crm send note-2026-12-15\n"
    )


def test_the_summary_counts_everyone_held_back_by_reason(write_vault: WriteVault) -> None:
    files = {f"q{n}.md": person(log="- 2026-12-12 call: hi\n", name=f"Q {n}") for n in range(3)}
    files["a.md"] = person("away: 2026-12-01..2026-12-31\n", name="A A")
    files["n.md"] = "---\nname: N\nemail: n@example.com\n---\n"
    root = write_vault({"templates/messages/note.md": NOTE.format(channel="any"), **files})
    result = run(root, "draft", "note", "--today", DAY, "--dry-run")
    assert result.output == (
        "note-2026-12-15: 0 drafts; held back: 1 away, 3 contacted in the last 7 days, "
        "1 needs a first name\nDry run: nothing written.\n"
    )
    assert not (root / "outbox").exists()


def test_an_existing_draft_is_never_overwritten(write_vault: WriteVault) -> None:
    root = write_vault({"templates/messages/note.md": NOTE.format(channel="any"), "p.md": person()})
    assert run(root, "draft", "note", "--today", DAY).exit_code == 0
    draft = root / "outbox" / "note-2026-12-15" / "p.md"
    draft.write_text("---\nto: pat@example.com\nstatus: draft\n---\nMy own words\n")
    again = run(root, "draft", "note", "--today", DAY, "--explain")
    assert again.output.splitlines()[:2] == [
        "note-2026-12-15: 0 drafts; held back: 1 already in this campaign",
        "  held   Pat Doe (p): already in this campaign (drafted)",
    ]
    assert draft.read_text() == "---\nto: pat@example.com\nstatus: draft\n---\nMy own words\n"
    # The outbox is never read as customers.
    assert run(root, "list").output.count("\n") == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("Hi {{ first_nme }}", "4: unknown field 'first_nme' (did you mean 'first_name'?)"),
        ("Hi,\n\n{{ me.signatur }}", "6: unknown field 'me.signatur' (did you mean 'signature'?)"),
        ("Hi {{ hello }\n", "4: unexpected '}'"),
        ("{% for x in likes %}{{ x }}{% endfor %} {{ x }}", "4: unknown field 'x'"),
    ],
)
def test_a_bad_template_is_an_error_at_its_line(
    write_vault: WriteVault, body: str, message: str
) -> None:
    root = write_vault({"templates/messages/t.md": f"---\nkind: offer\n---\n{body}\n"})
    result = run(root, "draft", "t", "--today", DAY)
    assert (result.exit_code, result.output) == (
        2,
        f"crm: {root}/templates/messages/t.md:{message}\n",
    )


def test_an_unknown_template_names_the_ones_there_are(write_vault: WriteVault) -> None:
    root = write_vault({"templates/messages/holiday.md": "---\n---\nHi {{ hello }}\n"})
    result = run(root, "draft", "holidays")
    assert (result.exit_code, result.output) == (
        2,
        "crm: no message template 'holidays'; the vault has holiday\n",
    )


def test_a_missing_value_holds_the_customer_unless_the_template_has_a_fallback(
    write_vault: WriteVault,
) -> None:
    root = write_vault(
        {
            "templates/messages/nick.md": "---\n---\nHi {{ nickname }}\n",
            "templates/messages/fallback.md": "---\n---\nHi {{ nickname | default(first_name) }}\n",
            "templates/messages/code.md": "---\n---\n{{ hello.__class__.__mro__ }}\n",
            "p.md": person(),
        }
    )
    held = run(root, "draft", "nick", "--today", DAY, "--explain", "--dry-run")
    assert held.output.splitlines()[1] == (
        "  held   Pat Doe (p): template needs a value (missing nickname)"
    )
    sandboxed = run(root, "draft", "code", "--today", DAY, "--explain", "--dry-run")
    assert sandboxed.output.splitlines()[1] == (
        "  held   Pat Doe (p): template needs a value "
        "(cannot render: access to attribute '__class__' of 'str' object is unsafe.)"
    )
    fine = run(root, "draft", "fallback", "--today", DAY)
    assert fine.exit_code == 0
    draft = root / "outbox" / "fallback-2026-12-15" / "p.md"
    assert draft.read_text(encoding="utf-8").endswith("---\nHi Pat\n")


@pytest.fixture
def example(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    shutil.copytree(EXAMPLE, root)
    return root


def test_exact_drafts_for_the_example_vault(example: Path) -> None:
    result = run(example, "draft", "holiday", "--today", DAY)
    assert result.exit_code == 0, result.output
    assert result.output == (
        "holiday-greetings-2026: 16 drafts; held back: 1 lost, 1 paused, 1 away, 1 opted out, "
        "1 at max_contacts\n"
        "Wrote 16 to outbox/holiday-greetings-2026/; read and edit them, then: "
        "crm send holiday-greetings-2026\n"
    )
    folder = example / "outbox" / "holiday-greetings-2026"
    assert (folder / "zoe-muller.md").read_text(encoding="utf-8") == ZOE
    assert (folder / "ravi-patel.md").read_text(encoding="utf-8") == RAVI
    ana = (folder / "ana-garcia.md").read_text(encoding="utf-8")
    assert ana.split("---\n")[2] == ANA_BODY
    assert not (folder / "tom-becker.md").exists()


ZOE = """\
---
to: Zoë Müller <zoe@example.de>
name: Zoë Müller
channel: email
subject: Frohe Feiertage von Lumen Hair Studio
customer: zoe-muller
campaign: holiday-greetings-2026
template: holiday
kind: greeting
log: Holiday greeting
topic: holidays
status: draft
context:  # for you only; never sent
  likes:
  - short pixie cuts
  - peppermint tea
  dislikes:
  - hairspray
  log:
  - '2026-09-20 visit: pixie cut'
  - '2026-10-12 text: sent her the voucher prices'
  - 2026-11-01 trim, asked about a gift voucher for her sister
  last_contact: 2026-11-01
---
Hallo Zoë,

das Jahr geht zu Ende, und seit deinem letzten Besuch am 1. November 2026 ist schon wieder \
einige Zeit vergangen. Danke für dein Vertrauen! Ich wünsche dir ruhige Feiertage und einen \
guten Start ins neue Jahr.

Herzliche Grüße
Mara from Lumen Hair Studio
"""
RAVI = """\
---
to: "+447700900123"
name: Ravi Patel
channel: sms
customer: ravi-patel
campaign: holiday-greetings-2026
template: holiday
kind: greeting
log: Holiday greeting
topic: holidays
status: draft
context:  # for you only; never sent
  likes:
  - modern cuts
  last_contact: 2026-09-10
---
Hi Ravi,

As the year winds down, thank you for trusting us with your hair this year. I hope you get a \
few quiet days with the people you love.

Happy holidays, and see you in the new year!
Mara from Lumen Hair Studio
"""
ANA_BODY = """\
Hola Anita:

El año se acaba y quiero darte las gracias por tu confianza. ¡Te deseo unas fiestas \
tranquilas con los tuyos y un feliz año nuevo!

Un abrazo,
Mara from Lumen Hair Studio
"""


def test_texts_become_tap_to_send_links_then_crm_sent_logs_them(example: Path) -> None:
    assert run(example, "draft", "holiday", "--today", DAY, "--to", "ravi", "--to", "julia").exit_code == 0  # fmt: skip
    campaign = "holiday-greetings-2026"
    result = run(example, "send", campaign, "--today", DAY)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(
        "julia-santos: https://wa.me/351912345678?text=Hi%20J%C3%BAlia%2C%0A%0AAs%20the%20year"
    )
    assert lines[1].startswith("ravi-patel: sms:+447700900123?&body=Hi%20Ravi%2C%0A%0AAs%20the")
    assert lines[2] == (
        f"2 to send by hand: open outbox/{campaign}/links.html on your phone, tap each, "
        f"then: crm sent {campaign}"
    )
    page = (example / "outbox" / campaign / "links.html").read_text(encoding="utf-8")
    assert '<li><a href="sms:+447700900123?&amp;body=Hi%20Ravi%2C%0A%0AAs' in page
    assert "<script" not in page
    before = (example / "ravi-patel.md").read_text(encoding="utf-8")
    marked = run(example, "sent", campaign, "--today", "2026-12-16")
    assert marked.output == "sent: julia-santos\nsent: ravi-patel\n"
    after = (example / "ravi-patel.md").read_text(encoding="utf-8")
    assert (
        after
        == before + f"\n## Log\n- 2026-12-16 greeting: Holiday greeting [campaign: {campaign}]\n"
    )
    again = run(example, "sent", campaign, "--today", "2026-12-16")
    assert again.output == "Nothing to mark.\n"
    # Now in the campaign: a second draft run for it holds them back.
    redo = run(example, "draft", "holiday", "--today", DAY, "--to", "ravi", "--explain")
    assert redo.output.splitlines()[1] == (
        f"  held   Ravi Patel (ravi-patel): already in this campaign ({campaign})"
    )


def test_check_lints_every_message_template(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "templates/messages/ok.md": "---\nkind: offer\n---\nHi {{ hello }}\n",
            "templates/messages/bad.md": "---\nchanel: sms\n---\nHi {{ helo }}\n",
            "templates/messages/bad.de.md": "---\n---\nHallo {{ hello }\n",
        }
    )
    result = CliRunner().invoke(main, ["--vault", str(root), "check"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"{root}/templates/messages/bad.de.md:3: unexpected '}}'\n"
        f"{root}/templates/messages/bad.md:2: unknown key 'chanel' (did you mean 'channel'?)\n"
    )


def test_the_agenda_says_how_many_drafts_wait(example: Path) -> None:
    assert run(example, "draft", "holiday", "--today", DAY).exit_code == 0
    # One message at a time: the loyal two have a holiday draft waiting.
    thanks = run(example, "draft", "thanks", "--today", DAY, "--explain")
    assert thanks.output.splitlines()[:3] == [
        "thanks-2026-12-15: 0 drafts; held back: 2 draft waiting",
        "  held   Ana García (ana-garcia): draft waiting (in holiday-greetings-2026)",
        "  held   Grace Okafor (grace-okafor): draft waiting (in holiday-greetings-2026)",
    ]
    assert run(example, "draft", "winback", "--today", DAY).exit_code == 0
    assert (
        run(example, "sent", "holiday-greetings-2026", "julia-santos", "--today", DAY).exit_code
        == 0
    )
    text = run(example, "agenda", "--today", DAY).output
    assert text.endswith(
        "\nDrafts waiting in the outbox (16)\n"
        "  holiday-greetings-2026: 15: crm send holiday-greetings-2026\n"
        "  winback-2026-12-15: 1: crm send winback-2026-12-15\n"
        "\nClosures and occasions (3)\n"
        "  2026-12-03  Tell customers about the closure from 2026-12-24: crm draft closure\n"
        "  2026-12-20  Holiday greetings: 15 to send by 12-20: crm draft holiday\n"
        "  2026-12-24  Closed: winter holiday (2026-12-24 to 2027-01-06)\n"
    )
    shown = json.loads(run(example, "agenda", "--today", DAY, "--format", "json").output)
    assert shown["drafts"] == [
        {"campaign": "holiday-greetings-2026", "waiting": 15},
        {"campaign": "winback-2026-12-15", "waiting": 1},
    ]
    first = shown["overdue"][0]
    assert (first["name"], first["reach"], first["said"]) == (
        "Priya Raman",
        "priya.raman@example.in",
        None,
    )
    julia = next(r for r in shown["overdue"] if r["id"] == "julia-santos")
    # A greeting is broadcast, not contact: what was last said in contact stays the call.
    assert (julia["reach"], julia["said"]) == (
        "+351 912 345 678",
        "2026-10-01 call: asked to pause until December",
    )


def test_a_message_is_never_logged_as_a_note(write_vault: WriteVault) -> None:
    root = write_vault({"templates/messages/n.md": "---\nkind: note\n---\nHi {{ hello }}\n"})
    result = run(root, "draft", "n")
    assert (result.exit_code, result.output) == (
        2,
        f"crm: {root}/templates/messages/n.md:2: kind 'note' is a note in [kinds]: a message you "
        "send always counts as outreach, so give it a contact or broadcast kind\n",
    )
