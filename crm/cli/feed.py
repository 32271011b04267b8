"""Calendar commands: ``ics``, ``serve``, ``watch``, ``feed-url``."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click

from crm.cli.common import Session, pass_session, today_option
from crm.cli.reports import filter_options, selected
from crm.config import Config, load_config
from crm.model import Problem
from crm.vault import Vault, load_vault

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
WATCH_OUTPUT = Path(".crm") / "calendar.ics"


@dataclass(frozen=True, slots=True)
class Filters:
    """The ``--tag/--segment/--status/--company`` choices that make a per-team feed."""

    tags: tuple[str, ...] = ()
    segment: str | None = None
    status: str | None = None
    company: str | None = None


def load(root: Path) -> tuple[Config, Vault]:
    """Return the vault's config and customers as they are on disk now (the one place to load)."""
    config, problems = load_config(root)
    vault = load_vault(root, config)
    return config, Vault(vault.root, vault.customers, (*problems, *vault.problems))


def vault_today(config: Config) -> date:
    """Return today's date in the vault's time zone (the clock, read once per rebuild)."""
    return datetime.now(ZoneInfo(config.timezone)).date()


@dataclass
class FeedJob:
    """Loads the vault and renders the feed, for the long-running ``serve`` and ``watch``."""

    root: Path
    filters: Filters = Filters()
    fixed_today: date | None = None
    log: Callable[[str], None] = field(default=lambda message: None)
    events: int = 0
    problems: tuple[Problem, ...] = ()

    def build(self) -> bytes:
        """Return the feed as it is now, logging each problem met while loading."""
        from crm.calendar import build_feed

        config, vault = load(self.root)
        customers = selected(
            vault.customers,
            self.filters.tags,
            self.filters.segment,
            self.filters.status,
            self.filters.company,
        )
        data = build_feed(customers, config, self.fixed_today or vault_today(config))
        self.events = data.count(b"BEGIN:VEVENT\r\n")
        self.problems = vault.problems
        for p in vault.problems:
            self.log(f"{p}")
        return data

    def today(self) -> date:
        """Return the date the feed is built for."""
        return self.fixed_today or vault_today(load_config(self.root)[0])


def _summary(job: FeedJob) -> str:
    n = len(job.problems)
    return f"{job.events} events" + (f", {n} problem{'s' if n != 1 else ''}" if n else "")


def _echo_err(message: str) -> None:
    click.echo(message, err=True)


def today_hidden(f: Callable[..., Any]) -> Callable[..., Any]:
    """Add a hidden ``--today`` that pins the date (demos and tests) instead of following the clock."""
    return click.option(
        "--today", "fixed_today", type=click.DateTime(["%Y-%m-%d"]), hidden=True, default=None
    )(f)


def _stop_on_sigterm() -> None:
    """Make SIGTERM (systemd, docker stop, kill) stop like Ctrl-C, so threads and sockets close."""
    import signal

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def _fixed(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


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
    tags: tuple[str, ...],
    segment: str | None,
    status: str | None,
    company: str | None,
    today: date,
) -> None:
    """Write the iCalendar feed: dates, follow-ups and reach-out reminders.

    \b
    Examples:
      crm ics > customers.ics
      crm ics -o ~/public_html/customers.ics --tag vip
    """
    from crm.calendar import build_feed
    from crm.files import write_atomic

    customers = selected(session.vault().customers, tags, segment, status, company)
    data = build_feed(customers, session.config, today)
    if output is None:
        click.echo(data, nl=False)
    else:
        write_atomic(output, data)


def _urls(base: str, token: str) -> tuple[str, str]:
    from crm.server import feed_path

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
    from crm.token import ENV_VAR, feed_token

    return feed_token(session.root, session.config, os.environ.get(ENV_VAR))


