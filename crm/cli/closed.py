"""``crm closed``: the days the business is closed, ``[[closures]]`` in crm.toml."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import click

from crm.cli.common import (
    Session,
    emit_rows,
    format_option,
    near,
    pass_session,
    today_option,
    typed_day,
)
from crm.cli.when import param_named, typed_range
from crm.core.errors import CrmError

if TYPE_CHECKING:
    from crm.core.closures import Closure
    from crm.report.render import Format


@click.command()
@click.argument("start", metavar="[FROM]", required=False)
@click.argument("end", metavar="[TO]", nargs=-1)
@click.option("--reason", metavar="TEXT", help="Why it is closed (messages and the agenda say it).")
@click.option("--list", "listing", is_flag=True, help="List the closures not over by today.")
@click.option("--all", "everything", is_flag=True, help="With --list: the past closures too.")
@click.option("--remove", "removed", metavar="FROM", help="Remove the closure that starts on FROM.")
@format_option
@today_option
@pass_session
def closed(
    session: Session,
    start: str | None,
    end: tuple[str, ...],
    reason: str | None,
    listing: bool,
    everything: bool,
    removed: str | None,
    fmt: Format,
    today: date,
) -> None:
    """Add a closure from FROM to TO, inclusive (FROM TO or FROM..TO), list or remove one.

    Nobody is due while the business is closed: a reach-out that falls inside a closure
    moves to the day it reopens, and crm draft closure tells the customers beforehand.
    Adding appends a [[closures]] table to crm.toml and changes nothing else in it;
    a closure that overlaps another is refused. --list shows the closures not over by
    today (with --all, the past ones too); --remove FROM takes one out.

    \b
    Examples:
      crm closed 2026-12-20 2027-01-06 --reason "winter holiday"
      crm closed 20 Dec 6 Jan
      crm closed --list
      crm closed --list --all --format json
      crm closed --remove 2026-12-20
    """
    ctx = click.get_current_context()
    modes = [start is not None, listing, removed is not None]
    if sum(modes) != 1:
        raise click.UsageError("give FROM TO (or FROM..TO), --list, or --remove FROM", ctx)
    if reason is not None and start is None:
        raise click.UsageError("--reason goes with FROM TO, when adding a closure", ctx)
    if everything and not listing:
        raise click.UsageError("--all goes with --list", ctx)
    if listing:
        _list(session, fmt, today, everything=everything)
    elif removed is not None:
        from crm.edit.closures import drop_closure

        day = typed_day(removed, "future", ctx, param_named(ctx, "removed"), today=today)
        gone = drop_closure(session.root, day)
        click.echo(f"{session.root / 'crm.toml'}: removed the closure {gone}")
    elif start is not None:
        _add(session, start, end, reason, today)


def _add(
    session: Session, start: str, end: tuple[str, ...], reason: str | None, today: date
) -> None:
    from crm.core.closures import Closure
    from crm.edit.closures import save_closure

    first, last = typed_range(start, end, today=today)
    closure = Closure(first, last, (reason or "").strip())
    path = save_closure(session.root, closure)
    click.echo(f"{path}: closed {closure}")
    if closure.end < today:
        click.echo(f"It is over ({today}): a closure in the past changes nothing.")
    elif closure.start <= today:
        click.echo("It has begun: nobody is due until it ends.")
    elif closure.notice_days:
        when = "now" if closure.notice_day <= today else f"from {closure.notice_day}"
        click.echo(f"Tell customers {when}: crm draft {closure.notice} --closure {closure.start}")


def _list(session: Session, fmt: Format, today: date, *, everything: bool) -> None:
    from crm.core.closures import coming
    from crm.report.render import problems_text
    from crm.report.rows import CLOSURE_COLUMNS, closure_row

    config = session.config
    unread = [p for p in session.config_problems if p.message.startswith(("invalid TOML", "cannot read"))]  # fmt: skip
    if unread:
        raise CrmError(f"{unread[0]}: the closures cannot be read")
    bad = [p for p in session.config_problems if p.message.startswith("closures")]
    if bad:
        click.echo(problems_text(near(bad)), nl=False, err=True)
    shown: list[Closure] = list(config.closures if everything else coming(config.closures, today))
    empty = "No closures in crm.toml."
    if config.closures and not shown:
        empty = "No closures ahead in crm.toml (crm closed --list --all shows the past ones)."
    emit_rows([closure_row(c) for c in shown], CLOSURE_COLUMNS, fmt, empty)


COMMANDS = [closed]
