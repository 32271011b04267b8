"""Every command, hidden ones included, has help text with an example (as sqlite-utils tests it)."""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from crm.cli import main


def commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Yield the words that name every command under ``group``, walking subgroups too."""
    for name, command in sorted(group.commands.items()):
        yield (*path, name)
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))


ALL = list(commands(main))


def test_the_walk_finds_every_command_of_every_cli_module() -> None:
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
    defined = sorted((c.name or "",) for m in modules for c in m.COMMANDS)
    assert sorted(ALL) == defined
    assert ("git-merge-driver",) in ALL  # hidden from the listing, not from the walk


@pytest.mark.parametrize("path", [(), *ALL], ids=lambda path: " ".join(("crm", *path)))
def test_help_exits_0_and_shows_an_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*path, "--help"], prog_name="crm")
    assert (result.exit_code, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"Usage: {' '.join(('crm', *path))} ")
    assert any(line.lstrip().startswith("Example") for line in lines)
    assert any(line.lstrip().startswith("crm ") for line in lines)
