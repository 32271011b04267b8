"""The settings of outreach in ``crm.toml``: ``[business]``, ``[outreach]``, ``[smtp]`` and ``[digest]``."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from crm.core.dates import parse_span
from crm.core.model import Span


@dataclass(frozen=True, slots=True)
class BusinessConfig:
    """Who writes the messages (``[business]``): templates see it as ``me``."""

    name: str = ""
    signature: str = ""
    phone: str = ""
    email: str = ""
    language: str = "en"  # of the messages and their dates when a customer names none
    region: str = ""  # ISO 3166 country code: how a phone number without +country reads


# The filters a template's ``audience`` (and an occasion's) may set: the names of crm draft's options.
AUDIENCE_KEYS = ("tag", "segment", "status", "company", "city", "country", "likes", "report")


@dataclass(frozen=True, slots=True)
class OutreachConfig:
    """Where drafts wait and how long a customer rests between messages (``[outreach]``)."""

    outbox: str = "outbox"  # a folder of the vault, never read as customers
    quiet: Span = Span(7, "d")
    regulars: tuple[str, ...] = ()  # tags or segments of the regulars: told of every closure
    reply_within: Span = Span(2, "d")  # a reply you owe is late this long after they asked


Security = Literal["starttls", "ssl", "none"]
SECURITIES: tuple[Security, ...] = ("starttls", "ssl", "none")


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """How ``crm send`` reaches the mail server (``[smtp]``); the password never lives here."""

    host: str = ""
    port: int = 0  # 0: the security's usual port (587, 465 or 25)
    security: Security = "starttls"
    user: str = ""
    password_env: str = ""  # the name of an environment variable holding the password
    password_command: str = ""  # a command that prints the password (a keychain, pass)
    from_: str = ""  # ``from`` in crm.toml: "Lumen Hair Studio <hello@lumen.example>"
    rate: int = 0  # messages per minute; 0: as fast as the server takes them


DIGEST_SUBJECT = "crm: your day, {date}"


@dataclass(frozen=True, slots=True)
class DigestConfig:
    """Where ``crm digest --send`` mails the day's agenda (``[digest]``)."""

    to: str = ""  # required for --send: "Mara <mara@lumen.example>"
    subject: str = DIGEST_SUBJECT  # ``{date}`` becomes the day, 2026-12-01

    def subject_for(self, day: date) -> str:
        """Return the subject of the digest for ``day``."""
        return self.subject.replace("{date}", day.isoformat())


def _texts(
    tab: dict[str, Any], section: str, names: tuple[str, ...], bad: Callable[[str], None]
) -> dict[str, Any]:
    """Return the keys of ``names`` that ``tab`` sets to text; a value of another type is a problem."""
    values = {}
    for name in names:
        if name in tab:
            if isinstance(tab[name], str):
                values[name] = tab[name].strip()
            else:
                bad(f"{section}.{name} must be text")
    return values


def parse_business(tab: dict[str, Any], bad: Callable[[str], None]) -> BusinessConfig:
    values = _texts(tab, "business", tuple(f.name for f in fields(BusinessConfig)), bad)
    if "language" in values and not re.fullmatch(
        r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*", values["language"]
    ):
        bad(f"business.language: {values.pop('language')!r} is not a language code (en, de, pt-BR)")
    if "region" in values:
        region = values["region"].upper()
        if not re.fullmatch(r"[A-Z]{2}", region):
            bad(
                f"business.region: {values.pop('region')!r} is not a two-letter country code (DE, US)"
            )
        else:
            values["region"] = region
    return BusinessConfig(**values)


def parse_quiet(text: str) -> Span:
    """Return the quiet period ``text`` names: a span (``7d``, ``2w``), or ``0d`` for none."""
    if re.fullmatch(r"\s*0+\s*[dwmy]?\s*", text):
        return Span(0, "d")
    try:
        return parse_span(text)
    except ValueError:
        raise ValueError(f"'{text}' is not a quiet period (7d, 2w, 1m, or 0d for none)") from None


def parse_outreach(tab: dict[str, Any], bad: Callable[[str], None]) -> OutreachConfig:
    values: dict[str, Any] = _texts(tab, "outreach", ("outbox",), bad)
    outbox = values.get("outbox")
    if outbox is not None:
        # One spelling, as the walker sees folders: "./drafts/" and "drafts" are one folder.
        parts = [p for p in PurePosixPath(outbox.replace("\\", "/")).parts if p != "."]
        if not parts or Path(outbox).is_absolute() or outbox.startswith("/") or ".." in parts:
            bad(f"outreach.outbox: {values.pop('outbox')!r} must be a folder inside the vault")
        else:
            values["outbox"] = "/".join(parts)
    if "quiet" in tab:
        try:
            values["quiet"] = parse_quiet(str(tab["quiet"]))
        except ValueError as exc:
            bad(f"outreach.quiet: {exc}")
    if "reply_within" in tab:
        try:
            values["reply_within"] = parse_quiet(str(tab["reply_within"]))
        except ValueError:
            bad(
                f"outreach.reply_within: {tab['reply_within']!r} is not a span "
                "(2d, 1w, or 0d: late the day they ask)"
            )
    if "regulars" in tab:
        regulars = tab["regulars"]
        if isinstance(regulars, str):
            regulars = [regulars]
        if isinstance(regulars, list) and all(isinstance(r, str) for r in regulars):
            values["regulars"] = tuple(r.strip() for r in regulars if r.strip())
        else:
            bad("outreach.regulars must be a tag or a list of tags and segments")
    return OutreachConfig(**values)


def parse_smtp(tab: dict[str, Any], bad: Callable[[str], None]) -> SmtpConfig:
    names = ("host", "user", "password_env", "password_command", "from")
    values = _texts(tab, "smtp", names, bad)
    if "from" in values:
        values["from_"] = values.pop("from")
    security = tab.get("security", "starttls")
    if security in SECURITIES:
        values["security"] = security
    else:
        bad(f"smtp.security must be one of {', '.join(SECURITIES)}, not {security!r}")
    for name, top in (("port", 65535), ("rate", 100_000)):
        if name in tab:
            value = tab[name]
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
                bad(f"smtp.{name} must be a whole number from 0 to {top}")
            else:
                values[name] = value
    if "password" in tab:
        bad(
            "smtp.password: a password never lives in the vault; name an environment variable in password_env or a command in password_command"
        )
    return SmtpConfig(**values)


def parse_digest(tab: dict[str, Any], bad: Callable[[str], None]) -> DigestConfig:
    """Return the ``[digest]`` settings; an address without one ``@`` is a problem."""
    values = _texts(tab, "digest", ("to", "subject"), bad)
    if "to" in values and values["to"].count("@") != 1:
        bad(f"digest.to: {values.pop('to')!r} is not an email address")
    if "subject" in values and not values["subject"]:
        values.pop("subject")  # an empty subject reads as the default one
    if "\n" in values.get("subject", ""):
        bad("digest.subject must be one line")
        values.pop("subject")
    return DigestConfig(**values)
