"""Sending commands: ``send`` (SMTP, and the links page for texts) and ``sent``."""

from __future__ import annotations

import os
import time
from contextlib import suppress
from datetime import date
from typing import TYPE_CHECKING

import click

from crm.cli import clock
from crm.cli.common import Session, pass_session, today_option
from crm.cli.outreach import outbox_of, refuse_config_errors, shown_path
from crm.core.errors import CrmError

if TYPE_CHECKING:
    from crm.core.model import Customer
    from crm.outreach.outbox import Draft


def _customers(session: Session, drafts: list[Draft]) -> dict[str, Customer]:
    """Return the customers of ``drafts`` by exact id (a draft names its customer by id)."""
    return session.collection.by_ids(d.customer for d in drafts)


def _log(d: Draft, customers: dict[str, Customer], day: date) -> str | None:
    """Log a sent draft back; return why that failed (None: logged, or it was already)."""
    from crm.outreach.campaign import log_back

    try:
        log_back(d, customers.get(d.customer), day)
    except CrmError as exc:
        return str(exc)
    return None


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
    The audience rules are asked again first, with the settings the campaign was
    drafted with (outbox/CAMPAIGN/campaign.toml): anyone contacted, away, snoozed,
    paused, lost or opted out since the draft was written is held back. SMS and
    WhatsApp drafts become tap-to-send links in outbox/CAMPAIGN/links.html (emails
    too, as mailto: links, when [smtp] has no host); mark them with crm sent once
    sent. Every sent message is logged back to its customer's ## Log with its
    [campaign: NAME] marker.

    \b
    Examples:
      crm send holiday-2026-12-01             show what would be sent
      crm send holiday-2026-12-01 --yes --limit 5
      crm send holiday-2026-12-01 --yes --resend-unknown
    """
    from crm.edit import atomic
    from crm.outreach import send as smtp_send
    from crm.outreach.campaign import recheck
    from crm.outreach.drafted import read_runs, run_of
    from crm.outreach.outbox import campaign_drafts, campaign_folder

    config = refuse_config_errors(session)
    folder = campaign_folder(outbox_of(session), campaign)
    found = campaign_drafts(outbox_of(session), campaign)
    runs = read_runs(folder)
    with atomic.locked(folder / "send", timeout=0):
        customers = _customers(session, found)
        for d in found:
            if d.status == "sent" and d.log and not _logged(d, customers):
                why = _log(d, customers, today)
                if why is None:
                    click.echo(f"logged {d.customer}: it was sent, but its log line was missing")
                else:
                    click.echo(f"sent, not logged: {d.customer}: {why}", err=True)
        emails, texts = [], []
        for d in found:
            why = smtp_send.sendable(d, resend_unknown)
            if why == "sent":
                continue
            why = why or recheck(
                d, customers.get(d.customer), config, today, run_of(runs, d.customer)
            )
            if why is not None:
                click.echo(f"not sent: {d.customer}: {why}", err=True)
            elif d.channel == "email":
                emails.append(d)
            else:
                texts.append(d)
        if not config.smtp.host:
            texts, emails = texts + emails, []  # by hand: mailto links
        if limit is not None:
            emails = emails[:limit]
        # The texts first: whatever happens to the mail server, they can still be sent by hand.
        _links(session, campaign, texts, today)
        if not emails and not texts:
            click.echo(f"nothing left to send in {campaign}")
            return
        if not yes:
            for d in emails:
                click.echo(f"would send: {d.customer}: {d.to}: {d.subject or ''}")
            if emails:
                click.echo(f"{len(emails)} to send; run again with --yes to send them.")
            return
        outcome = None
        if emails:
            sender = smtp_send.sender(config.smtp, config.business)
            secret = smtp_send.password(config.smtp, os.environ)
            unlogged: list[tuple[Draft, str]] = []

            def logged(d: Draft) -> None:
                if (why := _log(d, customers, today)) is not None:
                    unlogged.append((d, why))

            with smtp_send.connection(config.smtp, secret) as conn:
                outcome = smtp_send.send_emails(
                    emails,
                    conn,
                    sender,
                    now=clock.now(),
                    on_sent=logged,
                    pause=smtp_send.pause_for(config.smtp.rate, time.sleep),
                )
            for d in outcome.sent:
                click.echo(f"sent: {d.customer}: {d.to}")
            for d, why in unlogged:
                click.echo(f"sent, not logged: {d.customer}: {why}", err=True)
            for d, why in outcome.refused:
                click.echo(f"refused: {d.customer}: {why}", err=True)
            for d in outcome.unknown:
                click.echo(
                    f"unknown: {d.customer}: the connection dropped; did it arrive?", err=True
                )
            for d, why in outcome.skipped:
                click.echo(f"skipped: {d.customer}: {why}", err=True)
    if outcome is None:
        return
    if outcome.stopped:
        rest = len(emails) - len(outcome.sent) - len(outcome.unknown)
        more = f"; {rest} not sent, run crm send again" if rest else ""
        raise CrmError(f"stopped: {outcome.stopped}{more}")
    if outcome.refused or outcome.unknown:
        raise CrmError("some messages were not sent")


def _logged(d: Draft, customers: dict[str, Customer]) -> bool:
    from crm.rules.audience import in_campaign

    customer = customers.get(d.customer)
    return customer is None or in_campaign(customer, d.campaign)


def _links(session: Session, campaign: str, texts: list[Draft], today: date) -> None:
    """Write the links page of the drafts to send by hand, mark them offered, and print them."""
    from crm.edit import atomic
    from crm.outreach.links import link_of, page
    from crm.outreach.outbox import LINKS_PAGE, Moved, campaign_folder, set_status

    region = session.config.business.region
    items = [(d, link_of(d.channel, d.to, d.subject, d.body, region)) for d in texts]
    path = campaign_folder(outbox_of(session), campaign) / LINKS_PAGE
    atomic.write(path, page(campaign, [(d.name, d.channel, a, d.body) for d, a in items]).encode())
    if not items:
        return
    for d, link in items:
        if d.offered is None:
            with suppress(Moved):
                set_status(d, "draft", expect=("draft",), offered=today.isoformat())
        click.echo(f"{d.customer}: {link}")
    click.echo(
        f"{len(items)} to send by hand: open {shown_path(session, path)} on your phone, "
        f"tap each, then: crm sent {campaign}"
    )


@click.command()
@click.argument("campaign")
@click.argument("ids", nargs=-1, metavar="[ID]...")
@today_option
@pass_session
def sent(session: Session, campaign: str, ids: tuple[str, ...], today: date) -> None:
    """Mark drafts you sent by hand (the links) as sent, and log them back.

    Without IDs, every draft of CAMPAIGN that crm send put on the links page.

    \b
    Examples:
      crm sent holiday-2026-12-01
      crm sent holiday-2026-12-01 ana-garcia tom-becker
    """
    from crm.outreach.campaign import mark_sent
    from crm.outreach.outbox import campaign_drafts

    refuse_config_errors(session)
    found = campaign_drafts(outbox_of(session), campaign)
    by_id = {d.customer: d for d in found}
    unknown = [i for i in ids if i not in by_id]
    if unknown:
        raise CrmError(f"no draft for {', '.join(unknown)} in {campaign}", exit_code=2)
    chosen = [by_id[i] for i in dict.fromkeys(ids)] if ids else [d for d in found if d.offered]
    customers = _customers(session, chosen)
    marked = 0
    for d in chosen:
        done = mark_sent(d, customers.get(d.customer), now=clock.now(), today=today)
        if done.outcome == "gap":
            click.echo(f"not marked: {d.customer}: {done.why}", err=True)
        elif done.outcome == "moved":
            click.echo(f"skipped: {d.customer}: {done.why}", err=True)
        elif done.outcome == "sent":
            marked += 1
            click.echo(f"sent: {d.customer}")
            if done.why is not None:
                click.echo(f"sent, not logged: {d.customer}: {done.why}", err=True)
    if not marked:
        click.echo("Nothing to mark.")


COMMANDS = [send, sent]