@click.command("feed-url")
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Host the server listens on.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, help="Port the server listens on.")
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
@click.option("--port", default=DEFAULT_PORT, show_default=True, help="Port (0 picks a free one).")
@filter_options
@today_hidden
@pass_session
def serve(
    session: Session,
    host: str,
    port: int,
    tags: tuple[str, ...],
    segment: str | None,
    status: str | None,
    company: str | None,
    fixed_today: datetime | None,
) -> None:
    """Serve the feed at a secret URL and keep it current as the vault changes.

    Listens on 127.0.0.1 unless --host says otherwise; stop with Ctrl-C.

    \b
    Examples:
      crm serve
      crm serve --host 0.0.0.0 --port 8080 --tag vip
    """
    from crm.server import FeedApp, make_server
    from crm.watch import DayTicker, Watcher

    _stop_on_sigterm()
    token = _token(session)
    job = FeedJob(
        session.root, Filters(tags, segment, status, company), _fixed(fixed_today), _echo_err
    )
    app = FeedApp(token, job.build, log=_echo_err)

    def rebuild(reason: str) -> None:
        changed = app.refresh()
        _echo_err(f"{'rebuilt' if changed else 'unchanged'} feed: {_summary(job)} ({reason})")

    # Watch first, then build: an edit made while the first build runs is not lost.
    with Watcher(session.root, lambda changes: rebuild(_describe(changes))):
        app.refresh()
        server = make_server(app, host, port)
        url, webcal = _urls(_base(host, server.effective_port), token)
        click.echo(f"Serving {_summary(job)}. Subscribe to:\n  {url}\n  {webcal}")
        if host not in ("127.0.0.1", "localhost", "::1"):
            _echo_err(
                "note: plain HTTP; put it behind an HTTPS reverse proxy before it leaves your network"
            )
        ticker = DayTicker(job.today, lambda day: rebuild(f"new day {day}"))
        ticker.start()
        try:
            server.run()
        except KeyboardInterrupt:
            pass
        finally:
            ticker.stop()
            server.close()


def _describe(changes: tuple[Any, ...]) -> str:
    shown = ", ".join(str(c) for c in changes[:5])
    more = f" and {len(changes) - 5} more" if len(changes) > 5 else ""
    return shown + more


def run_watch(job: FeedJob, output: Path, stop: threading.Event, *, delay: float = 0.3) -> None:
    """Keep ``output`` current until ``stop`` is set: rebuild on vault changes and at a new day."""
    from crm.files import write_atomic
    from crm.watch import DayTicker, Watcher

    current = b""
    lock = threading.Lock()

    def rebuild(reason: str) -> None:
        nonlocal current
        with lock:
            try:
                data = job.build()
            except Exception as exc:  # noqa: BLE001  # keep watching; the old file stays in place
                job.log(f"rebuild failed ({reason}): {exc}")
                return
            if data == current:
                job.log(f"unchanged {output}: {_summary(job)} ({reason})")
                return
            write_atomic(output, data)
            current = data
            job.log(f"rebuilt {output}: {_summary(job)} ({reason})")

    watcher = Watcher(
        job.root, lambda changes: rebuild(_describe(changes)), delay=delay, ignored=[output]
    )
    ticker = DayTicker(job.today, lambda day: rebuild(f"new day {day}"))
    # Watch first, then build: an edit made while the first build runs is not lost.
    with watcher:
        with lock:
            current = job.build()
            write_atomic(output, current)
            job.log(f"wrote {output}: {_summary(job)}")
        ticker.start()
        try:
            stop.wait()
        finally:
            ticker.stop()


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
    tags: tuple[str, ...],
    segment: str | None,
    status: str | None,
    company: str | None,
    fixed_today: datetime | None,
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
    job = FeedJob(
        session.root, Filters(tags, segment, status, company), _fixed(fixed_today), _echo_err
    )
    try:
        run_watch(job, output, threading.Event())
    except KeyboardInterrupt:
        pass


COMMANDS = [ics, serve, watch, feed_url]
