"""A real SMTP server for the tests of ``crm send``: aiosmtpd on 127.0.0.1, on a free port.

``Mailbox`` keeps every message that arrived, byte for byte, and can fail on purpose: refuse
the Nth message's text (a 451), drop the connection after taking the Nth message's text
(nobody knows whether it arrived), or refuse a recipient.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Arrival:
    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Mailbox:
    arrived: list[Arrival] = field(default_factory=list)
    refuse_text: set[int] = field(default_factory=set)  # 1-based numbers of DATA attempts
    drop_after_text: set[int] = field(default_factory=set)
    refuse_recipients: set[str] = field(default_factory=set)
    attempts: int = 0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse_recipients:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.attempts += 1
        if self.attempts in self.refuse_text:
            return "451 4.3.0 try again later"
        self.arrived.append(Arrival(envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        if self.attempts in self.drop_after_text:
            server.transport.close()  # the message arrived; the client never hears so
        return "250 OK"


class _Loopback(Controller):
    """A controller that binds port 0 and learns the port the system chose."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@contextmanager
def smtp_server(mailbox: Mailbox, **server: Any) -> Iterator[int]:
    """Run a real SMTP server on 127.0.0.1 for ``mailbox``; yield its port; stop it after.

    ``server`` goes to aiosmtpd's ``SMTP`` (an ``authenticator``, say).
    """
    controller = _Loopback(mailbox, hostname="127.0.0.1", port=0, **server)
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()
