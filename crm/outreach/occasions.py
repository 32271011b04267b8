"""Messages for the business's calendar: telling customers about a closure, yearly occasions.

What a closure's or an occasion's template sees (``closure.from``, ``occasion.date``...), whom
an occasion is for, and how many of its messages are still to send while its lead time runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from crm.core.closures import Closure, last_open_before, reopens, run_of
from crm.core.config import CONFIG_NAME, Config, located
from crm.core.errors import CrmError
from crm.core.model import Customer, Location, Problem
from crm.core.occasions import Occasion
from crm.outreach.templates import Fields, Template, available, load_template
from crm.rules.audience import Audience, chosen, held
from crm.rules.filters import CustomerFilter, with_defaults


def closure_names(closure: Closure, config: Config) -> dict[str, Any]:
    """Return what a closure's message sees: ``closure.from``, ``.to``, ``.reason``,
    ``.reopens`` (the first open day after) and ``.last_open`` (the last open day before)."""
    first, last = run_of(closure, config.closures)  # closures end to end: one run of days
    values = {
        "from": first,
        "to": last,
        "reason": closure.reason,
        "reopens": reopens(closure, config.closures),
        "last_open": last_open_before(closure, config.closures),
    }
    return {"closure": Fields("closure", {k: v for k, v in values.items() if v != ""})}


def occasion_names(occasion: Occasion, day: date) -> dict[str, Any]:
    """Return what an occasion's message sees: ``occasion.name`` and ``occasion.date``."""
    return {"occasion": Fields("occasion", {"name": occasion.name, "date": day})}


def occasion_filters(
    occasion: Occasion, template: Mapping[str, Any] | None = None
) -> tuple[CustomerFilter, dict[str, Any]]:
    """Return the filters of an occasion's ``audience`` over its template's (as ``crm draft``
    takes them) and the rest of it (likes, report)."""
    values = {**(template or {}), **dict(occasion.audience)}
    rest: dict[str, Any] = {k: values[k] for k in ("likes", "report") if k in values}
    return with_defaults(CustomerFilter(), values), rest


@dataclass(frozen=True, slots=True)
class OccasionDue:
    """An occasion inside its lead time: how many of its messages are still to send."""

    occasion: Occasion
    day: date
    campaign: str
    to_send: int

    @property
    def text(self) -> str:
        """Return 'Holiday greetings: 38 to send by 12-24'."""
        return self.occasion.to_send(self.day, self.to_send)


def occasion_for(config: Config, today: date, template: str) -> Occasion | None:
    """Return the occasion written with ``template`` whose day is nearest ``today``."""
    found = [o for o in config.occasions if o.template == template]
    found.sort(key=lambda o: abs((o.nearest(today, config.feb29) - today).days))
    return found[0] if found else None


def recipients(
    occasion: Occasion,
    customers: Sequence[Customer],
    config: Config,
    today: date,
    template: Template,
) -> list[Customer]:
    """Return who gets the occasion's message on ``today``: its audience (over the template's
    ``audience``), minus everyone the audience rules hold back (whoever had it this year)."""
    day = occasion.next_on(today, config.feb29)
    filters, rest = occasion_filters(occasion, template.audience)
    likes = None if rest.get("likes") is None else str(rest["likes"])
    found = chosen(
        customers,
        config,
        today,
        filters=filters,
        report=rest.get("report"),
        likes_word=likes,
        within=occasion.within,
    )
    audience = Audience(
        campaign=occasion.campaign(day.year),
        day=today,
        channel=template.channel,
        topic=template.topic,
        kind=template.kind,
        likes=likes,
        quiet=config.outreach.quiet,
        nameless=template.nameless,
        greet_orgs=template.greet_organisations,
        occasion=occasion,
        occasion_day=day,
    )
    return [c for c in found if held(c, audience, config) is None]


def due_occasions(
    customers: Sequence[Customer], config: Config, today: date, root: Path
) -> list[OccasionDue]:
    """Return the occasions whose lead time runs on ``today``, with the messages still to send."""
    found = []
    for o in config.occasions:
        if not o.in_lead(today, config.feb29):
            continue
        day = o.next_on(today, config.feb29)
        try:
            t = load_template(root, o.template)
        except CrmError:
            continue  # crm check names the missing template: nothing to announce until then
        n = len(recipients(o, customers, config, today, t))
        found.append(OccasionDue(o, day, o.campaign(day.year), n))
    found.sort(key=lambda d: (d.day, d.occasion.name))
    return found


def check_names(root: Path, config: Config, today: date) -> list[Problem]:
    """Return a problem for each occasion or reward (error) or coming closure (warning) whose
    template the vault does not have, for ``crm check``."""
    have = set(available(root))
    where = Location(root / CONFIG_NAME)
    found = []
    for o in config.occasions:
        if o.template not in have:
            found.append(Problem(where, f"occasions[{o.number}].template: no message template {o.template!r} in templates/messages/"))  # fmt: skip
    for r in config.rewards:
        if r.template is not None and r.template not in have:
            found.append(Problem(where, f"rewards[{r.number}].template: no message template {r.template!r} in templates/messages/"))  # fmt: skip
    for c in config.closures:
        if c.end >= today and c.notice not in have:
            message = f"closures[{c.number}].notice: no message template {c.notice!r} in templates/messages/ to tell customers with (crm init writes a starter)"
            found.append(Problem(where, message, "warning"))
    return located(root, found)
