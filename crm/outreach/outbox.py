"""The outbox: one draft file per customer in ``outbox/CAMPAIGN/ID.md``.

A draft is front matter (``to``, ``channel``, ``subject``, ``customer``, ``campaign``,
``status``, and a ``context:`` block for the sender's eyes only), then the message, which the
person may edit before sending. ``status`` moves ``draft`` → ``sending`` → ``sent``; a message
whose outcome is not known (the connection dropped after DATA, or a crash while sending) is
``unknown``. Status changes rewrite only their own front matter lines.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import yaml

from crm.core.errors import CrmError
from crm.edit import atomic
from crm.vault.files import read_regular
from crm.vault.syntax import front_matter_end

DraftStatus = Literal["draft", "sending", "sent", "unknown"]
STATUSES: tuple[DraftStatus, ...] = ("draft", "sending", "sent", "unknown")
LINKS_PAGE = "links.html"
_CAMPAIGN = re.compile(r"^[\w][\w.-]*$")


def check_campaign(name: str) -> str:
    """Return ``name`` when it can be a campaign (one folder name); raise ``CrmError`` if not."""
    if not _CAMPAIGN.match(name) or name.startswith("."):
        raise CrmError(
            f"{name!r} is no campaign name: letters, digits, '-', '_' and '.', e.g. holidays-2026",
            exit_code=2,
        )
    return name


@dataclass(frozen=True, slots=True)
class Draft:
    """One message in the outbox, as its file says now."""

    path: Path
    campaign: str
    customer: str  # the customer's id
    name: str
    channel: str
    to: str
    subject: str | None
    kind: str
    log: str
    status: DraftStatus
    message_id: str | None
    error: str | None
    body: str
    topic: str | None = None  # the template's: the rules ask again when it is sent
    winback: bool = False  # drafted for a lost customer by ``--report winback``
    reply: bool = False  # an answer owed, drafted by ``--report replies``
    offered: str | None = None  # the day ``crm send`` put it on the links page

    @property
    def waiting(self) -> bool:
        """Return True while the draft has not been sent (and its outcome is known)."""
        return self.status == "draft"


def campaign_folder(outbox: Path, campaign: str) -> Path:
    return outbox / check_campaign(campaign)


def draft_path(outbox: Path, campaign: str, customer_id: str) -> Path:
    return campaign_folder(outbox, campaign) / f"{customer_id.replace('/', '--')}.md"


def scalar(value: Any) -> str:
    """Return a value as one line of YAML (quoted when YAML would read it as something else)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date | datetime):
        return value.isoformat()
    text = str(value)
    plain = re.fullmatch(r"[A-Za-z][\w .@<>+,!?'-]*", text) and not re.search(r": | #", text)
    try:
        same = yaml.safe_load(text) == text
    except yaml.YAMLError:
        same = False
    if plain and same:
        return text
    quoted = yaml.safe_dump(text, default_style='"', allow_unicode=True, width=1_000_000)
    return quoted.removesuffix("\n...\n").rstrip("\n")


def draft_text(front: Mapping[str, Any], context: Mapping[str, Any], body: str) -> str:
    """Return a new draft file: front matter (one key a line), ``context:``, then the body."""
    lines = ["---"]
    lines.extend(f"{key}: {scalar(value)}" for key, value in front.items() if value is not None)
    if context:
        dumped = yaml.safe_dump(
            dict(context), allow_unicode=True, sort_keys=False, width=1000, default_flow_style=False
        )
        lines.append("context:  # for you only; never sent")
        lines.extend(f"  {line}" for line in dumped.rstrip("\n").split("\n"))
    lines.append("---")
    return "\n".join(lines) + "\n" + body


