"""The ``crm`` command: a thin click layer over the core modules.

``crm --help`` imports click and the command table below, nothing else: each command's module
is imported when that command runs (tests check the table against the commands).
"""

from __future__ import annotations

import gc
import importlib
from typing import Any

import click

from crm import __version__

# Every command: the module of crm.cli that defines it, and the first line of its help.
TABLE: dict[str, tuple[str, str]] = {
    "agenda": (
        "reports",
        "Today's digest: replies owed, overdue, due, the next 14 days, rewards, problems.",
    ),
    "away": (
        "edits",
        "Mark a customer away from FROM to TO, inclusive (sets away): FROM TO or FROM..TO.",
    ),
    "check": (
        "vault_cmds",
        "Lint every customer file and message template; print problems as path:line: message.",
    ),
    "closed": (
        "closed",
        "Add a closure from FROM to TO, inclusive (FROM TO or FROM..TO), list or remove one.",
    ),
    "digest": ("digest", "The daily agenda as a message: print it, or mail it with --send."),
    "draft": (
        "outreach",
        "Write one personal draft per customer from templates/messages/TEMPLATE.md.",
    ),
    "edit": ("edits", "Open the customer's file in $VISUAL or $EDITOR, then check it."),
    "export": ("transfer", "Write customers to stdout as vCard, CSV or JSON, sorted by name."),
    "feed-url": ("feed", "Print the secret URL to subscribe to (http and webcal forms)."),
    "followup": ("edits", "Plan the next contact on DATE, optionally at TIME (sets next_contact)."),
    "git-merge-driver": (
        "edits",
        "Merge three versions of a customer file for git (%O %A %B %P); the result goes to %A.",
    ),
    "git-setup": ("edits", "Set up this clone for merging customer files (once per clone)."),
    "ics": ("feed", "Write the iCalendar feed: dates, follow-ups and reach-out reminders."),
    "import": (
        "transfer",
        "Import customers from a vCard (.vcf) or CSV file; importing twice changes nothing.",
    ),
    "index": ("index_cmd", "Update the index (.crm/index.sqlite) that every command answers from."),
    "init": (
        "vault_cmds",
        "Create an empty vault in FOLDER (default: here); never overwrites a file.",
    ),
    "labels": (
        "transfer",
        "Address labels for cards and letters: text, CSV or a printable PDF sheet.",
    ),
    "list": ("reports", "List customers (id, name, status, tags), sorted by name."),
    "log": ("edits", 'Append "- DATE kind: text" to the customer\'s ## Log section.'),
    "new": ("edits", "Create a customer file from templates/customer.md and print its path."),
    "noisy": ("reports", "Customers contacted more often than their max_contacts allows."),
    "outbox": (
        "outreach",
        "List the campaigns in the outbox, or the drafts of CAMPAIGN and their status.",
    ),
    "overdue": ("reports", "Who to contact now, most overdue first, with what they like."),
    "replies": (
        "reports",
        "Replies you owe: customers who asked something you have not answered yet.",
    ),
    "rewards": ("reports", "Rewards due, or one visit away, by the [[rewards]] of crm.toml."),
    "search": ("reports", "Find customers whose name, fields or notes contain every word of TEXT."),
    "send": ("sending", "Send the email drafts of CAMPAIGN by SMTP, and write links for texts."),
    "sent": ("sending", "Mark drafts you sent by hand (the links) as sent, and log them back."),
    "serve": (
        "feed",
        "Serve the feed and the phone page at a secret URL, current as the vault changes.",
    ),
    "set": (
        "edits",
        "Change front-matter fields; prints the diff. Lists take KEY+=ITEM and KEY-=ITEM.",
    ),
    "show": (
        "reports",
        "One customer's profile: details, likes, next dates, contact rhythm, latest log.",
    ),
    "snooze": ("edits", "Leave a customer out of overdue lists until a day (sets snooze_until)."),
    "thanks": (
        "transfer",
        "Loyal customers who have not been thanked lately: send a card or a reward.",
    ),
    "unset": ("edits", "Remove front-matter fields (and their value lines); prints the diff."),
    "upcoming": (
        "reports",
        "Birthdays, anniversaries, dates, follow-ups and due dates in the next DAYS days.",
    ),
    "watch": ("feed", "Watch the vault and keep an .ics file current; one log line per rebuild."),
    "winback": (
        "transfer",
        "Lost customers worth winning back, with what they liked and how long ago they left.",
    ),
}

# Commands left out of the listing (git runs them, people don't).
HIDDEN = ("git-merge-driver",)


def short_help(name: str, limit: int) -> str:
    """Return the command's line in ``crm --help``, cut to ``limit`` as click cuts it."""
    return click.Command(name, help=TABLE[name][1]).get_short_help_str(limit)


class CrmGroup(click.Group):
    """A group that loads its commands from ``TABLE`` on use, and turns every ``CrmError``
    into one message and its exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(TABLE)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in TABLE:
            return None
        module = importlib.import_module(f"crm.cli.{TABLE[cmd_name][0]}")
        commands: list[click.Command] = module.COMMANDS
        return next(c for c in commands if c.name == cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # From the table, so that listing the commands imports none of them.
        limit = formatter.width - 6 - max(map(len, TABLE))
        shown = sorted(set(TABLE) - set(HIDDEN))
        rows = [(name, short_help(name, limit)) for name in shown]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        from crm.cli.screen import printable_output
        from crm.core.errors import CrmError

        with printable_output():
            try:
                return super().invoke(ctx)
            except CrmError as exc:
                click.echo(f"crm: {exc}", err=True)
                ctx.exit(exc.exit_code)


# color=True: click never strips escape sequences itself (it would only where stdout is no
# terminal, and would change a CSV cell); crm.cli.screen shows them in text and keeps them exact
# in JSON and CSV.
@click.group(cls=CrmGroup, context_settings={"help_option_names": ["-h", "--help"], "color": True})
@click.option(
    "--vault",
    metavar="DIR",
    help="The vault folder (default: $CRM_VAULT, else the nearest folder with crm.toml).",
)
@click.version_option(__version__, prog_name="crm")
@click.pass_context
def main(ctx: click.Context, vault: str | None) -> None:
    """A plain-text, git-friendly CRM: one Markdown file per customer.

    \b
    Examples:
      crm init my-vault            create a new vault
      crm --vault my-vault check   lint every customer file
      crm agenda                   today's digest: who to contact, what's coming
    """
    # A command builds many small objects that live until it ends (rows, customers, events);
    # the default threshold (700) runs the cycle collector over them again and again, a quarter
    # of a big report's time. It still runs, every 100,000 allocations (also in serve and watch).
    gc.set_threshold(100_000, 50, 100)
    from crm.cli.common import Session

    ctx.obj = Session(vault)
