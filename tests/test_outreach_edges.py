"""Outreach at its edges: what changed since the draft, drafts edited by hand, odd templates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from crm.cli import main
from crm.edit import atomic
from crm.outreach.outbox import Moved, read_draft, set_status
from tests.conftest import WriteVault
from tests.smtpserver import Mailbox, smtp_server

DAY = "2026-12-15"
CAMPAIGN = "hi-2026-12-15"
HI = "---\nkind: greeting\nchannel: {channel}\nsubject: Hi\ntopic: {topic}\n---\nHi {{{{ hello }}}}\n"
PAT = "---\nname: Pat Doe\nfirst_name: Pat\nemail: pat@example.com\nphone: '+49 151 2345 6789'\n{more}---\n"


def run(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--vault", str(root), *args])


def smtp_config(port: int) -> str:
    return (
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
        'from = "Lumen <hello@lumen.example>"\n'
    )


def vault(write_vault: WriteVault, *, channel: str = "email", topic: str = "news", more: str = "",
          config: str = "") -> Path:  # fmt: skip
    return write_vault(
        {
            "crm.toml": config,
            "templates/messages/hi.md": HI.format(channel=channel, topic=topic),
            "pat.md": PAT.format(more=more),
        }
    )


def test_someone_contacted_after_the_draft_is_held_back_at_send_time(
    write_vault: WriteVault,
) -> None:
    mailbox = Mailbox()
    with smtp_server(mailbox) as port:
        root = vault(write_vault, config=smtp_config(port))
        assert run(root, "draft", "hi", "--today", DAY).exit_code == 0
        assert run(root, "log", "pat", "call: booked a cut", "--today", DAY).exit_code == 0
        result = run(root, "send", CAMPAIGN, "--yes", "--today", DAY)
        assert result.exit_code == 0, result.output
        # The campaign's quiet period (7d) would have refused a call that day: it came later.
        assert result.output == (
            "not sent: pat: held back now: contacted since it was drafted (2026-12-15)\n"
            f"nothing left to send in {CAMPAIGN}\n"
        )
        assert mailbox.arrived == []


def test_one_crm_send_per_campaign_at_a_time(write_vault: WriteVault) -> None:
    root = vault(write_vault)
    assert run(root, "draft", "hi", "--today", DAY).exit_code == 0
    with atomic.locked(root / "outbox" / CAMPAIGN / "send"):  # a crm send running
        result = run(root, "send", CAMPAIGN, "--yes", "--today", DAY)
    assert result.exit_code == 1
    assert result.output.startswith(f"crm: {root}/outbox/{CAMPAIGN}/send is locked by another crm")


def test_a_draft_moves_on_only_from_the_status_its_sender_saw(write_vault: WriteVault) -> None:
    root = vault(write_vault)
    assert run(root, "draft", "hi", "--today", DAY).exit_code == 0
    path = root / "outbox" / CAMPAIGN / "pat.md"
    seen = read_draft(path)
    set_status(seen, "sending", expect=("draft",))  # the first crm send
    with pytest.raises(Moved, match="its status is 'sending' now; left alone"):
        set_status(seen, "sending", expect=("draft",))  # the second, with what it read before


def test_status_edits_keep_crlf_comments_and_insert_a_missing_status(
    write_vault: WriteVault,
) -> None:
    root = vault(write_vault)
    path = root / "outbox" / CAMPAIGN / "pat.md"
    path.parent.mkdir(parents=True)
    path.write_bytes(
        b"---\r\nto: Pat Doe <pat@example.com>\r\nsubject: Hi  # checked\r\n---\r\nHi Pat\r\n"
    )
    draft = read_draft(path)
    assert (draft.status, draft.subject) == ("draft", "Hi")
    set_status(draft, "sent", expect=("draft",), subject="Hello")
    assert path.read_bytes() == (
        b"---\r\nto: Pat Doe <pat@example.com>\r\nsubject: Hello  # checked\r\nstatus: sent\r\n"
        b"---\r\nHi Pat\r\n"
    )


def test_a_bad_address_is_refused_before_the_server_hears_of_it(write_vault: WriteVault) -> None:
    mailbox = Mailbox()
    with smtp_server(mailbox) as port:
        root = vault(write_vault, config=smtp_config(port))
        assert run(root, "draft", "hi", "--today", DAY).exit_code == 0
        path = root / "outbox" / CAMPAIGN / "pat.md"
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("<pat@example.com>", "<pat at example.com>"), "utf-8")
        result = run(root, "send", CAMPAIGN, "--yes", "--today", DAY)
        assert result.exit_code == 1
        assert result.output == (
            "refused: pat: 'Pat Doe <pat at example.com>' is not an email address\n"
            "crm: some messages were not sent\n"
        )
        assert read_draft(path).status == "draft"
        assert mailbox.arrived == []


def test_an_international_domain_is_sent_in_ascii(write_vault: WriteVault) -> None:
    mailbox = Mailbox()
    with smtp_server(mailbox) as port:
        root = write_vault(
            {
                "crm.toml": smtp_config(port),
                "templates/messages/hi.md": HI.format(channel="email", topic="news"),
                "zoe.md": "---\nname: Zoë\nfirst_name: Zoë\nemail: zoe@müller.de\n---\n",
            }
        )
        assert run(root, "draft", "hi", "--today", DAY).exit_code == 0
        result = run(root, "send", CAMPAIGN, "--yes", "--today", DAY)
        assert result.exit_code == 0, result.output
        assert mailbox.arrived[0].recipients == ["zoe@xn--mller-kva.de"]


def test_a_bad_email_in_a_customer_file_holds_only_them(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "templates/messages/hi.md": HI.format(channel="email", topic="news"),
            "a.md": "---\nname: Ann\nfirst_name: Ann\nemail: 'ann@'\n---\n",
            "b.md": "---\nname: Ben\nfirst_name: Ben\nemail: 'ben@@example.com'\n---\n",
            "c.md": "---\nname: Cy\nfirst_name: Cy\nemail: cy@example.com\n---\n",
        }
    )
    result = run(root, "draft", "hi", "--today", DAY, "--format", "json", "--dry-run")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert [d["id"] for d in shown["drafts"]] == ["c"]
    assert [(h["id"], h["reason"]) for h in shown["held"]] == [
        ("a", "bad address"),
        ("b", "bad address"),
    ]


def test_crm_sent_logs_each_draft_once(write_vault: WriteVault) -> None:
    root = vault(write_vault, channel="sms")
    assert run(root, "draft", "hi", "--today", DAY).exit_code == 0
    result = run(root, "sent", CAMPAIGN, "pat", "pat", "--today", DAY)
    assert result.output == "sent: pat\n"
    assert (root / "pat.md").read_text(encoding="utf-8").count("[campaign: hi-2026-12-15]") == 1


def test_the_links_page_leaves_out_gaps_and_what_smtp_sends(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "crm.toml": '[smtp]\nhost = "127.0.0.1"\n',
            "templates/messages/hi.md": "---\nchannel: any\n---\nHi {{ hello }} [...]\n",
            "pat.md": PAT.format(more="prefer: sms\n"),
            "ed.md": "---\nname: Ed\nfirst_name: Ed\nemail: ed@example.com\n---\n",
        }
    )
    assert run(root, "draft", "hi", "--today", DAY).exit_code == 0
    result = run(root, "send", CAMPAIGN, "--today", DAY)
    assert result.output == (
        "not sent: ed: still holds [...]: write the personal line first\n"
        "not sent: pat: still holds [...]: write the personal line first\n"
        f"nothing left to send in {CAMPAIGN}\n"
    )
    page = (root / "outbox" / CAMPAIGN / "links.html").read_text(encoding="utf-8")
    assert "<ol>\n\n</ol>" in page


def test_without_an_smtp_host_emails_are_mailto_links(write_vault: WriteVault) -> None:
    root = vault(write_vault)
    assert run(root, "draft", "hi", "--today", DAY).exit_code == 0
    result = run(root, "send", CAMPAIGN, "--today", DAY)
    assert result.output == (
        "pat: mailto:pat@example.com?subject=Hi&body=Hi%20Pat%0D%0A\n"
        f"1 to send by hand: open outbox/{CAMPAIGN}/links.html on your phone, tap each, "
        f"then: crm sent {CAMPAIGN}\n"
    )
    assert run(root, "sent", CAMPAIGN, "--today", DAY).output == "sent: pat\n"


def test_an_outbox_spelled_with_dots_is_still_never_read_as_customers(
    write_vault: WriteVault,
) -> None:
    root = vault(write_vault, config='[outreach]\noutbox = "./drafts/"\n')
    assert run(root, "draft", "hi", "--today", DAY).exit_code == 0
    assert (root / "drafts" / CAMPAIGN / "pat.md").exists()
    assert run(root, "check").exit_code == 0
    assert run(root, "list").output.count("\n") == 2  # the header and Pat


@pytest.mark.parametrize(
    ("more", "topic", "expected"),
    [
        ("opt_out: [birthdays]\n", "birthday", "opted out (birthdays)"),
        ("opt_out: [birthday]\n", "birthdays", "opted out (birthday)"),
        ("dislikes: [Bright colours]\n", "colour", "dislikes the topic (Bright colours)"),
    ],
)
def test_topics_match_a_person_s_words_both_ways(
    write_vault: WriteVault, more: str, topic: str, expected: str
) -> None:
    root = vault(write_vault, topic=topic, more=more)
    result = run(root, "draft", "hi", "--today", DAY, "--explain", "--dry-run")
    assert result.output.splitlines()[1] == f"  held   Pat Doe (pat): {expected}"


def test_to_names_whom_the_template_s_audience_leaves_out(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "templates/messages/hi.md": "---\naudience: {tag: vip}\n---\nHi {{ hello }}\n",
            "pat.md": PAT.format(more=""),
        }
    )
    result = run(root, "draft", "hi", "--to", "pat", "--today", DAY, "--explain", "--dry-run")
    assert result.output.splitlines()[:2] == [
        "hi-2026-12-15: 0 drafts; held back: 1 not in the audience",
        "  held   Pat Doe (pat): not in the audience (left out by the filters)",
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{{ me['nmae'] }}", "4: unknown field 'me.nmae' (did you mean 'name'?)"),
        ("{% include 'x.md' %}", "4: a message template cannot include or import files"),
        (
            "Liebe geschätzte Kundin,",
            "4: 'geschätzte kundin' is no greeting: greet each person by name ({{ hello }})",
        ),  # fmt: skip
    ],
)
def test_template_checks(write_vault: WriteVault, body: str, message: str) -> None:
    root = write_vault({"templates/messages/t.md": f"---\nkind: offer\n---\n{body}\n"})
    result = run(root, "draft", "t", "--today", DAY)
    assert (result.exit_code, result.output) == (
        2,
        f"crm: {root}/templates/messages/t.md:{message}\n",
    )


def test_a_variant_sets_only_its_words(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "templates/messages/hi.md": "---\nkind: greeting\n---\nHi {{ hello }}\n",
            "templates/messages/hi.de.md": "---\nkind: greeting\nchannel: sms\n---\nHallo\n",
        }
    )
    result = run(root, "draft", "hi", "--today", DAY)
    assert (result.exit_code, result.output) == (
        2,
        f"crm: {root}/templates/messages/hi.de.md:1: a language variant sets only subject and "
        "the message; channel comes from hi.md\n",
    )


def test_names_a_template_reads(write_vault: WriteVault) -> None:
    body = (
        "{% for d in dates %}{{ d.label }}: {{ d.date | date }}; {% endfor %}"
        "{{ birthday | date('MMMM y') }}; {{ likes }}; {{ address.city }}"
    )
    root = write_vault(
        {
            "templates/messages/t.md": f"---\nlanguage: en\n---\n{body}\n",
            "pat.md": PAT.format(
                more=(
                    "birthday: --03-14\nlikes: [tea, cake, jazz]\n"
                    "address: {street: Main St 1, city: Lyon}\n"
                    "dates: [{label: Wedding, date: 2027-05-15, yearly: false}]\n"
                )
            ),
        }
    )
    assert run(root, "draft", "t", "--today", DAY).exit_code == 0
    text = (root / "outbox" / "t-2026-12-15" / "pat.md").read_text(encoding="utf-8")
    assert text.endswith("---\nWedding: May 15, 2027; March; tea, cake, and jazz; Lyon\n")


def test_texts_are_offered_even_when_the_mail_server_is_down(write_vault: WriteVault) -> None:
    import socket

    with socket.socket() as s:  # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = write_vault(
        {
            "crm.toml": smtp_config(port),
            "templates/messages/hi.md": HI.format(channel="any", topic="news"),
            "pat.md": PAT.format(more="prefer: sms\n"),
            "ed.md": "---\nname: Ed\nfirst_name: Ed\nemail: ed@example.com\n---\n",
        }
    )
    assert run(root, "draft", "hi", "--today", DAY).exit_code == 0
    result = run(root, "send", CAMPAIGN, "--yes", "--today", DAY)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == "pat: sms:+4915123456789?&body=Hi%20Pat%0A"
    assert lines[-1].startswith(f"crm: cannot reach the mail server 127.0.0.1:{port}: ")
    assert read_draft(root / "outbox" / CAMPAIGN / "ed.md").status == "draft"