def write_draft(path: Path, text: str) -> None:
    """Create the draft file; an existing one (perhaps edited) is never overwritten."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic.replace(path, text.encode("utf-8"), None)


def read_draft(path: Path) -> Draft:
    """Return the draft in ``path``; raise ``CrmError`` (``path: message``) when it is broken."""
    try:
        text = read_regular(path).decode("utf-8-sig").replace("\r\n", "\n")  # a FIFO: no hang
    except (OSError, UnicodeDecodeError) as exc:
        raise CrmError(f"{path}: cannot read the draft: {exc}") from None
    front, body = _split(path, text)
    try:
        meta = yaml.safe_load(front) or {}
    except yaml.YAMLError as exc:
        raise CrmError(f"{path}: the draft's front matter is not YAML: {exc}") from None
    if not isinstance(meta, dict):
        raise CrmError(f"{path}: the draft's front matter is not a mapping")
    status = str(meta.get("status") or "draft")
    if status not in STATUSES:
        raise CrmError(f"{path}: status {status!r} is not one of {', '.join(STATUSES)}")

    def text_of(key: str) -> str | None:
        value = meta.get(key)
        return None if value is None or str(value).strip() == "" else str(value).strip()

    to = text_of("to")
    if to is None:
        raise CrmError(f"{path}: the draft says nobody to send it to (to:)")
    return Draft(
        path=path,
        campaign=text_of("campaign") or path.parent.name,
        customer=text_of("customer") or path.stem,
        name=text_of("name") or text_of("customer") or path.stem,
        channel=text_of("channel") or "email",
        to=to,
        subject=text_of("subject"),
        kind=text_of("kind") or "message",
        log=text_of("log") or "",
        status=status,
        message_id=text_of("message_id"),
        error=text_of("error"),
        body=body,
        topic=text_of("topic"),
        winback=meta.get("winback") is True,
        reply=meta.get("reply") is True,
        offered=text_of("offered"),
    )


def _split(path: Path, text: str) -> tuple[str, str]:
    lines = text.split("\n")
    end = front_matter_end(lines)
    if isinstance(end, str):
        raise CrmError(f"{path}: {end}")
    return "\n".join(lines[1:end]), "\n".join(lines[end + 1 :])


def campaign_drafts(outbox: Path, campaign: str) -> list[Draft]:
    """Return the drafts of ``campaign``, by file name; raise ``CrmError`` for no such campaign."""
    found = campaign_folder(outbox, campaign)
    if not found.is_dir():
        names = campaigns(outbox)
        hint = f"; the outbox has {', '.join(names)}" if names else "; the outbox is empty"
        raise CrmError(f"no campaign {campaign!r} in {outbox}{hint}", exit_code=2)
    return [read_draft(p) for p in sorted(found.glob("*.md"))]


def campaigns(outbox: Path) -> list[str]:
    """Return the campaigns in the outbox, sorted."""
    if not outbox.is_dir():
        return []
    return sorted(p.name for p in outbox.iterdir() if p.is_dir() and not p.name.startswith("."))


def waiting_drafts(outbox: Path) -> dict[str, list[str]]:
    """Return, by campaign, the customer ids of drafts still to send (read cheaply, by status)."""
    found: dict[str, list[str]] = {}
    for campaign in campaigns(outbox):
        for path in sorted((outbox / campaign).glob("*.md")):
            try:
                head = path.read_text(encoding="utf-8", errors="replace").split("\n---", 1)[0]
            except OSError:
                continue
            if _key(head, "status", "draft") == "draft":
                found.setdefault(campaign, []).append(_key(head, "customer", path.stem))
    return found


def _key(head: str, key: str, default: str) -> str:
    """Return a top-level key's value in a draft's front matter text (unquoted), else ``default``."""
    found = re.search(rf"^{key}[ \t]*:[ \t]*(.+?)(?:[ \t]+#.*)?$", head, re.M)
    if found is None:
        return default
    value = found.group(1).strip()
    return value[1:-1] if len(value) > 1 and value[0] == value[-1] and value[0] in "'\"" else value


def waiting(outbox: Path) -> list[tuple[str, int]]:
    """Return each campaign with drafts still to send, and how many."""
    return [(c, len(ids)) for c, ids in waiting_drafts(outbox).items()]


class Moved(CrmError):
    """The draft's status is no longer what the caller saw (another crm send got there first)."""


_KEY_LINE = r"^{key}[ \t]*:[ \t]*(?P<value>.*?)(?P<comment>[ \t]+#.*)?$"


def set_status(
    draft: Draft,
    status: DraftStatus,
    *,
    expect: tuple[DraftStatus, ...] | None = None,
    **more: str | None,
) -> Draft:
    """Rewrite the draft's ``status`` (and ``message_id``, ``sent``, ``error``...) lines atomically.

    Under the draft's lock, and only when its status is still one of ``expect`` (else
    ``Moved``): two ``crm send`` at once never both send it. Only those lines change (their
    comments and the file's line endings stay); the message and anything the person edited stay
    as they are. A key given as None is removed; a missing one is added after ``status``.
    """
    path = draft.path
    with atomic.locked(path):
        data, seen = atomic.read(path)
        text = data.decode("utf-8-sig")
        newline = "\r\n" if "\r\n" in text else "\n"
        lines = text.replace("\r\n", "\n").split("\n")
        end = front_matter_end(lines)
        if isinstance(end, str):
            raise CrmError(f"{path}: {end}")

        def find(key: str) -> tuple[int, re.Match[str]] | tuple[None, None]:
            pattern = re.compile(_KEY_LINE.format(key=re.escape(key)))
            for n in range(1, end):
                if found := pattern.match(lines[n]):
                    return n, found
            return None, None

        if expect is not None:
            at, found = find("status")
            now = found.group("value").strip() if found else "draft"
            if now not in expect:
                raise Moved(f"{path}: its status is {now!r} now; left alone")
        for key, value in {"status": status, **more}.items():
            at, found = find(key)
            if value is None:
                if at is not None:
                    del lines[at]
                    end -= 1
                continue
            comment = (found.group("comment") or "") if found else ""
            line = f"{key}: {scalar(value)}{comment}"
            if at is not None:
                lines[at] = line
                continue
            status_at, _ = find("status")
            where = end if status_at is None else status_at + 1
            lines.insert(where, line)
            end += 1
        atomic.replace(path, newline.join(lines).encode("utf-8"), seen)
    return read_draft(path)
