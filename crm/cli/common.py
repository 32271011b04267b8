"""What every command shares: the session (vault, config, clock), options and output."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
import click.shell_completion

from crm.core.dates import parse_date
from crm.core.errors import CrmError

# The core is imported where it is used, so that ``crm --help`` starts fast.
if TYPE_CHECKING:
    from crm.core.config import Config
    from crm.core.model import Customer, Problem
    from crm.index.store import Index
    from crm.report.render import Column, Format, Row
    from crm.vault.load import Vault

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Session:
    """The vault a command works on, loaded once on first use."""

    vault_arg: str | None
    _root: Path | None = None
    _config: tuple[Config, list[Problem]] | None = None
    _vault: Vault | None = field(default=None, repr=False)
    _index: Index | None = field(default=None, repr=False)

    @property
    def root(self) -> Path:
        if self._root is None:
            from crm.vault.load import find_root

            self._root = find_root(Path.cwd(), self.vault_arg, os.environ.get("CRM_VAULT"))
            if not (self._root / "crm.toml").is_file():
                # Not an error (a folder of notes works), but a wrong --vault or $CRM_VAULT
                # should not pass for an empty vault without a word.
                click.echo(f"crm: warning: {self._root} has no crm.toml; using defaults", err=True)
        return self._root

    @property
    def config(self) -> Config:
        return self._config_and_problems()[0]

    @property
    def config_problems(self) -> list[Problem]:
        return self._config_and_problems()[1]

    def _config_and_problems(self) -> tuple[Config, list[Problem]]:
        if self._config is None:
            from crm.core.config import load_config

            self._config = load_config(self.root)
        return self._config

    def index(self, *, rebuild: bool = False) -> Index:
        """Return the vault's index, brought up to date once per command."""
        if self._index is None or rebuild:
            from crm.index.store import open_index

            self._index = open_index(
                self.root,
                self.config,
                rebuild=rebuild,
                progress=_progress_bar(),
                enabled=index_enabled(),
            )
            warn_if_bypassed(self._index)
        return self._index

    def vault(self) -> Vault:
        """Return the loaded vault (customers and problems), answered from the index."""
        if self._vault is None:
            self._vault = self.index().vault()
        return self._vault

    def customer(self, name: str) -> Customer:
        """Return the customer ``name`` means (see ``resolve``), decoding only likely matches."""
        if self._vault is None:
            found = self.index().named(name)
            if found:
                return resolve(found, name)
        # Nothing starts with the name: the message lists similar customers from the whole vault.
        try:
            return resolve(self.vault().customers, name)
        except CrmError:
            # A file too broken to load is no customer, but it is what the user means: say why.
            wanted = name.casefold()
            broken = [
                p
                for p in self.vault().problems
                if p.severity == "error" and p.location.path.stem.casefold() == wanted
            ]
            if broken:
                lines = "\n".join(str(p) for p in near(broken))
                raise CrmError(
                    f"'{name}' cannot be used until its file is fixed:\n{lines}"
                ) from None
            raise

    def problems(self) -> list[Problem]:
        """Return the config's problems followed by the vault's."""
        return [*self.config_problems, *self.vault().problems]


def index_enabled() -> bool:
    """Return False when the user turned the index off with ``CRM_NO_INDEX``."""
    return not os.environ.get("CRM_NO_INDEX")


def warn_if_bypassed(index: Index) -> None:
    """Say once on stderr that the index could not be used, so that a slow command is no mystery.

    Not when ``CRM_NO_INDEX`` turned it off: then the plain parse is what the user asked for.
    """
    if index.bypassed and index_enabled():
        why = (index.stats.rebuilt or "").removeprefix("bypassed: ")
        click.echo(
            f"crm: warning: index not used ({why}); reading every file, which is slower", err=True
        )


def near(problems: Iterable[Problem]) -> list[Problem]:
    """Return problems with paths shown relative to the working folder when they are inside it."""
    cwd = Path.cwd().resolve()
    shown = []
    for p in problems:
        path = p.location.path
        if path.is_absolute():
            # Resolve the folder only: the file itself may be a symlink to somewhere else.
            with contextlib.suppress(ValueError):
                path = (path.parent.resolve() / path.name).relative_to(cwd)
        shown.append(replace(p, location=replace(p.location, path=path)))
    return shown


pass_session = click.make_pass_decorator(Session)


def _progress_bar() -> Callable[[int, int], None] | None:
    """Return a progress callback drawing a bar on stderr, or None when stderr is no terminal."""
    if not sys.stderr.isatty():
        return None
    bar: list[Any] = []

    def update(done: int, total: int) -> None:
        if not bar:
            if total < 2000:
                return  # a short parse needs no bar
            bar.append(click.progressbar(length=total, label="Indexing", file=sys.stderr))
            bar[0].__enter__()
        bar[0].update(done - bar[0].pos)
        if done >= total:
            bar[0].__exit__(None, None, None)

    return update


def parse_today(ctx: click.Context, param: click.Parameter, value: str | None) -> date:
    """Return ``--today`` as a date; without it, read the clock (the only place that does)."""
    if value is None:
        return date.today()
    try:
        return parse_date(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def today_option(f: F) -> F:
    """Add ``--today YYYY-MM-DD`` for reproducible reports."""
    return click.option(
        "--today",
        metavar="YYYY-MM-DD",
        callback=parse_today,
        help="Pretend today is this date (reproducible reports).",
    )(f)


def format_option(f: F) -> F:
    """Add ``--format table|json|csv``."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["table", "json", "csv"]),
        default="table",
        show_default=True,
        help="Output format; json and csv are stable for scripts.",
    )(f)


def emit_rows(rows: Sequence[Row], columns: Sequence[Column], fmt: Format, empty: str = "") -> None:
    """Print rows in the chosen format; a table with no rows prints ``empty`` instead."""
    if fmt == "table" and not rows:
        if empty:
            click.echo(empty)
        return
    from crm.report.render import render

    width = 80 if not sys.stdout.isatty() else max(80, shutil.get_terminal_size().columns)
    click.echo(render(rows, columns, fmt, width), nl=False)


def resolve(customers: Sequence[Customer], name: str) -> Customer:
    """Return the customer ``name`` means: an id, an exact name, or an unambiguous prefix."""
    wanted = name.casefold()
    tests: tuple[Callable[[Customer], bool], ...] = (
        lambda c: c.id == name,
        lambda c: c.name.casefold() == wanted,
        lambda c: c.id.casefold().startswith(wanted) or c.name.casefold().startswith(wanted),
    )
    for test in tests:
        found = [c for c in customers if test(c)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            listing = "\n".join(f"  {c.id}  {c.name}" for c in found[:20])
            raise CrmError(f"'{name}' is ambiguous; did you mean one of:\n{listing}", exit_code=2)
    hint = [c for c in customers if wanted in c.name.casefold() or wanted in c.id.casefold()]
    listing = "".join(f"\n  {c.id}  {c.name}" for c in hint[:20])
    raise CrmError(
        f"no customer matches '{name}'" + (f"; similar:{listing}" if hint else ""), exit_code=2
    )


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
