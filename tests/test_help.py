"""Every command, hidden ones included, has help text with an example (as sqlite-utils tests it)."""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from crm.cli import main


def loaded(group: click.Group) -> dict[str, click.Command]:
    """Return every command of ``group`` by name (the top group loads them on use)."""
    ctx = click.Context(group)
    found = {name: group.get_command(ctx, name) for name in group.list_commands(ctx)}
    return {name: command for name, command in found.items() if command is not None}


def commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Yield the words that name every command under ``group``, walking subgroups too."""
    for name, command in sorted(loaded(group).items()):
        yield (*path, name)
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))


ALL = list(commands(main))


def test_the_walk_finds_every_command_of_every_cli_module() -> None:
    import importlib
    import pkgutil

    import crm.cli

    found = (
        importlib.import_module(f"crm.cli.{m.name}") for m in pkgutil.iter_modules(crm.cli.__path__)
    )
    modules = [m for m in found if hasattr(m, "COMMANDS")]
    assert len(modules) == 10
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


def test_the_command_table_matches_the_commands() -> None:
    """``crm --help`` lists the commands from a table: it must say what each command says."""
    from crm.cli import HIDDEN, TABLE, short_help

    for name, command in loaded(main).items():
        module = TABLE[name][0]
        assert command.callback is not None
        assert command.callback.__module__ == f"crm.cli.{module}"
        for limit in (30, 45, 60, 200):
            want = command.get_short_help_str(limit)
            assert short_help(name, limit) == want, name
        assert command.hidden == (name in HIDDEN), name


def test_help_imports_click_and_the_table_only() -> None:
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from crm.cli import main\n"
        "try:\n"
        "    main(['--help'], prog_name='crm')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('crm')), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0
    assert "  winback   " in result.stdout
    assert "git-merge-driver" not in result.stdout
    assert result.stderr == "['crm', 'crm.cli']\n"
