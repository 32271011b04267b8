"""The ``crm`` command: a thin click layer over the core modules."""

from __future__ import annotations

from typing import Any

import click

from crm import __version__
from crm.cli.common import Session
from crm.core.errors import CrmError


class CrmGroup(click.Group):
    """A group that turns every ``CrmError`` into one message and its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CrmError as exc:
            click.echo(f"crm: {exc}", err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=CrmGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
    ctx.obj = Session(vault)


def _register() -> None:
    from crm.cli import (
        closed,
        digest,
        edits,
        feed,
        index_cmd,
        outreach,
        reports,
        sending,
        transfer,
        vault_cmds,
    )

    modules = (
        vault_cmds,
        reports,
        digest,
        edits,
        closed,
        outreach,
        sending,
        transfer,
        feed,
        index_cmd,
    )
    for module in modules:
        for command in module.COMMANDS:
            main.add_command(command)


_register()
