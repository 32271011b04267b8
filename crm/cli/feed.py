"""Calendar commands: ``ics``, ``serve``, ``watch``, ``feed-url``."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from crm.cli import clock
from crm.cli.common import Session, pass_session, today_option
from crm.cli.filters import filter_options
from crm.cli.when import FUTURE

if TYPE_CHECKING:
    from crm.core.model import Problem
from crm.rules.filters import CustomerFilter

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
WATCH_OUTPUT = Path(".crm") / "calendar.ics"


def _echo_err(message: str) -> None:
    click.echo(message, err=True)


# Warnings ``crm ics`` prints before it says how many more there are (errors: all of them).
WARNINGS_SHOWN = 20


def _problem_lines(problems: list[Problem]) -> list[str]:
    """Return every error and the first ``WARNINGS_SHOWN`` warnings, then how many are left:
    a big vault's warnings (no first name...) would bury the feed's errors."""
    lines: list[str] = []
    warned = left = 0
    for problem in problems:
        if problem.severity == "error":
            lines.append(str(problem))
        elif warned < WARNINGS_SHOWN:
            lines.append(str(problem))
            warned += 1
        else:
            left += 1
    if left:
        lines.append(f"… and {left:,} more warnings: crm check")
    return lines


def today_hidden(f: Callable[..., Any]) -> Callable[..., Any]:
    """Add a hidden ``--today`` that pins the date (demos and tests) instead of following the clock."""
    return click.option("--today", "fixed_today", type=FUTURE, hidden=True, default=None)(f)


def _stop_on_sigterm() -> None:
    """Make SIGTERM (systemd, docker stop, kill) stop like Ctrl-C, so threads and sockets close."""
    import signal

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


@click.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the feed to FILE (atomically) instead of stdout.",
)
@filter_options
@today_option
@pass_session
def ics(
    session: Session,
    output: Path | None,
    filters: CustomerFilter,
    today: date,
) -> None:
    """Write the iCalendar feed: dates, follow-ups and reach-out reminders.

    Broken customer files are left out and reported on stderr; the rest still go out. An
    error in crm.toml writes no feed (exit 1), as ``crm serve`` then keeps its last good one.

    \b
    Examples:
      crm ics > customers.ics
      crm ics -o ~/public_html/customers.ics --tag vip
    """
    from crm.edit.atomic import write as write_atomic
    from crm.feed.live import feed_from_index, open_for_feed, refuse_broken_config

    refuse_broken_config(session.config_problems, "written")
    # With the day, a cold build renders the calendar in the parse workers.
    index, blocks = open_for_feed(session.collection, today)
    try:
        data = feed_from_index(index, session.config, blocks, filters)
        problems = [*session.config_problems, *index.problems()]
    finally:
        session.collection.close()
    for line in _problem_lines(problems):
        _echo_err(line)
    if output is None:
        click.echo(data, nl=False)
    else:
        write_atomic(output, data)


def _urls(base: str, token: str) -> tuple[str, str]:
    from crm.feed.server import feed_path

    url = base.rstrip("/") + feed_path(token)
    webcal = "webcal://" + url.split("://", 1)[1]
    return url, webcal


def _base(host: str, port: int) -> str:
    if host in ("0.0.0.0", "::", ""):
        import socket

        host = socket.gethostname()
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _token(session: Session) -> str:
    from crm.feed.token import ENV_VAR, feed_token

    return feed_token(session.root, session.config, os.environ.get(ENV_VAR))


@click.command("feed-url")
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Host the server listens on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=DEFAULT_PORT,
    show_default=True,
    help="Port the server listens on.",
)
@click.option(
    "--base-url",
    metavar="URL",
    help="Public address in front of the server, e.g. https://crm.example.com (reverse proxy).",
)
@pass_session
def feed_url(session: Session, host: str, port: int, base_url: str | None) -> None:
    """Print the secret URL to subscribe to (http and webcal forms).

    The token comes from crm.toml [feed] token, else $CRM_FEED_TOKEN, else
    .crm/feed-token in the vault (created on first use).

    \b
    Examples:
      crm feed-url
      crm feed-url --base-url https://crm.example.com
    """
    url, webcal = _urls(base_url or _base(host, port), _token(session))
    click.echo(url)
    click.echo(webcal)


@click.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=DEFAULT_PORT,
    show_default=True,
    help="Port (0 picks a free one).",
)
@click.option(
    "--read-only", is_flag=True, help="The phone page shows, and changes nothing (no forms)."
)
@filter_options
@today_hidden
@pass_session
def serve(
    session: Session,
    host: str,
    port: int,
    read_only: bool,
    filters: CustomerFilter,
    fixed_today: date | None,
) -> None:
    """Serve the feed and the phone page at a secret URL, current as the vault changes.

    The feed is at /TOKEN/calendar.ics; the phone page at /TOKEN/ shows today's people
    with tap-to-call and tap-to-text links, each customer, and the outbox, and logs a
    contact, snoozes or marks a draft as sent (not with --read-only or [serve]
    read_only). The filters choose the feed's customers only. Listens on 127.0.0.1
    unless --host says otherwise; stop with Ctrl-C. docs/phone.md puts it on a phone.

    \b
    Examples:
      crm serve
      crm serve --read-only
      crm serve --host 0.0.0.0 --port 8080 --tag vip
    """
    from crm.feed.live import FeedJob, LiveFeed
    from crm.feed.server import make_server
    from crm.web.app import PageApp

    _stop_on_sigterm()
    token = _token(session)
    job = FeedJob(session.root, filters, fixed_today, _echo_err, now=clock.now)
    live = LiveFeed(job, token)
    live.start()
    app = PageApp(
        session.root,
        token,
        now=clock.now,
        feed=live.app,
        fixed_today=fixed_today,
        read_only=read_only,
        log=_echo_err,
    )
    try:
        server = make_server(app, host, port)
        base = _base(host, server.effective_port)
        url, webcal = _urls(base, token)
        click.echo(f"Serving {job.summary()}. Subscribe to:\n  {url}\n  {webcal}")
        click.echo(f"On your phone:\n  {base}/{token}/")
        if host not in ("127.0.0.1", "localhost", "::1"):
            _echo_err(
                "note: plain HTTP; put it behind an HTTPS reverse proxy before it leaves your network"
            )
        try:
            server.run()
        except KeyboardInterrupt:
            pass
        finally:
            server.close()
    finally:
        live.stop()


@click.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The .ics file to keep current (default: .crm/calendar.ics in the vault).",
)
@filter_options
@today_hidden
@pass_session
def watch(
    session: Session,
    output: Path | None,
    filters: CustomerFilter,
    fixed_today: date | None,
) -> None:
    """Watch the vault and keep an .ics file current; one log line per rebuild.

    Stop with Ctrl-C.

    \b
    Examples:
      crm watch
      crm watch -o ~/public_html/customers.ics --tag vip
    """
    if output is None:
        output = session.root / WATCH_OUTPUT
        output.parent.mkdir(exist_ok=True)
    _stop_on_sigterm()
    from crm.feed.live import FeedJob, run_watch

    job = FeedJob(
        session.root,
        filters,
        fixed_today,
        _echo_err,
        now=clock.now,
    )
    try:
        run_watch(job, output, threading.Event())
    except KeyboardInterrupt:
        pass


COMMANDS = [ics, serve, watch, feed_url]
