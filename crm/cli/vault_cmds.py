"""Commands about the vault itself: ``init``, ``check``."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from crm.cli.common import Session, format_option, near, pass_session, today_option
from crm.edit.init import init_vault
from crm.edit.starters import LANGUAGES
from crm.report.render import PROBLEM_COLUMNS, Format, problem_rows, problems_text, render
from crm.rules.check import Check, future_contacts, run_checks, skipped_times, unknown_kinds

if TYPE_CHECKING:
    from crm.core.config import Config
    from crm.core.model import Problem
    from crm.vault.load import Vault


@click.command()
@click.argument("folder", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--example", is_flag=True, help="Add a sample customer to try the commands on.")
@click.option(
    "--language",
    type=click.Choice(LANGUAGES),
    default="en",
    show_default=True,
    help="The language of the starter message templates (and [business] language).",
)
def init(folder: Path, example: bool, language: str) -> None:
    """Create an empty vault in FOLDER (default: here); never overwrites a file.

    It holds crm.toml, templates/customer.md (what crm new fills in), five starter message
    templates in templates/messages/ (holiday, birthday, thanks, offer, winback) and .gitignore.

    \b
    Examples:
      crm init ~/customers && cd ~/customers && crm new "Bella Rossi"
      crm init --language de ~/kunden
      crm init --example ~/try-crm && crm --vault ~/try-crm agenda
    """
    for path in init_vault(folder, example=example, language=language):
        click.echo(f"created {path}")


@click.command()
@format_option
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@today_option
@pass_session
def check(session: Session, fmt: Format, strict: bool, today: date) -> None:
    """Lint every customer file and message template; print problems as path:line: message.

    Also warns about customers who share an email or phone number but not a name
    (possible duplicates), and about an opt_out word that names nothing crm knows.
    Exits 1 when there are errors (or warnings with --strict), else 0. Temporary files
    that a killed crm left (.NAME.PID.RANDOM.tmp) are removed, with a warning for each
    one that stays.

    \b
    Examples:
      crm check
      crm check --format json | jq '.[].message'
    """
    from crm.edit.gitmerge import check_driver  # git plumbing only for `crm check`
    from crm.outreach.templates import check_templates, template_words
    from crm.rules.duplicates import possible_duplicates
    from crm.rules.respect import unknown_opt_outs
    from crm.vault.parse import key_line

    def plans(vault: Vault, config: Config) -> list[Problem]:
        return future_contacts(vault, config, today)

    def templates(vault: Vault, config: Config) -> list[Problem]:
        from crm.outreach.occasions import check_names

        named = check_names(session.root, config, today)
        return check_templates(session.root, config.kinds) + named

    def opt_outs(vault: Vault, config: Config) -> list[Problem]:
        known = template_words(session.root)
        return unknown_opt_outs(
            vault.customers, config, known, lambda c: key_line(c.location.path, "opt_out")
        )

    def temporaries(vault: Vault, config: Config) -> list[Problem]:
        from crm.cli import clock
        from crm.edit.atomic import leftovers

        return leftovers(session.root, clock.now())

    def times(vault: Vault, config: Config) -> list[Problem]:
        return skipped_times(vault, config, lambda c: key_line(c.location.path, "next_contact"))

    checks: list[Check] = [
        check_driver, unknown_kinds, plans, templates, possible_duplicates, opt_outs, temporaries,
        times,
    ]  # fmt: skip
    found = run_checks(session.vault(), session.config, session.config_problems, checks)
    problems = near(found)
    if fmt == "table":
        # Like bean-check and compilers: the problems go to stderr, so stdout stays for data.
        click.echo(problems_text(problems), nl=False, err=True)
    else:
        click.echo(render(problem_rows(problems), PROBLEM_COLUMNS, fmt), nl=False)
    failing = [p for p in problems if strict or p.severity == "error"]
    raise SystemExit(1 if failing else 0)


COMMANDS = [init, check]
