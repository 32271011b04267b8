"""``crm send`` against a real SMTP server on 127.0.0.1: what arrives, and never twice."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from crm.cli import main
from tests.conftest import WriteVault
from tests.smtpserver import Mailbox, smtp_server

TODAY = "2026-12-20"
CAMPAIGN = "note-2026-12-20"
TEMPLATE = """\
---
kind: greeting
channel: email
subject: Frohe Feiertage, {{ hello }}
log: Holiday greeting
---
Hallo {{ hello }},

schöne Feiertage!
{{ me.signature }}
"""
CUSTOMERS = {
    "ana.md": "---\nname: Ana García\nfirst_name: Ana\nemail: ana@example.com\n---\n",
    "bo.md": "---\nname: Bo Li\nfirst_name: Bo\nemail: bo@example.com\n---\n\n## Log\n",
    "zoe.md": (
        "---\nname: Zoë Müller\nfirst_name: Zoë\nemail: zoe@example.de\n---\n\n"
        "Notes stay.\n\n## Log\n- 2026-11-01 visit: trim\n"
    ),
}


def config(port: int, extra: str = "") -> str:
    return (
        '[business]\nname = "Lumen"\nsignature = "Mara"\nemail = "hello@lumen.example"\n\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
        f'from = "Lumen Hair Studio <hello@lumen.example>"\n{extra}'
    )


def run(root: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["--vault", str(root), *args], env=env)


@pytest.fixture
def mailbox() -> Mailbox:
    return Mailbox()


@pytest.fixture
def vault(write_vault: WriteVault, mailbox: Mailbox) -> tuple[Path, int]:
    """A vault of three customers with their drafts written, and a running SMTP server."""
    with smtp_server(mailbox) as port:
        root = write_vault(
            {"crm.toml": config(port), "templates/messages/note.md": TEMPLATE, **CUSTOMERS}
        )
        drafted = run(root, "draft", "note", "--today", TODAY)
        assert drafted.exit_code == 0, drafted.output
        assert drafted.output == (
            f"{CAMPAIGN}: 3 drafts\n"
            f"Wrote 3 to outbox/{CAMPAIGN}/; read and edit them, then: crm send {CAMPAIGN}\n"
        )
        yield root, port


def status(root: Path, customer: str) -> str:
    text = (root / "outbox" / CAMPAIGN / f"{customer}.md").read_text(encoding="utf-8")
    return next(line for line in text.splitlines() if line.startswith("status:"))


def test_without_yes_it_only_shows_what_it_would_send(vault: tuple[Path, int], mailbox: Mailbox):
    root, _ = vault
    result = run(root, "send", CAMPAIGN, "--today", TODAY)
    assert result.exit_code == 0, result.output
    assert result.output == (
        "would send: ana: Ana García <ana@example.com>: Frohe Feiertage, Ana\n"
        "would send: bo: Bo Li <bo@example.com>: Frohe Feiertage, Bo\n"
        "would send: zoe: Zoë Müller <zoe@example.de>: Frohe Feiertage, Zoë\n"
        "3 to send; run again with --yes to send them.\n"
    )
    assert mailbox.arrived == []
    assert status(root, "zoe") == "status: draft"


def test_the_messages_that_arrive(vault: tuple[Path, int], mailbox: Mailbox):
    root, _ = vault
    before = (root / "zoe.md").read_text(encoding="utf-8")
    result = run(root, "send", CAMPAIGN, "--yes", "--today", TODAY)
    assert result.exit_code == 0, result.output
    assert result.output == (
        "sent: ana: Ana García <ana@example.com>\n"
        "sent: bo: Bo Li <bo@example.com>\n"
        "sent: zoe: Zoë Müller <zoe@example.de>\n"
    )
    assert [a.recipients for a in mailbox.arrived] == [
        ["ana@example.com"],
        ["bo@example.com"],
        ["zoe@example.de"],
    ]
    zoe = mailbox.arrived[2]
    assert zoe.sender == "hello@lumen.example"
    head = zoe.data.split(b"\r\n\r\n", 1)[0].decode("ascii").split("\r\n")
    assert [h for h in head if not h.startswith("Date: ")] == [
        "From: Lumen Hair Studio <hello@lumen.example>",
        "To: =?utf-8?q?Zo=C3=AB_M=C3=BCller?= <zoe@example.de>",
        "Subject: Frohe Feiertage, =?utf-8?q?Zo=C3=AB?=",
        f"Message-ID: <{CAMPAIGN}.zoe@lumen.example>",
        'Content-Type: text/plain; charset="utf-8"',
        "Content-Transfer-Encoding: quoted-printable",
        "MIME-Version: 1.0",
    ]
    message = zoe.message
    assert str(message["To"]) == "Zoë Müller <zoe@example.de>"
    assert message.get_content() == "Hallo Zoë,\r\n\r\nschöne Feiertage!\r\nMara\r\n"
    # Logged back: one line added to the Log, nothing else in the file changed.
    after = (root / "zoe.md").read_text(encoding="utf-8")
    line = f"- 2026-12-20 greeting: Holiday greeting [campaign: {CAMPAIGN}]\n"
    assert after == before + line
    assert (root / "ana.md").read_text(encoding="utf-8").endswith(f"## Log\n{line}")
    assert status(root, "zoe") == "status: sent"
    # Again: nothing is sent twice, nothing is logged twice.
    again = run(root, "send", CAMPAIGN, "--yes", "--today", TODAY)
    assert again.exit_code == 0, again.output
    assert again.output == f"nothing left to send in {CAMPAIGN}\n"
    assert len(mailbox.arrived) == 3
    assert (root / "zoe.md").read_text(encoding="utf-8") == after


def test_a_server_failing_mid_batch_then_each_remaining_message_exactly_once(
    vault: tuple[Path, int], mailbox: Mailbox
):
    root, _ = vault
    mailbox.refuse_text = {2}
    first = run(root, "send", CAMPAIGN, "--yes", "--today", TODAY)
    assert first.exit_code == 1
    assert first.output == (
        "sent: ana: Ana García <ana@example.com>\n"
        "refused: bo: 451 4.3.0 try again later\n"
        "crm: stopped: the server refused a message: 451 4.3.0 try again later; "
        "2 not sent, run crm send again\n"
    )
    assert [status(root, c) for c in ("ana", "bo", "zoe")] == [
        "status: sent",
        "status: draft",
        "status: draft",
    ]
    second = run(root, "send", CAMPAIGN, "--yes", "--today", TODAY)
    assert second.exit_code == 0, second.output
    assert second.output == (
        "sent: bo: Bo Li <bo@example.com>\nsent: zoe: Zoë Müller <zoe@example.de>\n"
    )
    assert sorted(a.recipients[0] for a in mailbox.arrived) == [
        "ana@example.com",
        "bo@example.com",
        "zoe@example.de",
    ]
    bo = (root / "bo.md").read_text(encoding="utf-8")
    assert bo.count("[campaign: note-2026-12-20]") == 1


def test_a_dropped_connection_after_the_text_is_unknown_and_resent_only_when_asked(
    vault: tuple[Path, int], mailbox: Mailbox
):
    root, _ = vault
    mailbox.drop_after_text = {2}
    first = run(root, "send", CAMPAIGN, "--yes", "--today", TODAY)
    assert first.exit_code == 1
    assert first.output.splitlines()[:2] == [
        "sent: ana: Ana García <ana@example.com>",
        "unknown: bo: the connection dropped; did it arrive?",
    ]
    assert status(root, "bo") == "status: unknown"
    assert "[campaign:" not in (root / "bo.md").read_text(encoding="utf-8")
    second = run(root, "send", CAMPAIGN, "--yes", "--today", TODAY)
    assert second.exit_code == 0, second.output
    assert second.output == (
        "not sent: bo: outcome unknown: check the recipient's mailbox, then crm send "
        "--resend-unknown\n"
        "sent: zoe: Zoë Müller <zoe@example.de>\n"
    )
    assert [a.recipients[0] for a in mailbox.arrived].count("bo@example.com") == 1
    third = run(root, "send", CAMPAIGN, "--yes", "--resend-unknown", "--today", TODAY)
    assert third.exit_code == 0, third.output
    assert third.output == "sent: bo: Bo Li <bo@example.com>\n"
    twice = [a for a in mailbox.arrived if a.recipients == ["bo@example.com"]]
    # The same Message-ID both times: a mail client shows a message it got twice once.
    assert [str(a.message["Message-ID"]) for a in twice] == [f"<{CAMPAIGN}.bo@lumen.example>"] * 2
    assert (root / "bo.md").read_text(encoding="utf-8").count("[campaign:") == 1


def test_a_refused_recipient_stays_a_draft_and_the_rest_go(
    vault: tuple[Path, int], mailbox: Mailbox
):
    root, _ = vault
    mailbox.refuse_recipients = {"bo@example.com"}
    result = run(root, "send", CAMPAIGN, "--yes", "--today", TODAY)
    assert result.exit_code == 1
    assert result.output == (
        "sent: ana: Ana García <ana@example.com>\n"
        "sent: zoe: Zoë Müller <zoe@example.de>\n"
        "refused: bo: 550 5.1.1 no such mailbox\n"
        "crm: some messages were not sent\n"
    )
    text = (root / "outbox" / CAMPAIGN / "bo.md").read_text(encoding="utf-8")
    assert 'status: draft\nerror: "550 5.1.1 no such mailbox"\n' in text


def test_limit_sends_the_first_n(vault: tuple[Path, int], mailbox: Mailbox):
    root, _ = vault
    result = run(root, "send", CAMPAIGN, "--yes", "--limit", "1", "--today", TODAY)
    assert result.exit_code == 0, result.output
    assert result.output == "sent: ana: Ana García <ana@example.com>\n"
    assert [status(root, c) for c in ("ana", "bo")] == ["status: sent", "status: draft"]


def test_a_sent_message_whose_log_line_is_missing_is_logged_once(
    vault: tuple[Path, int], mailbox: Mailbox
):
    root, _ = vault
    # As after a crash between "sent" and the log line: the draft says sent, the log does not.
    draft = root / "outbox" / CAMPAIGN / "bo.md"
    draft.write_text(draft.read_text(encoding="utf-8").replace("status: draft", "status: sent"))
    result = run(root, "send", CAMPAIGN, "--today", TODAY)
    assert result.output.splitlines()[0] == ("logged bo: it was sent, but its log line was missing")
    assert (
        (root / "bo.md")
        .read_text(encoding="utf-8")
        .endswith(f"- 2026-12-20 greeting: Holiday greeting [campaign: {CAMPAIGN}]\n")
    )
    assert "bo@example.com" not in [a.recipients[0] for a in mailbox.arrived]


def test_a_draft_still_holding_the_gap_is_never_sent(vault: tuple[Path, int], mailbox: Mailbox):
    root, _ = vault
    draft = root / "outbox" / CAMPAIGN / "ana.md"
    draft.write_text(draft.read_text(encoding="utf-8") + "\n[...]\n", encoding="utf-8")
    result = run(root, "send", CAMPAIGN, "--yes", "--today", TODAY)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "not sent: ana: still holds [...]: write the personal line first",
        "sent: bo: Bo Li <bo@example.com>",
        "sent: zoe: Zoë Müller <zoe@example.de>",
    ]
    assert status(root, "ana") == "status: draft"


def test_the_password_comes_from_the_environment_never_the_vault(
    write_vault: WriteVault, mailbox: Mailbox
):
    with smtp_server(mailbox) as port:
        root = write_vault(
            {
                "crm.toml": config(port, 'user = "mara"\npassword_env = "LUMEN_SMTP"\n'),
                "templates/messages/note.md": TEMPLATE,
                **CUSTOMERS,
            }
        )
        assert run(root, "draft", "note", "--today", TODAY).exit_code == 0
        result = run(root, "send", CAMPAIGN, "--yes", "--today", TODAY, env={"LUMEN_SMTP": ""})
        assert result.exit_code == 1
        assert result.output == "crm: [smtp] password_env names $LUMEN_SMTP, which is not set\n"
        assert mailbox.arrived == []


def test_a_login_with_the_password_a_command_prints(write_vault: WriteVault, mailbox: Mailbox):
    from aiosmtpd.smtp import AuthResult, LoginPassword

    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server, session, envelope, mechanism, data):  # type: ignore[no-untyped-def]
        assert isinstance(data, LoginPassword)
        logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"s3cret")

    with smtp_server(mailbox, authenticator=authenticator, auth_require_tls=False) as port:
        extra = 'user = "mara"\npassword_command = "printf \'s3cret\\\\nignored\'"\n'
        root = write_vault(
            {
                "crm.toml": config(port, extra),
                "templates/messages/note.md": TEMPLATE,
                **CUSTOMERS,
            }
        )
        assert run(root, "draft", "note", "--today", TODAY).exit_code == 0
        result = run(root, "send", CAMPAIGN, "--yes", "--today", TODAY, "--limit", "1")
        assert result.exit_code == 0, result.output
        assert logins == [(b"mara", b"s3cret")]
        assert [a.recipients for a in mailbox.arrived] == [["ana@example.com"]]


def test_the_rate_waits_between_messages() -> None:
    from crm.outreach.send import pause_for

    waits: list[float] = []
    pause_for(30, waits.append)()
    pause_for(0, waits.append)()
    assert waits == [2.0]
