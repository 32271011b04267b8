"""Outreach commands: ``draft``, ``outbox``, ``send``, ``sent``."""

from __future__ import annotations

import os
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from crm.cli import clock
from crm.cli.common import Session, emit_rows, format_option, pass_session, today_option
from crm.cli.reports import filter_options
from crm.core.errors import CrmError
from crm.report.render import Column, Format, to_json
from crm.rules.audience import REPORTS
from crm.rules.filters import CustomerFilter

if TYPE_CHECKING:
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
    return session.root / session.config.outreach.outbox


def _shown(session: Session, path: Path) -> str:
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
    explain: bool,
    dry_run: bool,
    fmt: Format,
    today: date,
) -> None:
    """Write one personal draft per customer from templates/messages/TEMPLATE.md.

    The drafts go to the outbox (outbox/CAMPAIGN/ID.md), to read and edit before
    crm send. Nobody is bombarded: lost, paused, away, snoozed and opted-out
    customers, anyone contacted within --quiet, anyone one message short of
    max_contacts, anyone who dislikes the topic, is already in the campaign, has no
    address for the channel or no name to greet with, is held back and counted.

    \b
    Examples:
      crm draft holiday --dry-run --explain
      crm draft offer --likes copper --campaign copper-2026
      crm draft thanks --report thanks
      crm draft winback --report winback --format json
    """
    from crm.core.outreach import parse_quiet
    from crm.outreach import drafts
    from crm.outreach.outbox import check_campaign
    from crm.outreach.templates import load_template
    from crm.rules.audience import chosen, summary

    config = session.config
    template = load_template(session.root, template_name)
    if config.kinds.class_of(template.kind) == "note":
        raise CrmError(
            f"{template.path}: kind {template.kind!r} is a note in [kinds]: a message you send "
            "always counts as outreach, so give it a contact or broadcast kind",
            exit_code=2,
        )
    defaults = template.audience
    filters = _with_defaults(filters, defaults)
    report = report or defaults.get("report")
    likes_word = likes_word or _text(defaults.get("likes"))
    try:
        span = parse_quiet(quiet) if quiet is not None else config.outreach.quiet
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--quiet") from None
    name = check_campaign(campaign or drafts.default_campaign(template.name, today))
    ids = tuple(session.customer(t).id for t in to)
    customers = chosen(
        session.vault().customers,
        config,
        today,
        filters=filters,
        report=report,  # type: ignore[arg-type]
        likes_word=likes_word,
        to=ids,
    )
    plan = drafts.plan(
        template,
        customers,
        config,
        today,
        campaign=name,
        outbox=outbox_of(session),
        quiet=span,
        likes=likes_word,
        winback=report == "winback",
    )
    if not dry_run:
        drafts.write(plan, template, config, today)
    folder = _shown(session, plan.folder) + "/"
    if fmt != "table":
        rows = [
            {"id": p.customer.id, "name": p.customer.name, "outcome": "draft",
             "channel": p.message.channel, "to": p.to, "reason": None, "detail": None,
             "path": _shown(session, p.path)}
            for p in plan.drafts
        ] + [
            {"id": h.customer.id, "name": h.customer.name, "outcome": "held", "channel": None,
             "to": None, "reason": h.reason, "detail": h.detail or None, "path": None}
            for h in plan.held
        ]  # fmt: skip
        if fmt == "json":
            drafted = [r for r in rows if r["outcome"] == "draft"]
            kept = [r for r in rows if r["outcome"] == "held"]
            shown = {"campaign": name, "template": template.name, "folder": folder,
                     "dry_run": dry_run, "drafts": drafted, "held": kept}  # fmt: skip
            click.echo(to_json(shown), nl=False)
        else:
            emit_rows(rows, (), fmt)
        return
    count = len(plan.drafts)
    line = f"{name}: {count} draft{'' if count == 1 else 's'}"
    if plan.held:
        line += f"; held back: {summary(plan.held, span)}"
    click.echo(line)
    if explain:
        for p in plan.drafts:
            click.echo(f"  draft  {p.customer.name} ({p.customer.id}): {p.message.channel} {p.to}")
        for h in plan.held:
            click.echo(f"  held   {h.customer.name} ({h.customer.id}): {h}")
    if dry_run:
        click.echo("Dry run: nothing written.")
    elif count:
        click.echo(f"Wrote {count} to {folder}; read and edit them, then: crm send {name}")


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _with_defaults(filters: CustomerFilter, audience: dict[str, Any] | Any) -> CustomerFilter:
    """Return the command's filters, with the template's ``audience`` where the command set none."""
    from dataclasses import replace

    tags = audience.get("tag") or ()
    changes: dict[str, Any] = {}
    if not filters.tags and tags:
        changes["tags"] = tuple(tags) if isinstance(tags, list) else (str(tags),)
    for key in ("segment", "status", "company", "city", "country"):
        if getattr(filters, key) is None and audience.get(key) is not None:
            changes[key] = str(audience[key])
    return replace(filters, **changes)


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


def log_sent(session: Session, d: Draft, day: date) -> bool:
    """Append the sent message to its customer's log, once: False when it is already there."""
    from crm.edit.changes import append_log
    from crm.rules.audience import campaign_marker, in_campaign

    customer = session.customer(d.customer)
    if in_campaign(customer, d.campaign):
        return False
    text = f"{d.log or d.subject or 'message'} {campaign_marker(d.campaign)}"
    append_log(customer.location.path, day, d.kind, text)
    return True


