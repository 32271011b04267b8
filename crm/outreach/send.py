"""``crm send``: email drafts by SMTP, exactly once.

Never twice: a draft is marked ``sending`` before the server hears of it, ``sent`` once the
server accepts it, and back to ``draft`` (with the ``error``) when the server refuses it before
taking its text. When the connection drops after the text was sent, nobody knows whether it
arrived: the draft is ``unknown``, and only ``--resend-unknown`` sends it again (with the same
``Message-ID``, so that a mail client that got it twice shows it once). A crash leaves
``sending``, which reads as ``unknown``.
"""

from __future__ import annotations

import re
import shlex
import smtplib
import ssl
import subprocess
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, getaddresses

from crm.core.errors import CrmError
from crm.core.outreach import BusinessConfig, SmtpConfig
from crm.outreach.outbox import Draft, Moved, set_status
from crm.outreach.templates import GAP

PORTS = {"starttls": 587, "ssl": 465, "none": 25}
TIMEOUT = 30.0


@dataclass
class Outcome:
    """What one ``crm send`` did, draft by draft."""

    sent: list[Draft] = field(default_factory=list)
    refused: list[tuple[Draft, str]] = field(default_factory=list)  # still drafts, with why
    unknown: list[Draft] = field(default_factory=list)
    skipped: list[tuple[Draft, str]] = field(default_factory=list)  # another crm send took them
    stopped: str | None = None  # why the batch stopped early


def sender(smtp: SmtpConfig, business: BusinessConfig) -> str:
    """Return the ``From`` of every message: ``[smtp] from``, else the business's name and email."""
    if smtp.from_:
        return smtp.from_
    if business.email:
        return str(Address(display_name=business.name, addr_spec=business.email))
    raise CrmError("set [smtp] from (or [business] email) in crm.toml: whom the mail is from")


def address_of(header: str) -> str:
    """Return the bare address of ``Name <a@b.c>``, its domain in ASCII (IDNA) for SMTP."""
    found = getaddresses([header])
    if not found or found[0][1].count("@") != 1:
        raise CrmError(f"{header!r} is not an email address")
    local, domain = found[0][1].split("@")
    if not local or not domain:
        raise CrmError(f"{header!r} is not an email address")
    try:
        local.encode("ascii")
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        raise CrmError(f"{header!r}: crm cannot send to this address (not ASCII)") from None


def message_id(draft: Draft, from_addr: str) -> str:
    """Return the draft's ``Message-ID``: the same every time it is sent (a resend dedupes)."""
    domain = from_addr.rsplit("@", 1)[-1]
    local = re.sub(r"[^\w.-]", "-", f"{draft.campaign}.{draft.customer}")
    return f"<{local}@{domain}>"


def email_of(draft: Draft, from_header: str, now: datetime) -> EmailMessage:
    """Return the email of ``draft``: UTF-8 text, the customer's display name in ``To``."""
    mid = message_id(draft, address_of(from_header))
    return text_email(from_header, draft.to, draft.subject or "", draft.body, now=now, mid=mid)


def text_email(
    from_header: str, to: str, subject: str, body: str, *, now: datetime, mid: str
) -> EmailMessage:
    """Return a UTF-8 text email (quoted-printable) to ``to``, with its display name kept, and
    ``subject`` on one line: a draft's, or the digest's before its HTML part."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = from_header
    name = getaddresses([to])[0][0]
    msg["To"] = str(Address(display_name=name, addr_spec=address_of(to)))
    msg["Subject"] = " ".join(subject.split())
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = mid
    msg.set_content(body, charset="utf-8", cte="quoted-printable")
    return msg


def password(smtp: SmtpConfig, environ: Mapping[str, str]) -> str | None:
    """Return the SMTP password from ``password_env`` or ``password_command`` (None: no login)."""
    if smtp.password_env:
        value = environ.get(smtp.password_env)
        if not value:
            raise CrmError(f"[smtp] password_env names ${smtp.password_env}, which is not set")
        return value
    if smtp.password_command:
        try:
            done = subprocess.run(
                shlex.split(smtp.password_command), capture_output=True, text=True, timeout=60
            )
        except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
            raise CrmError(f"[smtp] password_command failed: {exc}") from None
        if done.returncode != 0 or not done.stdout.strip():
            raise CrmError(f"[smtp] password_command exited {done.returncode} without a password")
        return done.stdout.splitlines()[0]
    return None


@contextmanager
def connection(smtp: SmtpConfig, secret: str | None) -> Iterator[smtplib.SMTP]:
    """Open, secure and log in to the SMTP server of ``[smtp]``; quit when done."""
    if not smtp.host:
        raise CrmError("set [smtp] host in crm.toml to send email (or send by links)")
    port = smtp.port or PORTS[smtp.security]
    try:
        conn: smtplib.SMTP
        if smtp.security == "ssl":
            conn = smtplib.SMTP_SSL(
                smtp.host, port, timeout=TIMEOUT, context=ssl.create_default_context()
            )
        else:
            conn = smtplib.SMTP(smtp.host, port, timeout=TIMEOUT)
        conn.ehlo()
        if smtp.security == "starttls":
            conn.starttls(context=ssl.create_default_context())
            conn.ehlo()
        if smtp.user:
            if secret is None:
                raise CrmError("[smtp] user is set: name password_env or password_command")
            conn.login(smtp.user, secret)
    except (OSError, smtplib.SMTPException) as exc:
        raise CrmError(f"cannot reach the mail server {smtp.host}:{port}: {exc}") from None
    try:
        yield conn
    finally:
        try:
            conn.quit()
        except (OSError, smtplib.SMTPException):
            conn.close()


class _Unknown(Exception):
    """The connection failed after the message's text went out."""


