"""Outreach commands: ``draft`` and ``outbox`` (sending is in ``crm.cli.sending``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from crm.cli import clock
from crm.cli.common import (
    Session,
    emit_rows,
    format_option,
    near,
    pass_session,
    today_option,
    typed_day,
)
from crm.cli.filters import filter_options
from crm.cli.when import param_named
from crm.core.errors import CrmError
from crm.report.render import Column, Format, to_json
from crm.rules.audience import REPORTS
from crm.rules.filters import CustomerFilter, with_defaults

if TYPE_CHECKING:
    from crm.core.closures import Closure
    from crm.core.config import Config
    from crm.core.model import Customer
    from crm.core.occasions import Occasion
    from crm.outreach.outbox import Draft

DRAFT_COLUMNS = (
    Column("id", "ID"),
    Column("name", "NAME", flexible=True),
    Column("channel", "CHANNEL"),
    Column("to", "TO", flexible=True),
    Column("status", "STATUS"),
)
CAMPAIGN_COLUMNS = (
    Column("campaign", "CAMPAIGN"),
    Column("draft", "DRAFT"),
    Column("sent", "SENT"),
    Column("unknown", "UNKNOWN"),
)


def outbox_of(session: Session) -> Path:
    return session.collection.outbox


def refuse_config_errors(session: Session) -> Config:
    """Return the vault's config; refuse to write to anyone while crm.toml has errors.

    A broken crm.toml falls back to defaults, which would drop the quiet period, the caps
    and the [smtp] settings without a word.
    """
    errors = [p for p in session.config_problems if p.severity == "error"]
    if errors:
        lines = "\n".join(str(p) for p in near(errors))
        raise CrmError(f"crm.toml has errors; fix them before writing to anyone:\n{lines}")
    return session.config


def shown_path(session: Session, path: Path) -> str:
    """Return a path inside the vault as the vault names it (``outbox/holiday-2026/``)."""
    try:
        return path.relative_to(session.root).as_posix()
    except ValueError:
        return str(path)


@click.command()
@click.argument("template_name", metavar="TEMPLATE")
@click.option("--campaign", help="The campaign's name (default: TEMPLATE-YYYY-MM-DD).")
@filter_options
@click.option("--likes", "likes_word", metavar="WORD", help="Only customers who like WORD.")
@click.option("--to", "to", multiple=True, metavar="ID", help="Only this customer (repeatable).")
@click.option("--report", type=click.Choice(REPORTS), help="Only the customers of this report.")
@click.option("--quiet", metavar="SPAN", help="Leave out anyone with outreach this recently.")
@click.option(
    "--closure",
    "closure_day",
    metavar="FROM",
    help="Tell customers about the closure that starts on FROM (default: the next one this template tells of).",
)
@click.option(
    "--occasion",
    "occasion_name",
    metavar="NAME",
    help="Write for this [[occasions]] entry (default: the one of this template whose day is nearest).",
)
@click.option("--explain", is_flag=True, help="List each person with the reason.")
@click.option("--dry-run", is_flag=True, help="Say what would be written; write nothing.")
@format_option
@today_option
@pass_session
def draft(
    session: Session,
    template_name: str,
    campaign: str | None,
    filters: CustomerFilter,
    likes_word: str | None,
    to: tuple[str, ...],
    report: str | None,
    quiet: str | None,
    closure_day: str | None,
    occasion_name: str | None,
    explain: bool,
    dry_run: bool,
    fmt: Format,
    today: date,
) -> None:
    """Write one personal draft per customer from templates/messages/TEMPLATE.md.

    The drafts go to the outbox (outbox/CAMPAIGN/ID.md), to read and edit before
    crm send; outbox/CAMPAIGN/campaign.toml remembers how they were drafted, for
    crm send to ask the rules again the same way. Nobody is bombarded: lost, paused,
    away, snoozed and opted-out customers, anyone contacted within --quiet (but
    whom a closure notice concerns), anyone whom one more message would take over
    max_contacts, anyone who dislikes the topic, is already in the campaign or has
    a draft waiting in another, has no address for the channel or no name to greet
    with, is held back and counted. --explain gives each reason.

    \b
    Examples:
      crm draft holiday --dry-run --explain
      crm draft offer --likes copper --campaign copper-2026
      crm draft thanks --report thanks
      crm draft winback --report winback --format json
    """
    from crm.core.outreach import parse_quiet
    from crm.outreach import drafts, occasions
    from crm.outreach.drafted import Drafted
    from crm.outreach.outbox import check_campaign, waiting_drafts
    from crm.outreach.templates import load_template, note_kind
    from crm.rules.audience import chosen, summary
    from crm.rules.closures import to_tell

    config = refuse_config_errors(session)
    template = load_template(session.root, template_name)
    note_kind(template, config.kinds)
    if closure_day is not None and occasion_name is not None:
        raise click.UsageError("--closure and --occasion: one or the other")
    # What the template is for: the option given, else what crm.toml says of the template.
    occasion = None if closure_day else pick_occasion(config, today, template.name, occasion_name)
    closure = None
    if not occasion or "closure" in template.events:
        closure = pick_closure(config, today, template.name, closure_day)
    if "closure" in template.events and closure is None:
        raise CrmError(
            f"{template.name!r} tells of a closure, and crm.toml has none coming "
            f"(not over by {today}) that it tells of: add one with crm closed FROM TO",
            exit_code=2,
        )
    if "occasion" in template.events and occasion is None:
        raise CrmError(
            f"{template.name!r} is written for an occasion, and no [[occasions]] entry in "
            "crm.toml uses it (or name one with --occasion)",
            exit_code=2,
        )
    asked = not filters.everyone or report or likes_word or to
    defaults = {**template.audience, **(dict(occasion.audience) if occasion else {})}
    filters = with_defaults(filters, defaults)
    report = report or defaults.get("report")
    likes_word = likes_word or _text(defaults.get("likes"))
    try:
        span = parse_quiet(quiet) if quiet is not None else config.outreach.quiet
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--quiet") from None
    if occasion is not None:
        default_name = occasion.campaign(occasion.nearest(today, config.feb29).year)
    elif closure is not None:
        default_name = drafts.default_campaign(template.name, closure.start)  # one per closure
    else:
        default_name = drafts.default_campaign(template.name, today)
    name = check_campaign(campaign or default_name)
    named = {c.id: c for c in (session.customer(t) for t in to)}
    ids = tuple(named)

    def pick(found: Sequence[Customer]) -> list[Customer]:
        return chosen(
            found,
            config,
            today,
            filters=filters,
            report=report,  # type: ignore[arg-type]
            likes_word=likes_word,
            to=ids,
            within=occasion.within if occasion is not None and not asked else None,
        )

    # Whom it is for, picked from briefs, so that only they are read whole; "thanks" counts
    # visits in the log, so it picks from whole customers, and replies and rewards from
    # those their reports list (a reward's own template goes to those due that reward).
    pool: Sequence[Customer]
    if report == "replies":
        pool = [o.customer for o in session.collection.replies().shown]
    elif report == "rewards":
        due = [e for e in session.collection.rewards().shown if e.standing == "due"]
        if any(e.reward.template == template.name for e in due):
            due = [e for e in due if e.reward.template == template.name]
        pool = list(session.collection.by_ids(e.customer.id for e in due).values())
    else:
        pool = session.vault().customers if report == "thanks" else session.collection.picked(pick)
    customers = pick(pool)
    why_in: dict[str, str] = {}
    extra: dict[str, Any] = {}
    if closure is not None:
        extra = occasions.closure_names(closure, config)
        # Whom the closure concerns: the audience, unless the command names its own; to them
        # it is news of their own next visit, which the quiet period never holds back.
        why_in = {t.customer.id: str(t) for t in to_tell(customers, closure, config, today)}
        if not asked:
            customers = [c for c in customers if c.id in why_in]
    elif occasion is not None:
        extra = occasions.occasion_names(occasion, occasion.nearest(today, config.feb29))
    kept = {c.id for c in customers}
    left_out = sorted(
        (c for c in named.values() if c.id not in kept), key=lambda c: (c.name.casefold(), c.id)
    )
    box = outbox_of(session)
    waiting = {i: c for c, found in waiting_drafts(box).items() for i in found if c != name}
    plan = drafts.plan(
        template,
        customers,
        config,
        today,
        campaign=name,
        outbox=box,
        quiet=span,
        likes=likes_word,
        winback=report == "winback",
        reply=report == "replies",
        waiting=waiting,
        left_out=left_out,
        extra=extra,
        occasion=occasion,
        news=why_in,
    )
    if not dry_run:
        remembered = Drafted(
            day=today,
            time=clock.vault_time(config, today),
            template=template.name,
            quiet=span,
            filters=filters,
            report=report,
            likes=likes_word,
            to=ids,
            closure=closure.start if closure is not None else None,
            occasion=occasion.name if occasion is not None else None,
            news=tuple(why_in),
        )
        drafts.write(
            plan,
            template,
            config,
            today,
            winback=report == "winback",
            reply=report == "replies",
            drafted=remembered,
        )
    folder = shown_path(session, plan.folder) + "/"
    if fmt != "table":
        rows = [
            {"id": p.customer.id, "name": p.customer.name, "outcome": "draft",
             "channel": p.message.channel, "to": p.to, "reason": None, "detail": None,
             "path": shown_path(session, p.path), "why": why_in.get(p.customer.id)}
            for p in plan.drafts
        ] + [
            {"id": h.customer.id, "name": h.customer.name, "outcome": "held", "channel": None,
             "to": None, "reason": h.reason, "detail": h.detail or None, "path": None,
             "why": why_in.get(h.customer.id)}
            for h in plan.held
        ]  # fmt: skip
        if fmt == "json":
            drafted = [r for r in rows if r["outcome"] == "draft"]
            back = [r for r in rows if r["outcome"] == "held"]
            shown = {"campaign": name, "template": template.name, "folder": folder,
                     "dry_run": dry_run, "drafts": drafted, "held": back}  # fmt: skip
            click.echo(to_json(shown), nl=False)
        else:
            emit_rows(rows, (), fmt)
        return
    count = len(plan.drafts)
    line = f"{name}: {count} draft{'' if count == 1 else 's'}"
    if plan.held:
        line += f"; held back: {summary(plan.held, span)}"
    click.echo(line)
    if closure is not None:
        click.echo(
            f"About the closure {closure}" + ("" if asked else ": the customers it concerns")
        )
    if explain:
        for p in plan.drafts:
            because = f" ({why_in[p.customer.id]})" if p.customer.id in why_in else ""
            click.echo(
                f"  draft  {p.customer.name} ({p.customer.id}): {p.message.channel} {p.to}{because}"
            )
        for h in plan.held:
            click.echo(f"  held   {h.customer.name} ({h.customer.id}): {h}")
    if dry_run:
        click.echo("Dry run: nothing written.")
    elif count:
        click.echo(f"Wrote {count} to {folder}; read and edit them, then: crm send {name}")


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def pick_occasion(config: Config, today: date, template: str, name: str | None) -> Occasion | None:
    """Return the occasion ``--occasion`` names, else the next one written with ``template``."""
    from crm.outreach.occasions import occasion_for

    if name is None:
        return occasion_for(config, today, template)
    for o in config.occasions:
        if o.name.casefold() == name.casefold():
            return o
    known = ", ".join(o.name for o in config.occasions) or "none in crm.toml"
    raise click.BadParameter(
        f"no occasion named {name!r} (known: {known})", param_hint="--occasion"
    )


def pick_closure(config: Config, today: date, template: str, start: str | None) -> Closure | None:
    """Return the closure starting on ``--closure``, else the next one ``template`` tells of."""
    from crm.rules.closures import closure_for

    if start is None:
        return closure_for(config, today, template)
    ctx = click.get_current_context()
    day = typed_day(start, "future", ctx, param_named(ctx, "closure_day"), today=today)
    for c in config.closures:
        if c.start == day:
            if c.end < today:
                raise CrmError(f"the closure {c} is over: nobody needs to hear of it", exit_code=2)
            if c.start <= today:
                click.echo(f"crm: warning: the closure {c} has begun; they learn of it late", err=True)  # fmt: skip
            return c
    known = ", ".join(str(c.start) for c in config.closures) or "none in crm.toml"
    raise click.BadParameter(f"no closure starts on {day} (known: {known})", param_hint="--closure")


def draft_row(d: Draft) -> dict[str, Any]:
    return {"id": d.customer, "name": d.name, "channel": d.channel, "to": d.to,
            "status": d.status, "subject": d.subject, "error": d.error,
            "body": d.body}  # fmt: skip


@click.command()
@click.argument("campaign", required=False)
@format_option
@pass_session
def outbox(session: Session, campaign: str | None, fmt: Format) -> None:
    """List the campaigns in the outbox, or the drafts of CAMPAIGN and their status.

    With --format csv, a campaign's rows carry the rendered messages (to, subject,
    body) for a mail-merge tool.

    \b
    Examples:
      crm outbox
      crm outbox holiday-2026-12-01
      crm outbox holiday-2026-12-01 --format csv > messages.csv
    """
    from crm.outreach.outbox import campaign_drafts, campaigns

    box = outbox_of(session)
    if campaign is None:
        rows = []
        for name in campaigns(box):
            found = campaign_drafts(box, name)
            counts = {s: sum(1 for d in found if d.status == s) for s in ("draft", "sent")}
            unknown = sum(1 for d in found if d.status in ("unknown", "sending"))
            rows.append({"campaign": name, **counts, "unknown": unknown})
        emit_rows(rows, CAMPAIGN_COLUMNS, fmt, "The outbox is empty.")
        return
    found = campaign_drafts(box, campaign)
    emit_rows([draft_row(d) for d in found], DRAFT_COLUMNS, fmt, "No drafts.")


COMMANDS = [draft, outbox]
