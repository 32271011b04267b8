"""What every command shares: the session (vault, config, today), options and output."""

from __future__ import annotations

import os
import shutil
import sys
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
import click.shell_completion

from crm.cli import clock, screen
from crm.core.dates import Direction, parse_date, parse_day
from crm.core.errors import CrmError

# The core is imported where it is used, so that ``crm --help`` starts fast.
if TYPE_CHECKING:
    from crm.core.config import Config
    from crm.core.model import Customer, Problem
    from crm.index.collection import Collection
    from crm.index.store import Index
    from crm.report.render import Column, Format, Row
    from crm.vault.load import Vault

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


@dataclass
class Session:
    """The command line's side of a command: the ``--vault`` choice, the day, the ``Collection``."""

    vault_arg: str | None
    day: date | None = None
    _root: Path | None = None
    _settings: tuple[Config, list[Problem]] | None = field(default=None, repr=False)
    _collection: Collection | None = field(default=None, repr=False)

    @property
    def root(self) -> Path:
        if self._root is None:
            self._root = self._find_root()
            if not (self._root / "crm.toml").is_file():
                # Not an error (a folder of notes works), but a wrong --vault or $CRM_VAULT
                # should not pass for an empty vault without a word.
                click.echo(f"crm: warning: {self._root} has no crm.toml; using defaults", err=True)
        return self._root

    def _find_root(self) -> Path:
        from crm.vault.files import find_root

        return find_root(Path.cwd(), self.vault_arg, os.environ.get("CRM_VAULT"))

    @property
    def collection(self) -> Collection:
        """Return the facade over this command's vault, made on first use."""
        if self._collection is None:
            from crm.index.collection import Collection

            self._collection = Collection(
                self.root,
                today=self.day,
                now=clock.now(),
                progress=progress_bar(),
                use_index=not os.environ.get("CRM_NO_INDEX"),
                on_bypass=warn_bypassed,
                settings=self._settings,
            )
        return self._collection

    @property
    def config(self) -> Config:
        return self.collection.config

    @property
    def config_problems(self) -> list[Problem]:
        return self.collection.config_problems

    def today(self) -> date:
        """Return today in the vault's time zone (``crm.cli.clock``), reading crm.toml quietly.

        Quietly: the warnings and errors about the vault come when the command uses it, as
        without ``--today`` they would. With no vault found, it is the machine's date.
        """
        return clock.vault_today(self.quiet_config())

    def quiet_config(self) -> Config:
        """Return the vault's settings without opening the collection or saying anything.

        For what must be known before the command's day is (``--today 03/04`` reads
        ``date_order``); with no vault found, the defaults.
        """
        from crm.core.config import Config, load_config

        if self._collection is not None:
            return self._collection.config
        if self._settings is None:
            try:
                root = self._root or self._find_root()
            except CrmError:
                return Config()
            # Kept for the Collection: crm.toml is read once per command.
            self._settings = load_config(root)
        return self._settings[0]

    def index(self, *, rebuild: bool = False) -> Index:
        """Return the vault's index, brought up to date once per command."""
        return self.collection.index(rebuild=rebuild)

    def vault(self) -> Vault:
        """Return the loaded vault (customers and problems), answered from the index."""
        return self.collection.vault()

    def customer(self, name: str) -> Customer:
        """Return the customer ``name`` means (an id, an exact name or an unambiguous prefix)."""
        from crm.index.collection import BrokenCustomer

        try:
            return self.collection.customer(name)
        except BrokenCustomer as exc:
            lines = "\n".join(str(p) for p in near(exc.problems))
            raise CrmError(f"{exc}:\n{lines}") from None

    def problems(self) -> list[Problem]:
        """Return the config's problems followed by the vault's."""
        return self.collection.problems()


def warn_bypassed(why: str) -> None:
    """Say on stderr that the index could not be used, so that a slow command is no mystery."""
    click.echo(
        f"crm: warning: index not used ({why}); reading every file, which is slower", err=True
    )


def near(problems: Iterable[Problem]) -> list[Problem]:
    """Return problems with paths shown relative to the working folder when they are inside it."""
    cwd = Path.cwd().resolve()
    return [p.seen_from(cwd) for p in problems]


pass_session = click.make_pass_decorator(Session)


def progress_bar() -> Callable[[int, int], None] | None:
    """Return a progress callback drawing a bar on stderr, or None when stderr is no terminal."""
    if not sys.stderr.isatty():
        return None
    bar: list[Any] = []

    def update(done: int, total: int) -> None:
        if not bar:
            if total < 2000:
                return  # a short parse needs no bar
            # Its own escapes (carriage return, cursor) go to the terminal as they are.
            stderr = screen.raw(sys.stderr)
            bar.append(click.progressbar(length=total, label="Indexing", file=stderr))
            bar[0].__enter__()
        bar[0].update(done - bar[0].pos)
        if done >= total:
            bar[0].__exit__(None, None, None)

    return update


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
        return parse_date(value)  # the usual ISO day needs neither the clock nor crm.toml
    except ValueError:
        pass
    order = None
    if "/" in value and ctx is not None and (session := ctx.find_object(Session)):
        order = session.quiet_config().date_order  # slash dates read as the vault's log does
    try:
        return parse_day(value, today=today or command_day(ctx), direction=direction, order=order)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


