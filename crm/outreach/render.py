"""Rendering a template for one customer: the names it sees, and dates in their language."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

import jinja2
from babel import Locale
from babel.lists import format_list

from crm.core.config import Config
from crm.core.dates import next_occurrence, years_since
from crm.core.fields import FIELDS, field, value_of
from crm.core.model import Address, ContactPerson, Customer, ImportantDate, Location, Relative
from crm.outreach.limits import LimitExceeded, metered, render_text, template_line
from crm.outreach.localdates import LOCALE_KEY, locale_of
from crm.outreach.templates import IMPERSONAL, Fields, Template, TemplateError
from crm.rules.audience import channel_for
from crm.rules.rhythm import last_contact
from crm.rules.words import folded


@dataclass(frozen=True, slots=True)
class Rendered:
    """A customer's message: what the draft file holds."""

    channel: str
    subject: str | None
    body: str


class Listing(tuple[str, ...]):
    """A list of text that prints as people write lists, in the customer's language:
    'balayage, oat latte, and gardens', 'Kaffee und Kuchen'."""

    locale: Locale

    def __new__(cls, items: tuple[str, ...], locale: Locale) -> Listing:
        made = super().__new__(cls, items)
        made.locale = locale
        return made

    def __str__(self) -> str:
        return format_list(list(self), locale=self.locale)


def context(
    customer: Customer,
    config: Config,
    today: date,
    *,
    campaign: str,
    channel: str,
    language: str | None = None,
    greet_organisations: bool = False,
) -> dict[str, Any]:
    """Return every name a template sees for ``customer``; a missing value is left out.

    Dates and lists print in ``language`` (the template's words), else the customer's
    language, else the business's.
    """
    business = config.business
    locale = locale_of(language or customer.language, business.language)
    found: dict[str, Any] = {}
    for f in FIELDS:
        value = _plain(value_of(customer, f), f.single, locale)
        if value is not None:
            found[f.key] = value
    if customer.hello:
        found["hello"] = customer.hello
    elif customer.is_org and greet_organisations:
        found["hello"] = customer.name  # the template says an organisation may be greeted
    last = last_contact(customer, config.kinds, today)
    if last is not None:
        entry = last.entry
        said: dict[str, object] = {"date": last.day}
        if entry is not None:
            said |= {"kind": entry.kind, "text": entry.text}
        found["last"] = Fields("last", said)
    born = value_of(customer, field("birthday"))
    if born is not None:
        upcoming = next_occurrence(born, today, config.feb29)
        found["next_birthday"] = upcoming
        turns = years_since(born, upcoming)
        if turns:
            found["turns"] = turns
    me = {f.name: getattr(business, f.name) for f in fields(business)}
    found["me"] = Fields("me", {k: v for k, v in me.items() if v})
    found |= {"today": today, "campaign": campaign, "channel": channel}
    found[LOCALE_KEY] = locale
    return found


def _plain(value: Any, single: bool, locale: Locale) -> Any:
    """Return a field's value as a template sees it (None: missing)."""
    if value is None or value == () or value == "":
        return None
    if isinstance(value, tuple):
        if single:
            return value[0]
        if all(isinstance(v, str) for v in value):
            return Listing(value, locale)
        return [_item(v) for v in value]
    if isinstance(value, Address):
        parts = dict(value.parts())
        return Fields("address", {**parts, "text": str(value), "lines": list(value.lines())})
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, ContactPerson):
        named = {"name": value.name, "first_name": value.first_name}
        return Fields("contact", {k: v for k, v in named.items() if v})
    return value


def _item(value: Any) -> Any:
    """Return one item of a list field (a relative, a date) as a mapping of its parts."""
    if isinstance(value, Relative):
        parts = {"name": value.name, "relation": value.relation, "birthday": value.birthday}
        return Fields("family", {k: v for k, v in parts.items() if v is not None})
    if isinstance(value, ImportantDate):
        return Fields("dates", {"label": value.label, "date": value.date})
    return value


class RenderFailed(Exception):
    """The template cannot be rendered for this customer: ``reason`` says what is missing."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def render(
    template: Template,
    customer: Customer,
    config: Config,
    today: date,
    campaign: str,
    extra: Mapping[str, Any] | None = None,
) -> Rendered:
    """Return the message ``template`` makes for ``customer``; raise ``RenderFailed`` when a
    value it needs is missing or it would greet nobody in particular, and ``TemplateError`` at
    the template's line when it goes past a limit of ``limits.py`` (too big, too slow).

    ``extra`` adds names every customer of the campaign sees alike (``closure``, ``occasion``).
    """
    channel = channel_for(customer, template.channel)
    words = template.for_language(customer.language)
    names = context(
        customer,
        config,
        today,
        campaign=campaign,
        channel=channel,
        language=words.language,
        greet_organisations=template.greet_organisations,
    )
    names |= extra or {}
    try:
        with metered():
            body = _limited(words, words.body, names)
            subject = None
            if words.subject_template is not None and channel == "email":
                said = _limited(words, words.subject_template, names, subject=True)
                subject = " ".join(said.split())
    except TemplateError:
        raise
    except jinja2.UndefinedError as exc:
        raise RenderFailed(str(exc.message or exc)) from None
    except Exception as exc:  # anything a template's expression raises is this customer's problem
        raise RenderFailed(f"cannot render: {str(exc) or type(exc).__name__}") from None
    text = "\n".join(line.rstrip() for line in body.strip().split("\n")) + "\n"
    for word in IMPERSONAL:
        if folded(word) in folded(text + (subject or "")):
            raise RenderFailed(f"'{word}' is no greeting")
    return Rendered(channel, subject, text)


def _limited(
    words: Template, compiled: jinja2.Template, names: Mapping[str, Any], *, subject: bool = False
) -> str:
    """Return the body (or the ``subject``) of ``words`` rendered with ``names``; raise
    ``TemplateError`` at its line in the file when it goes past a limit."""
    try:
        return render_text(compiled, names)
    except (LimitExceeded, MemoryError, RecursionError) as exc:
        # Past what Python can hold: a limit of the template, not a value this customer lacks.
        line = template_line(exc)
        at = None if line is None else line + words.offsets[1 if subject else 0]
        raise TemplateError(Location(words.path, at), _reason(exc)) from None


def _reason(exc: LimitExceeded | MemoryError | RecursionError) -> str:
    """Return what limit ``exc`` says the template went past."""
    if isinstance(exc, LimitExceeded):
        return exc.reason
    if isinstance(exc, MemoryError):
        return "too big: ran out of memory"
    return "too deep: calls inside calls past Python's limit"