@click.command()
@click.argument("campaign")
@click.option("--yes", is_flag=True, help="Really send (without it, only show what would go).")
@click.option("--limit", type=click.IntRange(1), help="Send at most N emails.")
@click.option("--resend-unknown", is_flag=True, help="Also send drafts whose outcome is unknown.")
@today_option
@pass_session
def send(
    session: Session, campaign: str, yes: bool, limit: int | None, resend_unknown: bool, today: date
) -> None:
    """Send the email drafts of CAMPAIGN by SMTP, and write links for texts.

    Each message goes exactly once: run it again after an error and only the rest go.
    SMS and WhatsApp drafts become tap-to-send links in outbox/CAMPAIGN/links.html;
    mark them with crm sent once sent. Every sent message is logged back to its
    customer's ## Log with its [campaign: NAME] marker.

    \b
    Examples:
      crm send holiday-2026-12-01             show what would be sent
      crm send holiday-2026-12-01 --yes --limit 5
      crm send holiday-2026-12-01 --yes --resend-unknown
    """
    from crm.outreach import send as smtp_send
    from crm.outreach.outbox import campaign_drafts
    from crm.outreach.templates import GAP

    config = session.config
    found = campaign_drafts(outbox_of(session), campaign)
    repaired = [d for d in found if d.status == "sent" and log_sent(session, d, today)]
    for d in repaired:
        click.echo(f"logged {d.customer}: it was sent, but its log line was missing")
    emails, held = [], []
    for d in found:
        why = smtp_send.sendable(d, resend_unknown)
        if why is None and d.channel == "email":
            emails.append(d)
        elif why is not None and why != "sent":
            held.append((d, why))
    texts = [d for d in found if d.channel != "email" and d.waiting and GAP not in d.body]
    _write_links(session, campaign, found)
    for d, why in held:
        click.echo(f"not sent: {d.customer}: {why}", err=True)
    if limit is not None:
        emails = emails[:limit]
    if not yes:
        for d in emails:
            click.echo(f"would send: {d.customer}: {d.to}: {d.subject or ''}")
        if emails:
            click.echo(f"{len(emails)} to send; run again with --yes to send them.")
        _say_links(session, campaign, texts)
        return
    if emails:
        sender = smtp_send.sender(config.smtp, config.business)
        secret = smtp_send.password(config.smtp, os.environ)
        with smtp_send.connection(config.smtp, secret) as conn:
            outcome = smtp_send.send_emails(
                emails,
                conn,
                sender,
                now=clock.now(),
                on_sent=lambda d: log_sent(session, d, today),
                pause=smtp_send.pause_for(config.smtp.rate, time.sleep),
            )
        for d in outcome.sent:
            click.echo(f"sent: {d.customer}: {d.to}")
        for d, why in outcome.refused:
            click.echo(f"refused: {d.customer}: {why}", err=True)
        for d in outcome.unknown:
            click.echo(f"unknown: {d.customer}: the connection dropped; did it arrive?", err=True)
        _say_links(session, campaign, texts)
        if outcome.stopped:
            rest = len(emails) - len(outcome.sent) - len(outcome.unknown)
            raise CrmError(f"stopped: {outcome.stopped}; {rest} not sent, run crm send again")
        if outcome.refused or outcome.unknown:
            raise CrmError("some messages were not sent")
        return
    _say_links(session, campaign, texts)


def _write_links(session: Session, campaign: str, found: list[Draft]) -> None:
    from crm.edit import atomic
    from crm.outreach.links import link_of, page
    from crm.outreach.outbox import LINKS_PAGE, campaign_folder

    waiting = [d for d in found if d.waiting]
    items = [
        (d.name, d.channel, link_of(d.channel, d.to, d.subject, d.body), d.body) for d in waiting
    ]
    path = campaign_folder(outbox_of(session), campaign) / LINKS_PAGE
    atomic.write(path, page(campaign, items).encode("utf-8"))


def _say_links(session: Session, campaign: str, texts: list[Draft]) -> None:
    from crm.outreach.links import link_of
    from crm.outreach.outbox import LINKS_PAGE, campaign_folder

    if not texts:
        return
    for d in texts:
        click.echo(f"{d.customer}: {link_of(d.channel, d.to, d.subject, d.body)}")
    path = _shown(session, campaign_folder(outbox_of(session), campaign) / LINKS_PAGE)
    click.echo(
        f"{len(texts)} to send by hand: open {path} on your phone, tap each, "
        f"then: crm sent {campaign}"
    )


@click.command()
@click.argument("campaign")
@click.argument("ids", nargs=-1, metavar="[ID]...")
@today_option
@pass_session
def sent(session: Session, campaign: str, ids: tuple[str, ...], today: date) -> None:
    """Mark drafts you sent by hand (the links) as sent, and log them back.

    Without IDs, every waiting text and WhatsApp draft of CAMPAIGN; an email draft
    is marked only when named (crm send marks the ones it sends).

    \b
    Examples:
      crm sent holiday-2026-12-01
      crm sent holiday-2026-12-01 ana-garcia tom-becker
    """
    from crm.outreach.outbox import campaign_drafts, set_status
    from crm.outreach.templates import GAP

    found = campaign_drafts(outbox_of(session), campaign)
    by_id = {d.customer: d for d in found}
    unknown = [i for i in ids if i not in by_id]
    if unknown:
        raise CrmError(f"no draft for {', '.join(unknown)} in {campaign}", exit_code=2)
    chosen = [by_id[i] for i in ids] if ids else [d for d in found if d.channel != "email"]
    marked = 0
    for d in chosen:
        if d.status == "sent":
            continue
        if GAP in d.body:
            click.echo(f"not marked: {d.customer}: still holds {GAP}", err=True)
            continue
        d = set_status(d, "sent", sent=clock.now().isoformat(), error=None)
        log_sent(session, d, today)
        marked += 1
        click.echo(f"sent: {d.customer}")
    if not marked:
        click.echo("Nothing to mark.")


COMMANDS = [draft, outbox, send, sent]