def parse_today(ctx: click.Context, param: click.Parameter, value: str | None) -> date:
    """Return ``--today`` as a date; without it, today in the vault's time zone (``clock``).

    ``--today`` takes every form of ``crm.core.dates.parse_day``; relative words (``tomorrow``,
    ``friday``, ``20 Dec``) count from the real day and look ahead.
    """
    # No session only while completing, before the group's callback has run.
    session = ctx.find_object(Session) or Session(None)
    if value is None:
        day = session.today()
    else:
        try:
            day = parse_date(value)  # the usual ISO day needs neither the clock nor crm.toml
        except ValueError:
            day = typed_day(value, "future", ctx, param, today=session.today())
    session.day = day
    return day


def today_option(f: F) -> F:
    """Add ``--today DATE`` for reproducible reports.

    Eager: the command's other dates (``log --date yesterday``) count from this day.
    """
    return click.option(
        "--today",
        metavar="DATE",
        callback=parse_today,
        is_eager=True,
        help="Pretend today is this date (reproducible reports).",
    )(f)


def machine_format(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """A ``--format`` callback: JSON, CSV and vCard print exactly (``screen``)."""
    if value in ("json", "csv", "vcard"):
        screen.exact()
    return value


def safe_csv_option(f: F) -> F:
    """Add ``--safe-csv``: CSV cells that a spreadsheet would run as a formula start with '."""

    def neutralise(ctx: click.Context, param: click.Parameter, value: bool) -> None:
        if value:
            from crm.report.render import CSV_FORMULAS

            token = CSV_FORMULAS.set(False)
            ctx.call_on_close(lambda: CSV_FORMULAS.reset(token))

    return click.option(
        "--safe-csv",
        is_flag=True,
        expose_value=False,
        callback=neutralise,
        help="In CSV, put ' before a cell that starts with = + - or @ (a spreadsheet formula).",
    )(f)


def format_option(f: F) -> F:
    """Add ``--format table|json|csv`` and ``--safe-csv``."""
    return safe_csv_option(
        click.option(
            "--format",
            "fmt",
            type=click.Choice(["table", "json", "csv"]),
            default="table",
            show_default=True,
            callback=machine_format,
            help="Output format; json and csv are stable for scripts.",
        )(f)
    )


def limit_option(f: F) -> F:
    """Add ``--limit N``: print only the first N rows (in the report's order)."""
    return click.option(
        "--limit",
        type=click.IntRange(0),
        metavar="N",
        help="Print only the first N rows (0 or unset: all).",
    )(f)


def first(items: Sequence[T], limit: int | None) -> Sequence[T]:
    """Return the first ``limit`` of ``items`` (all when ``limit`` is None or 0)."""
    return items[:limit] if limit else items


def emit_rows(rows: Sequence[Row], columns: Sequence[Column], fmt: Format, empty: str = "") -> None:
    """Print rows in the chosen format; a table with no rows prints ``empty`` instead."""
    if fmt == "table" and not rows:
        if empty:
            click.echo(empty)
        return
    from crm.report.render import render

    click.echo(render(rows, columns, fmt, table_width()), nl=False)


def table_width() -> int:
    """Return how wide a table may be: 80 columns, or the terminal's when wider."""
    return 80 if not sys.stdout.isatty() else max(80, shutil.get_terminal_size().columns)


def _complete_customers(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[click.shell_completion.CompletionItem]:
    """Offer customer ids (with names as help) for shell completion."""
    from click.shell_completion import CompletionItem

    vault_arg = ctx.find_root().params.get("vault")
    try:
        customers = Session(vault_arg).vault().customers
    except CrmError:
        return []
    wanted = nfc(incomplete).casefold()
    return [
        CompletionItem(c.id, help=c.name)
        for c in customers
        if c.id.casefold().startswith(wanted) or c.name.casefold().startswith(wanted)
    ]


def nfc(text: str) -> str:
    """Return ``text`` in Unicode NFC, the form files are written in (macOS input may be NFD)."""
    return unicodedata.normalize("NFC", text)


def _nfc_argument(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    values = (value,) if isinstance(value, str) else value
    for text in values if isinstance(values, tuple) else ():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # bytes the terminal could not decode
            raise click.BadParameter(f"{text!r} is not valid UTF-8 text") from None
    if isinstance(value, str):
        return nfc(value)
    return tuple(nfc(v) for v in value) if isinstance(value, tuple) else value


def customer_argument(f: F) -> F:
    """Add the ``NAME`` argument (id, exact name or unambiguous prefix) with shell completion."""
    return click.argument("name", shell_complete=_complete_customers, callback=_nfc_argument)(f)


def text_argument(f: F) -> F:
    """Add the ``TEXT...`` words of a search, normalised like names."""
    return click.argument("text", nargs=-1, required=True, callback=_nfc_argument)(f)
