"""Commands that move people in and out and look after them: thanks, winback, import, export, labels."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

import click

from crm.cli.common import (
    Session,
    emit_rows,
    first,
    format_option,
    limit_option,
    machine_format,
    pass_session,
    safe_csv_option,
    today_option,
)
from crm.cli.filters import filter_options
from crm.core.dates import parse_span
from crm.core.errors import CrmError
from crm.core.model import Span
from crm.report import rows
from crm.report.render import Format
from crm.rules import loyalty
from crm.rules.filters import CustomerFilter


def _span(ctx: click.Context, param: click.Parameter, value: str | None) -> Span | None:
    if value is None:
        return None
    try:
        return parse_span(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command()
@click.option(
    "--period",
    metavar="SPAN",
    callback=_span,
    help="Thanked within this span counts as lately (e.g. 90d, 6m; default from crm.toml, 90d).",
)
@click.option(
    "--min-visits",
    type=click.IntRange(0),
    help="Visits/purchases in the last year that make a customer loyal (default 3).",
)
@click.option(
    "--min-value",
    type=click.FloatRange(0),
    help="A value that makes a customer loyal on its own (default 2000).",
)
@limit_option
@format_option
@today_option
@pass_session
def thanks(
    session: Session,
    period: Span | None,
    min_visits: int | None,
    min_value: float | None,
    limit: int | None,
    fmt: Format,
    today: date,
) -> None:
    """Loyal customers who have not been thanked lately: send a card or a reward.

    Loyal means at least --min-visits visit/purchase log entries in the last year,
    or a value of at least --min-value. A thanks, gift or card log entry inside
    --period counts as thanked. Lost and paused customers are left out.

    \b
    Examples:
      crm thanks
      crm thanks --period 6m --format csv
      crm thanks --limit 25
    """
    found = session.collection.thanked(period, min_visits, min_value, limit or 0)
    emit_rows(
        [rows.thanks_row(x) for x in found.shown],
        rows.THANKS_COLUMNS,
        fmt,
        "Everyone loyal has been thanked lately.",
    )


@click.command()
@click.option(
    "--min-value",
    type=click.FloatRange(0),
    help="Only lost customers with at least this value (default from crm.toml, 1000).",
)
@limit_option
@format_option
@today_option
@pass_session
def winback(
    session: Session, min_value: float | None, limit: int | None, fmt: Format, today: date
) -> None:
    """Lost customers worth winning back, with what they liked and how long ago they left.

    How long ago is counted from their last contact.

    \b
    Examples:
      crm winback
      crm winback --min-value 500 --format json
    """
    config = session.config
    floor = config.loyalty.winback_min_value if min_value is None else min_value
    customers = session.collection.candidates(lost_worth=floor)
    found = loyalty.winback(
        customers, config.loyalty, today, kinds=config.kinds, min_value=min_value
    )
    emit_rows(
        [rows.winback_row(x) for x in first(found, limit)],
        rows.WINBACK_COLUMNS,
        fmt,
        "Nobody lost is worth winning back.",
    )


@click.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["vcard", "csv", "json"]),
    callback=machine_format,
    default="vcard",
    show_default=True,
    help="vcard (3.0, for phones and address books), csv (spreadsheets) or json (everything).",
)
@filter_options
@today_option
@safe_csv_option
@pass_session
def export(
    session: Session,
    fmt: str,
    filters: CustomerFilter,
    today: date,
) -> None:
    """Write customers to stdout as vCard, CSV or JSON, sorted by name.

    vCard carries names, emails, phones, company, address, tags, birthday,
    anniversary and notes, plus status, value, likes and the like as X-CRM-*
    properties, so `crm import` reads it back to the same customers. JSON carries
    everything a file holds, including dates and the log.

    \b
    Examples:
      crm export > customers.vcf
      crm export --format csv --tag vip > vips.csv
      crm export --format json --status lost
    """
    from crm.contacts.exporter import export as render_export

    customers = filters.select(session.vault().customers)
    fmt_: Any = fmt
    click.echo(render_export(customers, fmt_, session.config.kinds, today), nl=False)


def _mapping(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in value:
        column, sep, key = item.partition("=")
        if not sep or not column:
            raise click.BadParameter(f"'{item}' is not COLUMN=FIELD")
        found[column] = key.strip()
    return found


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would be added or changed; write nothing.")
@click.option(
    "--map",
    "mapping",
    multiple=True,
    metavar="COLUMN=FIELD",
    callback=_mapping,
    help="CSV only: read COLUMN into FIELD (e.g. 'Kundennummer=segment'; 'COLUMN=' ignores it).",
)
@today_option
@pass_session
def import_(
    session: Session, file: Path, dry_run: bool, mapping: dict[str, str], today: date
) -> None:
    """Import customers from a vCard (.vcf) or CSV file; importing twice changes nothing.

    A card matches an existing customer (or an earlier card) by its UID, by an
    email or phone together with an agreeing name, or by its full name; a match
    only gains what it lacks (new emails, phones, tags, empty fields), and values
    that differ are kept and reported. A card that shares an email or phone with
    someone of another name is a new customer, listed as a possible duplicate.
    New customers are created like `crm new`.
    Prints every change as a diff. A malformed card or row is reported as
    file:line and skipped; a card with one bad value (a birthday that is not a
    date) is imported without it, and reported. The exit code is then 1.

    \b
    Examples:
      crm import contacts.vcf --dry-run
      crm import google.csv
      crm import shop.csv --map "Kunde=name" --map "Umsatz=value"
    """
    from crm.contacts import csvcards, importer, vcard
    from crm.contacts.cards import decode, is_dropped

    text = decode(file.read_bytes())
    is_vcard = file.suffix.lower() in (".vcf", ".vcard") or (
        file.suffix.lower() != ".csv" and text.lstrip().upper().startswith("BEGIN:VCARD")
    )
    if is_vcard and mapping:
        raise CrmError("--map applies to CSV files only", exit_code=2)
    if is_vcard:
        cards, problems = vcard.parse_vcards(text, file)
    else:
        cards, problems = csvcards.parse_csv(text, file, mapping)
    root = session.root
    region = session.config.business.region
    plan = importer.plan_import(cards, session.vault().customers, region=region)
    outcome = importer.apply_plan(root, session.config, plan, today=today, dry_run=dry_run)
    for result in outcome.created:
        click.echo(f"new: {result.path}")
        click.echo(_new_file_diff(result.after, result.path.name), nl=False)
    for result in outcome.edited:
        if result.changed:
            click.echo(f"changed: {result.path}")
            click.echo(result.diff(), nl=False)
    for update in plan.updates:
        for note in update.kept:
            click.echo(f"{update.customer.location.path}: {note}")
    duplicates = importer.duplicate_notes(plan, outcome)
    for note in duplicates:
        click.echo(note)
    problems = [*problems, *outcome.problems]
    for p in problems:
        click.echo(str(p), err=True)
    changed = sum(1 for r in outcome.edited if r.changed)
    dropped = sum(1 for p in problems if is_dropped(p))
    summary = (
        f"{len(outcome.created)} new, {changed} changed, {plan.unchanged} unchanged, "
        f"{len(problems) - dropped} skipped"
    ) + (f", {dropped} value{'s' if dropped != 1 else ''} left out" if dropped else "")
    if duplicates:
        summary += f", {_count(len(duplicates), 'possible duplicate')} (see crm check)"
    click.echo(summary + (" (dry run: nothing written)" if dry_run else ""))
    if problems:
        raise SystemExit(1)


def _new_file_diff(text: str, name: str) -> str:
    import difflib

    lines = text.splitlines(keepends=True)
    diff = difflib.unified_diff([], lines, fromfile="/dev/null", tofile=f"b/{name}", n=0)
    return "".join(line if line.endswith("\n") else line + "\n" for line in diff)


# Where Debian (fonts-dejavu-core), Fedora and macOS keep a font with most of Unicode.
LABEL_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
    "/Library/Fonts/Arial Unicode.ttf",
)


@click.command()
@filter_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "csv", "pdf"]),
    callback=machine_format,
    default="text",
    show_default=True,
    help="text, csv (a column per address part, for mail merge) or pdf (a sheet to print).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE (atomically) instead of stdout.",
)
@click.option(
    "--layout",
    type=click.Choice(["3x7", "3x10"]),
    default="3x7",
    show_default=True,
    help="PDF sheet: 3x7 on A4 (63.5 x 38.1 mm labels) or 3x10 on US Letter (Avery 5160).",
)
@click.option(
    "--font",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A TrueType font for the PDF (default: DejaVu Sans when installed).",
)
@click.option(
    "--all",
    "everyone",
    is_flag=True,
    help="Also those who opted out of every message (opt_out: all), e.g. for an invoice.",
)
@today_option
@safe_csv_option
@pass_session
def labels(
    session: Session,
    filters: CustomerFilter,
    fmt: str,
    output: Path | None,
    layout: str,
    font: Path | None,
    everyone: bool,
    today: date,
) -> None:
    """Address labels for cards and letters: text, CSV or a printable PDF sheet.

    Everyone the filters keep, but lost customers (unless --status lost) and those
    who opted out of every message (unless --all), sorted by name. Customers without
    a usable address are listed on stderr, never skipped silently.

    \b
    Examples:
      crm labels --tag regular
      crm labels --format pdf -o cards.pdf --city Berlin
      crm labels --format pdf --layout 3x10 -o labels.pdf
      crm labels --format csv > addresses.csv
    """
    from crm.report import labels as sheet

    chosen_ones = filters.select(session.vault().customers)
    kept = [c for c in chosen_ones if c.status != "lost" or filters.status == "lost"]
    reached = [c for c in kept if everyone or not c.no_contact]
    made = sheet.make_labels(reached)
    for c, why in made.missing:
        click.echo(f"{c.location.path}: no label for {c.name}: {why}", err=True)
    if fmt == "pdf":
        if output is None and sys.stdout.isatty():
            raise CrmError("a PDF is not for the terminal: add -o FILE", exit_code=2)
        font = font or next((Path(p) for p in LABEL_FONTS if Path(p).is_file()), None)
        if font is None:
            click.echo("warning: no Unicode font found (--font FILE); using Helvetica", err=True)
        chosen: Any = layout
        data = sheet.labels_pdf(made, chosen, font, today)
    else:
        text = sheet.labels_csv(made) if fmt == "csv" else sheet.labels_text(made)
        data = text.encode("utf-8")
    if output is None:
        click.echo(data, nl=False)
    else:
        from crm.edit.atomic import write as write_atomic

        write_atomic(output, data)
    summary = f"{_count(len(made.labels), 'label')}, {len(made.missing)} without an address"
    if lost := len(chosen_ones) - len(kept):
        summary += f", {_count(lost, 'lost customer')} left out (--status lost)"
    if silent := len(kept) - len(reached):
        summary += f", {silent} opted out of every message left out (--all)"
    click.echo(summary, err=True)


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}" + ("" if n == 1 else "s")


COMMANDS = [thanks, winback, export, import_, labels]
