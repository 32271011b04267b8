"""``crm digest``: the day's agenda as a message, printed or mailed to ``[digest] to``."""

from __future__ import annotations

import os
from datetime import date

import click

from crm.cli import clock
from crm.cli.common import Session, machine_format, near, pass_session, today_option
from crm.cli.outreach import refuse_config_errors
from crm.core.errors import CrmError
from crm.report.render import to_json


@click.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "html", "json"]),
    callback=machine_format,
    default="text",
    show_default=True,
    help="What to print (without --send): the text, the HTML part, or the agenda's JSON.",
)
@click.option("--send", is_flag=True, help="Mail it to [digest] to by [smtp], text and HTML.")
@today_option
@pass_session
def digest(session: Session, fmt: str, send: bool, today: date) -> None:
    """The daily agenda as a message: print it, or mail it with --send.

    Replies you owe, who to contact now (how to reach them, the last thing said), who
    is due today, the next 14 days (birthdays and more), too much contact, whom to
    thank, rewards due, drafts waiting, closures and occasions coming up, and files to
    fix.
    --send mails it to [digest] to through the [smtp] settings, as plain text and HTML
    with tel:, sms: and mailto: links; on a day with nothing to do it sends nothing.
    Run it each morning from cron or a systemd timer (docs/outreach.md).

    \b
    Examples:
      crm digest
      crm digest --today 2026-12-01 --format html > digest.html
      crm digest --send
    """
    from crm.outreach.agenda import agenda_of

    if not send:
        found, customers = agenda_of(session.collection, today, shown=near)
        count = session.index().count()
        if fmt == "json":
            click.echo(to_json(found.as_json()), nl=False)
        elif fmt == "html":
            from crm.outreach.digest import html_of

            people = {c.id: c for c in customers}
            click.echo(html_of(found, count, people, session.config.business.region), nl=False)
        else:
            click.echo(found.as_text(count), nl=False)
        return
    from crm.outreach import send as smtp_send
    from crm.outreach.digest import message

    config = refuse_config_errors(session)
    if not config.digest.to:
        raise CrmError("set [digest] to in crm.toml: the address the digest goes to", exit_code=2)
    to_addr = smtp_send.address_of(config.digest.to)
    from_header = smtp_send.sender(config.smtp, config.business)
    found, customers = agenda_of(session.collection, today, shown=near)
    items = found.items()
    if not items:
        click.echo(f"Nothing to do on {today}: no digest sent.")
        return
    msg = message(
        found,
        session.index().count(),
        customers,
        from_header=from_header,
        to=config.digest.to,
        subject=config.digest.subject_for(today),
        region=config.business.region,
        now=clock.now(),
    )
    smtp_send.send_one(config.smtp, smtp_send.password(config.smtp, os.environ), msg, to_addr)
    click.echo(f"sent the digest for {today} to {to_addr} ({items} item{'s' * (items != 1)})")


COMMANDS = [digest]
