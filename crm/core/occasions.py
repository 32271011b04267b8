"""Yearly occasions (``[[occasions]]`` in ``crm.toml``): holiday greetings, a studio birthday.

An occasion has a day each year, written ``MM-DD`` (``12-24``) or as a rule (``first Sunday of
May``, ``last Friday in November``), a message template, and a lead time: from ``lead_days``
before, the agenda and the feed say how many messages are still to send. Each year's messages
are one campaign, ``NAME-YYYY`` (``holiday-greetings-2026``): whoever had it that year is not
written to again.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from crm.core.dates import (
    MONTH_NAMES,
    WEEKDAY_NAMES,
    Feb29Rule,
    occurrence_in,
    parse_partial_date,
    parse_span,
)
from crm.core.model import Span
from crm.core.outreach import AUDIENCE_KEYS
from crm.core.tables import each_table

LEAD_DAYS = 7
WITHIN = Span(2, "y")  # the default audience: customers with contact in the last two years
KEYS = ("name", "date", "template", "lead_days", "audience", "within")
_ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3}
_ORDINALS |= {"fourth": 4, "4th": 4, "last": -1}
_MONTHS = {m.lower(): n for n, m in enumerate(MONTH_NAMES, start=1)}
_MONTHS |= {m[:3].lower(): n for m, n in list(_MONTHS.items())}
_RULE = re.compile(r"(?P<nth>\w+)\s+(?P<wd>[a-z]+)\s+(?:of|in)\s+(?P<mon>[a-z]+)", re.IGNORECASE)
FORMS = "12-24, first Sunday of May, last Friday in November"


@dataclass(frozen=True, slots=True)
class Occasion:
    """A yearly occasion to write to customers for."""

    name: str  # "Holiday greetings": what the agenda and the feed say
    when: str  # as written in crm.toml
    template: str
    lead_days: int = LEAD_DAYS
    audience: tuple[tuple[str, Any], ...] = ()  # filters, as a template's ``audience``
    within: Span | None = WITHIN  # only customers with contact this recently (None: anyone)
    number: int = field(default=0, compare=False)  # its place among [[occasions]] in crm.toml

    def on(self, year: int, feb29: Feb29Rule = "feb28") -> date:
        """Return the occasion's day in ``year``."""
        return day_in(self.when, year, feb29)

    def next_on(self, today: date, feb29: Feb29Rule = "feb28") -> date:
        """Return the occasion's first day on or after ``today``."""
        day = self.on(today.year, feb29)
        return day if day >= today else self.on(today.year + 1, feb29)

    def nearest(self, today: date, feb29: Feb29Rule = "feb28") -> date:
        """Return the occasion's day nearest ``today``, before or after: what a draft is for
        (greetings written three days late are still this year's)."""
        after = self.next_on(today, feb29)
        before = self.on(after.year - 1, feb29)
        return before if (today - before) < (after - today) else after

    def lead_start(self, day: date) -> date:
        """Return the first day of the lead time before the occasion on ``day``."""
        return day - timedelta(days=self.lead_days)

    def in_lead(self, today: date, feb29: Feb29Rule = "feb28") -> bool:
        """Return True when ``today`` falls in the lead time before the occasion's next day."""
        return self.lead_start(self.next_on(today, feb29)) <= today

    def to_send(self, day: date, count: int | None) -> str:
        """Return 'Holiday greetings: 38 to send by 12-24' (no count: 'messages to send')."""
        what = "messages" if count is None else str(count)
        return f"{self.name}: {what} to send by {day:%m-%d}"

    def campaign(self, year: int) -> str:
        """Return the campaign of the occasion's messages in ``year``: ``holiday-greetings-2026``."""
        return f"{slug(self.name)}-{year}"


