"""Report commands: ``list``, ``overdue``, ``upcoming``, ``noisy``, ``replies``, ``rewards``,
``agenda``, ``show``, ``search``."""

from __future__ import annotations

from datetime import date

import click

from crm.cli.common import (
    Session,
    customer_argument,
    emit_rows,
    first,
    format_option,
    limit_option,
    near,
    parse_today,
    pass_session,
    table_width,
    text_argument,
    today_option,
)
from crm.cli.filters import filter_options
from crm.report import profile, rows, views
from crm.report.render import Format, to_json
from crm.rules import cap, rhythm
from crm.rules.filters import CustomerFilter
from crm.vault.logline import skipped_lines


@click.command("list")
@filter_options
@click.option("--overdue", "only_overdue", is_flag=True, help="Only customers to contact now.")
@format_option
@today_option
@pass_session
def list_(
    session: Session,
    filters: CustomerFilter,
    only_overdue: bool,
    fmt: Format,
    today: date,
) -> None:
    """List customers (id, name, status, tags), sorted by name.

    The status says "no contact" for whoever opted out of every message.

    \b
    Examples:
      crm list --tag vip
      crm list --status lead --format csv > leads.csv
      crm list --overdue --format json
    """
    customers = filters.select(session.vault().customers)
    if only_overdue:
        late = {s.customer.id for s in rhythm.overdue(customers, session.config, today)}
        customers = [c for c in customers if c.id in late]
    listed = [rows.customer_row(c) for c in customers]
    if fmt == "table":
        listed = [rows.list_table_row(r) for r in listed]
    emit_rows(listed, rows.LIST_COLUMNS, fmt, "No customers.")


@click.command()
@filter_options
@limit_option
@format_option
@today_option
@pass_session
def overdue(
    session: Session,
    filters: CustomerFilter,
    limit: int | None,
    fmt: Format,
    today: date,
) -> None:
    """Who to contact now, most overdue first, with what they like.

    Away, snoozed, paused and lost customers are never listed.

    \b
    Examples:
      crm overdue
      crm overdue --tag vip --format json
      crm overdue --limit 10
    """
    candidates = session.collection.candidates(overdue=True)
    customers = filters.select(tuple(candidates))
    found = rhythm.overdue(customers, session.config, today)
    emit_rows(
        [rows.overdue_row(s, today) for s in first(found, limit)],
        rows.OVERDUE_COLUMNS,
        fmt,
        "Nobody is overdue.",
    )


@click.command()
@click.option("--days", default=30, show_default=True, type=click.IntRange(0, 3660))
@filter_options
@limit_option
@format_option
@today_option
@pass_session
def upcoming(
    session: Session,
    days: int,
    filters: CustomerFilter,
    limit: int | None,
    fmt: Format,
    today: date,
) -> None:
    """Birthdays, anniversaries, dates, follow-ups and due dates in the next DAYS days.

    \b
    Examples:
      crm upcoming --days 7
      crm upcoming --format json | jq '.[] | select(.kind == "birthday")'
      crm upcoming --days 7 --limit 20
    """
    candidates = session.collection.candidates(upcoming_days=days)
    customers = filters.select(tuple(candidates))
    known = rhythm.states(customers, session.config, today)  # once, for the list and its notes
    found = first(rhythm.upcoming(customers, session.config, today, days, known), limit)
    notes = views.leave_alone_notes(customers, session.config, today, known)
    emit_rows(
        [rows.upcoming_row(u, today, notes.get(u.customer.id)) for u in found],
        rows.UPCOMING_COLUMNS,
        fmt,
        f"Nothing in the next {days} days.",
    )


@click.command()
@limit_option
@format_option
@today_option
@pass_session
def noisy(session: Session, limit: int | None, fmt: Format, today: date) -> None:
    """Customers contacted more often than their max_contacts allows.

    \b
    Examples:
      crm noisy
      crm noisy --today 2026-06-01 --format csv
    """
    found = cap.noisy(session.collection.noisy(), session.config, today)
    emit_rows(
        [rows.noisy_row(n) for n in first(found, limit)],
        rows.NOISY_COLUMNS,
        fmt,
        "Nobody is over-contacted.",
    )


