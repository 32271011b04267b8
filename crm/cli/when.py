"""Dates, times and spans typed on the command line: one parser for every command.

A day is read by ``crm.cli.common.typed_day`` (``crm.core.dates.parse_day`` relative to the
command's day: ``--today``, else the vault's today), looking ahead for options about the future
(``snooze --until``, ``followup``, ``away``) and back for ``log --date``; ``--today`` itself is
read the same way, by ``common.parse_today``. Bad input is a click usage error that names the
value and the accepted forms.
"""

from __future__ import annotations

from datetime import date, time
from typing import TYPE_CHECKING, Any, TypeAlias

import click

from crm.cli.common import typed_day
from crm.core import dates
from crm.core.dates import Direction
from crm.core.model import Span

# click's ParamType is generic only from click 8.2 on; crm supports 8.1 too.
if TYPE_CHECKING:
    DayType: TypeAlias = click.ParamType[date, Any]
    TimeType: TypeAlias = click.ParamType[time, Any]
    SpanType: TypeAlias = click.ParamType[Span, Any]
else:
    DayType = TimeType = SpanType = click.ParamType


class Day(DayType):
    """A day as a person types it; relative words count from the command's day."""

    name = "date"

    def __init__(self, direction: Direction) -> None:
        self.direction = direction

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        """Return the typed day as a ``date``."""
        if isinstance(value, date):
            return value
        return typed_day(str(value), self.direction, ctx, param)


class Clock(TimeType):
    """A time of day, ``HH:MM``."""

    name = "time"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> time:
        """Return the typed time as a ``time``."""
        if isinstance(value, time):
            return value
        try:
            return dates.parse_time(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class Length(SpanType):
    """A span of time: ``14d``, ``2w``, ``2 weeks``, ``10 days``, ``3 months``, ``monthly``."""

    name = "span"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Span:
        """Return the typed span as a ``Span``."""
        if isinstance(value, Span):
            return value
        try:
            return dates.parse_typed_span(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


PAST, FUTURE, CLOCK, SPAN = Day("past"), Day("future"), Clock(), Length()


def typed_range(start: str, end: tuple[str, ...], *, today: date) -> tuple[date, date]:
    """Return the days of ``FROM TO`` or ``FROM..TO``, looking ahead from ``today``.

    The words are as typed, quoted or not: ``20 Dec 6 Jan`` reads as ``"20 Dec" "6 Jan"``. A TO
    without a year ("6 Jan") is the first such day on or after FROM. The command's arguments
    must be called ``start`` and ``end`` (the rest of the words), so that an error names them.
    """
    ctx = click.get_current_context()
    if not end:
        if ".." not in start:
            raise click.UsageError(f"'{start}' is not a range: give FROM TO or FROM..TO", ctx)
        start, rest = start.split("..", 1)
        end = (rest,)
    first_text, last_text = start.strip(), " ".join(w.strip() for w in end)
    words = [*first_text.split(), *last_text.split()]
    if len(first_text.split()) == 1 and len(words) > 2:
        # Unquoted ("20 Dec 6 Jan"): the first split at which both sides are days.
        for i in range(2, len(words)):
            head, tail = " ".join(words[:i]), " ".join(words[i:])
            try:
                after = dates.parse_day(head, today=today, direction="future")
                dates.parse_day(tail, today=after, direction="future")
            except ValueError:
                continue
            first_text, last_text = head, tail
            break
    first = typed_day(first_text, "future", ctx, param_named(ctx, "start"), today=today)
    return first, typed_day(last_text, "future", ctx, param_named(ctx, "end"), today=first)


def param_named(ctx: click.Context, name: str) -> click.Parameter | None:
    """Return the command's parameter called ``name``, for an error that names it."""
    return next((p for p in ctx.command.params if p.name == name), None)