def slug(text: str) -> str:
    """Return ``text`` as a campaign name part: ASCII letters, digits and hyphens."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-") or "occasion"


def day_in(when: str, year: int, feb29: Feb29Rule = "feb28") -> date:
    """Return the day ``when`` names in ``year``: a day of the year as a birthday without a
    year is written (``12-24``, ``24 Dec``, ``December 24``), or a rule; ValueError if none."""
    text = when.strip()
    m = _RULE.fullmatch(text)
    if m is None:
        try:
            fixed = parse_partial_date(text)
        except ValueError:
            if re.fullmatch(r"(?:--)?\d{1,2}-\d{1,2}", text):
                raise ValueError(f"{when!r} is no day of the year") from None
            raise ValueError(f"{when!r} is not an occasion's date ({FORMS})") from None
        if fixed.year is not None:
            raise ValueError(f"{when!r} has a year: an occasion comes every year ({FORMS})")
        return occurrence_in(fixed, year, feb29)
    nth = _ORDINALS.get(m["nth"].lower())
    wd = m["wd"].lower()
    weekday = next((n for n, w in enumerate(WEEKDAY_NAMES) if w.startswith(wd)), None)
    found = _MONTHS.get(m["mon"].lower())
    if nth is None or weekday is None or found is None or len(wd) < 3:
        raise ValueError(f"{when!r} is not an occasion's date ({FORMS})")
    month = found
    days = [
        d
        for d in range(1, calendar.monthrange(year, month)[1] + 1)
        if date(year, month, d).weekday() == weekday
    ]
    return date(year, month, days[nth - 1] if nth > 0 else days[-1])


def parse_occasions(value: Any, bad: Callable[..., None]) -> tuple[Occasion, ...]:
    """Return the ``[[occasions]]`` of crm.toml; each problem names its table by number."""
    found: list[Occasion] = []
    for n, made in each_table(value, "occasions", KEYS, _occasion, bad, "name, date and template"):
        same = next((o for o in found if slug(o.name) == slug(made.name)), None)
        if same is not None:
            # One campaign a year each: two names of one slug would share it (and a feed UID).
            bad(
                f"occasions[{n}].name: {made.name!r} makes the same campaign as occasions"
                f"[{same.number}] ({same.name!r}): {slug(made.name)}-YYYY; give it another name"
            )
            continue
        found.append(replace(made, number=n))
    return tuple(found)


def _occasion(tab: dict[str, Any], where: str, bad: Callable[..., None]) -> Occasion | None:
    texts = {}
    for key in ("name", "date", "template"):
        value = tab.get(key)
        if not isinstance(value, str) or not value.strip():
            bad(f"{where}.{key}: missing (text)")
            return None
        texts[key] = value.strip()
    try:
        day_in(texts["date"], 2024)
    except ValueError as exc:
        bad(f"{where}.date: {exc}")
        return None
    values: dict[str, Any] = {}
    if "lead_days" in tab:
        days = tab["lead_days"]
        if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 366:
            bad(f"{where}.lead_days must be a whole number from 0 to 366")
        else:
            values["lead_days"] = days
    audience = tab.get("audience", {})
    if not isinstance(audience, dict):
        bad(f"{where}.audience must be a table of filters ({', '.join(AUDIENCE_KEYS)})")
    else:
        for key in [k for k in audience if k not in AUDIENCE_KEYS]:
            bad(f"{where}.audience.{key}: unknown filter (known: {', '.join(AUDIENCE_KEYS)})")
        values["audience"] = tuple(
            (k, tuple(v) if isinstance(v, list) else v)
            for k, v in audience.items()
            if k in AUDIENCE_KEYS
        )
    if "within" in tab:
        text = str(tab["within"]).strip()
        if text in ("", "0", "0d", "any"):
            values["within"] = None
        else:
            try:
                values["within"] = parse_span(text)
            except ValueError as exc:
                bad(f"{where}.within: {exc}")
    return Occasion(texts["name"], texts["date"], texts["template"], **values)


def any_in_lead(occasions: Sequence[Occasion], today: date, feb29: Feb29Rule = "feb28") -> bool:
    """Return True when some occasion's lead time runs on ``today`` (then its count of messages
    to send needs the whole vault; the rest of the year, nothing does)."""
    return any(o.in_lead(today, feb29) for o in occasions)