@click.command()
@limit_option
@format_option
@today_option
@pass_session
def replies(session: Session, limit: int | None, fmt: Format, today: date) -> None:
    """Replies you owe: customers who asked something you have not answered yet.

    An entry of an inbound kind (received, question, request, missed-call; see
    [kinds] inbound) waits for the first contact entry from you on its day or
    later. It is late [outreach] reply_within (default 2d) after it came in. The
    longest waiting come first; lost customers are left out.

    \b
    Examples:
      crm replies
      crm replies --today 2026-12-01 --format json
      crm log "Ana Lima" --from-them "asked about prices"    one more to answer
      crm log "Ana Lima" --kind call "sent the price list"   answered
    """
    found = [rows.reply_row(o, today) for o in session.collection.replies(limit or 0).shown]
    if fmt != "table" or not found:
        emit_rows(found, rows.REPLY_COLUMNS, fmt, "No replies owed.")
        return
    click.echo(views.with_said(found, rows.REPLY_COLUMNS, table_width()), nl=False)


@click.command()
@limit_option
@format_option
@today_option
@pass_session
def rewards(session: Session, limit: int | None, fmt: Format, today: date) -> None:
    """Rewards due, or one visit away, by the [[rewards]] of crm.toml.

    A reward with every = N is due on the Nth entry of its kind (visit by
    default) since the last reward entry that names it (or names none); one with
    spent = X is due when the value reaches one more X than the rewards given.
    Log the reward to start counting again. Lost and paused customers are left out.

    \b
    Examples:
      crm rewards
      crm rewards --today 2026-12-01 --format csv
      crm log "Ana Lima" --kind reward "free blow-dry"     given: counting restarts
    """
    found = session.collection.rewards(limit or 0).shown
    emit_rows(
        [rows.reward_row(e) for e in found],
        rows.REWARD_COLUMNS,
        fmt,
        "No rewards due or coming."
        if session.config.rewards
        else "No rewards set: add a [[rewards]] table to crm.toml (see docs/loyalty.md).",
    )


@click.command()
@click.option(
    "--limit",
    type=click.IntRange(0),
    metavar="N",
    help="Rows per section (default: [agenda] rows in crm.toml, 20; 0: all).",
)
@format_option
@today_option
@pass_session
def agenda(session: Session, limit: int | None, fmt: Format, today: date) -> None:
    """Today's digest: replies owed, overdue, due, the next 14 days, rewards, problems.

    Each section shows its first 20 rows ([agenda] rows) and says how many more there
    are and which report lists them all.

    \b
    Examples:
      crm agenda
      crm agenda --today 2026-12-01 --format json
      crm agenda --limit 0          every row of every section
    """
    from crm.outreach.agenda import agenda_of

    digest, _ = agenda_of(session.collection, today, limit, shown=near)
    if fmt == "json":
        click.echo(to_json(digest.as_json()), nl=False)
    elif fmt == "csv":
        click.echo(digest.as_csv(), nl=False)
    else:
        click.echo(digest.as_text(session.index().count()), nl=False)


@click.command()
@customer_argument
@format_option
@today_option
@pass_session
def show(session: Session, name: str, fmt: Format, today: date) -> None:
    """One customer's profile: details, likes, next dates, contact rhythm, latest log.

    NAME is an id, an exact name, or an unambiguous prefix of either.

    \b
    Examples:
      crm show ana
      crm show "Zoë Müller" --format json
    """
    customer = session.customer(name)
    skipped = skipped_lines(session.collection.problems_of(customer))
    if fmt == "table":
        click.echo(profile.profile_text(customer, session.config, today, skipped), nl=False)
    elif fmt == "csv":
        click.echo(profile.profile_csv(customer, session.config, today), nl=False)
    else:
        shown = profile.profile_json(customer, session.config, today, skipped)
        click.echo(to_json(shown), nl=False)


@click.command()
@text_argument
@format_option
@click.option(
    "--today",
    metavar="DATE",
    callback=parse_today,
    help="Accepted as by every report, so scripts can pass it; search does not depend on the day.",
)
@pass_session
def search(session: Session, text: tuple[str, ...], fmt: Format, today: date) -> None:
    """Find customers whose name, fields or notes contain every word of TEXT.

    \b
    Examples:
      crm search espresso
      crm search "spring offer" --format json
    """
    found = session.index().search(" ".join(text))
    emit_rows([rows.customer_row(c) for c in found], rows.LIST_COLUMNS, fmt, "No match.")


COMMANDS = [list_, overdue, upcoming, noisy, replies, rewards, agenda, show, search]