def _deliver(conn: smtplib.SMTP, from_addr: str, to_addr: str, data: bytes) -> None:
    """Send one message; raise ``_Unknown`` when the outcome cannot be known, and
    ``smtplib.SMTPResponseException``/``SMTPServerDisconnected`` when it surely did not go."""
    code, reply = conn.mail(from_addr)
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, reply, from_addr)
    code, reply = conn.rcpt(to_addr)
    if code not in (250, 251):
        conn.rset()
        raise smtplib.SMTPRecipientsRefused({to_addr: (code, reply)})
    conn.putcmd("data")
    code, reply = conn.getreply()
    if code != 354:
        raise smtplib.SMTPDataError(code, reply)
    text = re.sub(rb"(?m)^\.", b"..", re.sub(rb"\r?\n", b"\r\n", data))
    if not text.endswith(b"\r\n"):
        text += b"\r\n"
    try:
        conn.send(text + b".\r\n")
        code, reply = conn.getreply()
    except (OSError, smtplib.SMTPServerDisconnected) as exc:
        raise _Unknown(str(exc) or "the connection dropped") from None
    if code != 250:
        raise smtplib.SMTPDataError(code, reply)


def send_one(smtp: SmtpConfig, secret: str | None, msg: EmailMessage, to_addr: str) -> None:
    """Send one message (not a draft: the digest) over its own connection; a server that
    refuses it or cannot be reached is a ``CrmError`` saying so."""
    from_addr = address_of(str(msg["From"]))
    try:
        data = msg.as_bytes(policy=SMTP)
    except (ValueError, UnicodeError, HeaderParseError) as exc:
        raise CrmError(f"cannot write the message to {to_addr}: {exc}") from None
    with connection(smtp, secret) as conn:
        try:
            _deliver(conn, from_addr, to_addr, data)
        except _Unknown as exc:
            raise CrmError(
                f"the connection dropped while sending to {to_addr} ({exc}): did it arrive?"
            ) from None
        except smtplib.SMTPRecipientsRefused as exc:
            why = "; ".join(f"{c} {_text(r)}" for c, r in exc.recipients.values())
            raise CrmError(f"the mail server refused {to_addr}: {why}") from None
        except smtplib.SMTPResponseException as exc:
            raise CrmError(
                f"the mail server refused the message: {exc.smtp_code} {_text(exc.smtp_error)}"
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise CrmError(f"the connection failed: {str(exc) or type(exc).__name__}") from None


def sendable(draft: Draft, resend_unknown: bool) -> str | None:
    """Return why ``draft`` is not sent now (None: send it)."""
    if draft.status == "sent":
        return "sent"
    if draft.status in ("unknown", "sending") and not resend_unknown:
        return "outcome unknown: check the recipient's mailbox, then crm send --resend-unknown"
    if GAP in draft.body:
        return f"still holds {GAP}: write the personal line first"
    return None


def send_emails(
    drafts: Sequence[Draft],
    conn: smtplib.SMTP,
    from_header: str,
    *,
    now: datetime,
    on_sent: Callable[[Draft], object],
    pause: Callable[[], None] = lambda: None,
) -> Outcome:
    """Send each draft once over ``conn``; ``on_sent`` logs a sent one back to its customer."""
    outcome = Outcome()
    from_addr = address_of(from_header)
    for n, draft in enumerate(drafts):
        if n:
            pause()
        try:  # everything that can fail before the server hears of it, fails here
            msg = email_of(draft, from_header, now)
            to_addr, data = address_of(draft.to), msg.as_bytes()
        except (CrmError, ValueError, UnicodeError, HeaderParseError) as exc:
            why = str(exc)
            outcome.refused.append((set_status(draft, "draft", error=why), why))
            continue
        try:
            draft = set_status(draft, "sending", expect=(draft.status,), error=None)
        except Moved as exc:
            outcome.skipped.append((draft, str(exc)))
            continue
        try:
            _deliver(conn, from_addr, to_addr, data)
        except _Unknown as exc:
            outcome.unknown.append(set_status(draft, "unknown", error=str(exc)))
            outcome.stopped = f"the connection dropped while sending to {draft.to}"
            break
        except smtplib.SMTPRecipientsRefused as exc:
            why = "; ".join(f"{c} {r.decode(errors='replace')}" for c, r in exc.recipients.values())
            outcome.refused.append((set_status(draft, "draft", error=why), why))
            continue
        except smtplib.SMTPResponseException as exc:
            why = f"{exc.smtp_code} {_text(exc.smtp_error)}"
            outcome.refused.append((set_status(draft, "draft", error=why), why))
            outcome.stopped = f"the server refused a message: {why}"
            break
        except (OSError, smtplib.SMTPException) as exc:
            why = str(exc) or type(exc).__name__
            outcome.refused.append((set_status(draft, "draft", error=why), why))
            outcome.stopped = f"the connection failed: {why}"
            break
        sent = set_status(draft, "sent", message_id=msg["Message-ID"], sent=now.isoformat())
        outcome.sent.append(sent)
        on_sent(sent)
    return outcome


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply


def pause_for(rate: int, sleep: Callable[[float], None]) -> Callable[[], None]:
    """Return the wait between two messages at ``rate`` per minute (none for 0)."""
    return (lambda: sleep(60.0 / rate)) if rate else (lambda: None)
