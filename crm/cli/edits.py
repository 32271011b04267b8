"""Edit commands: ``new``, ``log``, ``set``, ``unset``, ``snooze``, ``followup``, ``away``, ``edit``,
and the git side: ``git-setup``, ``git-merge-driver``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from crm.cli.common import Session, customer_argument, pass_session, today_option
from crm.cli.when import CLOCK, FUTURE, PAST, SPAN, typed_range
from crm.core import dates
from crm.core.errors import CrmError
from crm.core.model import STATUSES, Span

if TYPE_CHECKING:  # crm.edit is imported inside the commands that use it
    from crm.edit.changes import Change


def _path(session: Session, name: str) -> Path:
    return session.customer(name).location.path


def _change(session: Session, name: str, changes: Sequence[Change], dry_run: bool = False) -> None:
    """Apply ``changes`` to the customer ``name`` and print the diff (or that nothing changed)."""
    from crm.edit.changes import apply_changes

    path = _path(session, name)
    result = apply_changes(path, changes, dry_run=dry_run)
    if not result.changed:
        click.echo(f"{path}: nothing to change")
        return
    click.echo(result.diff(), nl=False)


def dry_run_option(f: click.decorators.FC) -> click.decorators.FC:
    """Add ``--dry-run``: show the diff, write nothing."""
    return click.option("--dry-run", is_flag=True, help="Show the change; write nothing.")(f)


@click.command()
@click.argument("full_name", metavar="'FULL NAME'")
@click.option("--tag", "tags", multiple=True, help="A tag (repeatable).")
@click.option("--email", "emails", multiple=True, help="An email address (repeatable).")
@click.option("--phone", "phones", multiple=True, help="A phone number (repeatable).")
@click.option("--company", help="The company.")
@click.option("--org", is_flag=True, help="An organisation: no first or last name is made up.")
@click.option("--contact", "contact_name", metavar="NAME", help="An organisation's contact person.")
@click.option("--status", type=click.Choice(STATUSES), help="lead, active, paused or lost.")
@click.option("--cadence", help="How often to get in touch, e.g. 30d, 6w, monthly.")
@click.option("--birthday", help="YYYY-MM-DD, or --MM-DD when the year is unknown.")
@click.option("--set", "extra", multiple=True, metavar="KEY=VALUE", help="Any other field.")
@today_option
@pass_session
def new(
    session: Session,
    full_name: str,
    tags: tuple[str, ...],
    emails: tuple[str, ...],
    phones: tuple[str, ...],
    company: str | None,
    org: bool,
    contact_name: str | None,
    status: str | None,
    cadence: str | None,
    birthday: str | None,
    extra: tuple[str, ...],
    today: date,
) -> None:
    """Create a customer file from templates/customer.md and print its path.

    Refuses to overwrite a file; warns (on stderr) when a customer with the same
    name or email exists. An organisation (--org, or NAME is its --company) gets
    no first or last name; messages greet its --contact person.

    \b
    Examples:
      crm new "Bella Rossi" --tag regular --cadence 6w --birthday --04-14
      $EDITOR "$(crm new 'Zoë Müller' --email zoe@example.de)"
      crm new "Springfield Dental Group" --org --contact "Dr. Ana Ruiz"
    """
    from crm.edit.changes import parse_change
    from crm.edit.new import new_customer

    fields: dict[str, object] = {}
    for key, many in (("email", emails), ("phone", phones)):
        if many:
            fields[key] = many[0] if len(many) == 1 else list(many)
    if tags:
        fields["tags"] = list(tags)
    named = (("company", company), ("contact", contact_name), ("status", status))
    kind = "org" if org else None
    for key, value in (*named, ("cadence", cadence), ("birthday", birthday), ("kind", kind)):
        if value is not None:
            fields[key] = value
    for text in extra:
        change = parse_change(text)
        if change.op != "=":
            raise CrmError(f"--set takes KEY=VALUE, not {text}", exit_code=2)
        fields[change.key] = change.value
    made = new_customer(session.root, session.config, full_name, fields, today=today)
    for warning in made.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(str(made.path))


@click.command()
@customer_argument
@click.argument("text")
@click.option("--kind", help="The entry's kind (call, visit, email, note, ...).")
@click.option(
    "--from-them", is_flag=True, help="They got in touch: a reply you owe ([kinds] inbound)."
)
@click.option(
    "--date",
    "day",
    type=PAST,
    metavar="DATE",
    help="The day of the contact (default: today): YYYY-MM-DD, yesterday, friday (the last "
    "one), 20 Dec (the last one), 20 Dec 2026, 20.12.2026.",
)
@click.option("--time", "at", type=CLOCK, metavar="HH:MM", help="The time of the contact.")
@today_option
@pass_session
def log(
    session: Session,
    name: str,
    text: str,
    kind: str | None,
    from_them: bool,
    day: date | None,
    at: time | None,
    today: date,
) -> None:
    """Append "- DATE kind: text" to the customer's ## Log section.

    TEXT starts with its kind ("call: ...") unless --kind gives it. A log line with
    today's date is how contact is recorded; nothing else in the file changes.
    A --date without a year, or a weekday, is the last such day on or before today.
    --from-them writes the first inbound kind (received): crm replies lists it
    until a contact entry answers it.

    \b
    Examples:
      crm log bella "call: asked about the spring offers"
      crm log bella --from-them "asked about prices"
      crm log bella "visit: trim" --date yesterday
      crm log zoe "trim and colour" --kind visit --date 2026-11-20 --time 15:30
    """
    from crm.edit.contact import log_contact

    if from_them and kind is not None:
        raise CrmError(
            "give --from-them or --kind, not both (--from-them writes the inbound kind)",
            exit_code=2,
        )
    if from_them:
        kind = session.config.kinds.from_them
    if kind is None:
        m = re.fullmatch(r"([A-Za-z][\w-]*):[ \t]*(.*)", text.strip(), re.DOTALL)
        if m is None:
            raise CrmError(
                f"no kind in '{text}': write 'call: {text}' or pass --kind call", exit_code=2
            )
        kind, text = m[1], m[2]
    path = _path(session, name)
    config = session.config
    logged = log_contact(path, (day or today, kind, text), at, root=session.root, config=config, today=today)  # fmt: skip
    number, line = logged.result.added()[-1]
    click.echo(f"{path}:{number}: {line}")
    if (over := logged.over) is not None:  # logged anyway: it happened
        click.echo(
            f"warning: {over.customer.name} is over max_contacts {over.cap}: "
            f"{over.count} entries since {over.since}",
            err=True,
        )


@click.command("set")
@customer_argument
@click.argument("changes", nargs=-1, required=True, metavar="KEY=VALUE...")
@dry_run_option
@pass_session
def set_(session: Session, name: str, changes: tuple[str, ...], dry_run: bool) -> None:
    """Change front-matter fields; prints the diff. Lists take KEY+=ITEM and KEY-=ITEM.

    Values are validated as crm check validates them; nothing is written when one fails.

    \b
    Examples:
      crm set bella cadence=14d status=active
      crm set bella tags+=vip likes-=espresso
      crm set bella "next_contact=2026-12-01 14:30" --dry-run
    """
    from crm.edit.changes import parse_change

    _change(session, name, [parse_change(c) for c in changes], dry_run)


@click.command()
@customer_argument
@click.argument("keys", nargs=-1, required=True, metavar="KEY...")
@dry_run_option
@pass_session
def unset(session: Session, name: str, keys: tuple[str, ...], dry_run: bool) -> None:
    """Remove front-matter fields (and their value lines); prints the diff.

    \b
    Example:
      crm unset bella snooze_until away
    """
    from crm.edit.changes import Change

    _change(session, name, [Change(k, "unset") for k in keys], dry_run)


@click.command()
@customer_argument
@click.option(
    "--until",
    "until",
    type=FUTURE,
    metavar="DATE",
    help="Leave alone until this day: YYYY-MM-DD, tomorrow, friday, 20 Dec (the next one), ...",
)
@click.option(
    "--for", "span", type=SPAN, metavar="SPAN", help="Leave alone for 2w, 30d, 2 weeks, 3 months."
)
@today_option
@dry_run_option
@pass_session
def snooze(
    session: Session, name: str, until: date | None, span: Span | None, today: date, dry_run: bool
) -> None:
    """Leave a customer out of overdue lists until a day (sets snooze_until).

    \b
    Examples:
      crm snooze bella --for 2w
      crm snooze bella --for "3 months"
      crm snooze bella --until 2027-01-10
      crm snooze bella --until "10 Jan"
    """
    from crm.edit.changes import Change

    if (until is None) == (span is None):
        raise CrmError("give exactly one of --until DATE or --for SPAN", exit_code=2)
    day = until if until is not None else dates.add_span(today, span or Span(0, "d"))
    _change(session, name, [Change("snooze_until", "=", day.isoformat())], dry_run)


@click.command()
@customer_argument
@click.argument("day", type=FUTURE, metavar="DATE")
@click.argument("at", type=CLOCK, metavar="[TIME]", required=False)
@click.option("--time", "at_option", type=CLOCK, metavar="HH:MM", help="The time, as for log.")
@today_option
@dry_run_option
@pass_session
def followup(
    session: Session,
    name: str,
    day: date,
    at: time | None,
    at_option: time | None,
    today: date,
    dry_run: bool,
) -> None:
    """Plan the next contact on DATE, optionally at TIME (sets next_contact).

    DATE is YYYY-MM-DD, tomorrow, a weekday (the next one), 20 Dec (the next one),
    20 Dec 2026 or 20.12.2026; TIME is HH:MM, given after DATE or as --time.

    \b
    Examples:
      crm followup bella 2026-12-01
      crm followup bella 2026-12-01 14:30
      crm followup bella friday --time 9:30
    """
    from crm.core import localtime
    from crm.edit.changes import Change

    if at is not None and at_option is not None:
        raise click.UsageError("give the time once: DATE TIME or --time TIME")
    value, edge = localtime.planned(day, at or at_option, session.config.timezone)
    if edge is not None:  # a skipped time moves forward, a repeated one is the first
        click.echo(f"note: {edge}; the follow-up is at {edge.read_as()}", err=True)
    _change(session, name, [Change("next_contact", "=", value)], dry_run)


@click.command()
@customer_argument
@click.argument("start", metavar="FROM")
@click.argument("end", metavar="[TO]", nargs=-1)
@today_option
@dry_run_option
@pass_session
def away(
    session: Session, name: str, start: str, end: tuple[str, ...], today: date, dry_run: bool
) -> None:
    """Mark a customer away from FROM to TO, inclusive (sets away): FROM TO or FROM..TO.

    Each day is YYYY-MM-DD, tomorrow, a weekday (the next one), 20 Dec (the next one),
    20 Dec 2026 or 20.12.2026.

    \b
    Examples:
      crm away bella 2026-12-20 2027-01-06
      crm away bella 2026-12-20..2027-01-06
      crm away bella 20 Dec 6 Jan
    """
    from crm.edit.changes import Change

    first, last = typed_range(start, end, today=today)
    _change(session, name, [Change("away", "=", f"{first}..{last}")], dry_run)


@click.command()
@customer_argument
@pass_session
def edit(session: Session, name: str) -> None:
    """Open the customer's file in $VISUAL or $EDITOR, then check it.

    Problems go to stderr as path:line: message; exits 1 when there are errors.

    \b
    Example:
      crm edit bella
    """
    from crm.report.render import problems_text
    from crm.vault.parse import parse_path

    path = _path(session, name)
    click.edit(filename=str(path))
    _, problems = parse_path(path, session.root, date_order=session.config.date_order)
    if problems:
        click.echo(problems_text(problems), nl=False, err=True)
    if any(p.severity == "error" for p in problems):
        raise SystemExit(1)


@click.command("git-setup")
@pass_session
def git_setup(session: Session) -> None:
    """Set up this clone for merging customer files (once per clone).

    Writes "*.md merge=crm" to the vault's .gitattributes and registers the
    driver in the repository's .git/config: concurrent log entries then merge
    cleanly, and a key both sides changed differently becomes a conflict.

    \b
    Example:
      git clone host:customers && cd customers
      crm git-setup
    """
    from crm.edit.gitmerge import setup

    done = setup(session.root)
    for line in done or ["already set up; nothing to do"]:
        click.echo(line)


@click.command("git-merge-driver", hidden=True)
@click.argument("base", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("ours", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("theirs", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("name", required=False)
def git_merge_driver(base: Path, ours: Path, theirs: Path, name: str | None) -> None:
    """Merge three versions of a customer file for git (%O %A %B %P); the result goes to %A.

    Exits 0 on a clean merge, 1 when conflict markers were left, 2 when a file cannot be
    read (%A is then left as it was, and git reports the file as conflicted).

    \b
    Example (git runs it as crm git-setup registered it):
      crm git-merge-driver base.md ours.md theirs.md bella-rossi.md
    """
    from crm.edit.atomic import read
    from crm.edit.gitmerge import merge

    try:
        (old, _), (mine, _), (other, _) = read(base), read(ours), read(theirs)
    except CrmError as exc:
        raise CrmError(f"git-merge-driver: {exc}", exit_code=2) from None
    result = merge(old, mine, other)
    try:
        ours.write_bytes(result.data)
    except OSError as exc:
        raise CrmError(f"git-merge-driver: cannot write {ours}: {exc.strerror or exc}") from None
    if result.conflicts:
        click.echo(f"crm: {result.conflicts} conflict(s) in {name or ours}", err=True)
        raise SystemExit(1)


COMMANDS = [new, log, set_, unset, snooze, followup, away, edit, git_setup, git_merge_driver]
