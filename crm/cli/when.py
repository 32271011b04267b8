"""Dates, times and spans typed on the command line: one parser for every command.

A day is read by ``crm.core.dates.parse_day`` relative to the command's day (``--today``, else
the vault's today), looking ahead for options about the future (``snooze --until``,
``followup``, ``away``) and back for ``log --date``. Bad input is a click usage error that
names the value and the accepted forms.
"""

from __future__ import annotations

from datetime import date, time
from typing import TYPE_CHECKING, Any, TypeAlias

import click

from crm.cli.common import Session
from crm.core import dates
from crm.core.dates import Direction
from crm.core.model import Span


def command_day(ctx: click.Context | None) -> date:
    """Return the day the command runs for: ``--today`` when given, else the vault's today."""
    session = ctx.find_object(Session) if ctx is not None else None
    session = session or Session(None)
    return session.day if session.day is not None else session.today()


def typed_day(
    value: str,
    direction: Direction,
    ctx: click.Context | None,
    param: click.Parameter | None = None,
    *,
    today: date | None = None,
) -> date:
    """Return the day ``value`` names (see ``parse_day``); a bad one is a usage error."""
    try:
        return dates.parse_date(value)  # the usual ISO day needs neither the clock nor crm.toml
    except ValueError:
        pass
    order = None
    if "/" in value and ctx is not None and (session := ctx.find_object(Session)):
        order = session.config.date_order  # slash dates read as the vault's log does
    try:
        return dates.parse_day(
            value, today=today or command_day(ctx), direction=direction, order=order
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


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


def param_named(ctx: click.Context, name: str) -> click.Parameter | None:
    """Return the command's parameter called ``name``, for an error that names it."""
    return next((p for p in ctx.command.params if p.name == name), None)
