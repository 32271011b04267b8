"""Shell completion through click: customer ids for every command that takes NAME."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from crm.cli import main
from crm.cli.common import _complete_customers
from tests.conftest import EXAMPLE
from tests.test_help import loaded


def complete(shell: str, words: str, cword: int, cwd: Path | None = None) -> str:
    """Return what ``crm`` prints when ``shell`` asks it to complete ``words``."""
    env = {"_CRM_COMPLETE": f"{shell}_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    result = CliRunner().invoke(main, [], prog_name="crm", env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_show_completes_customer_ids_by_id_prefix() -> None:
    out = complete("bash", f"crm --vault {EXAMPLE} show ana", 4)
    assert out == "plain,ana-garcia\n"


def test_show_completes_by_name_prefix_and_zsh_shows_the_name() -> None:
    assert complete("bash", f"crm --vault {EXAMPLE} show Zo", 4) == "plain,zoe-muller\n"
    out = complete("zsh", f"crm --vault {EXAMPLE} show Zo", 4)
    assert out == "plain\nzoe-muller\nZoë Müller\n"


def test_empty_word_offers_every_customer() -> None:
    out = complete("bash", f"crm --vault {EXAMPLE} show ''", 4)
    assert len(out.splitlines()) == 22
    assert "plain,marcus-oneill" in out.splitlines()


def name_commands() -> list[str]:
    """Return the commands whose NAME argument completes customers (show, log, set, ...)."""
    found = []
    for name, command in sorted(loaded(main).items()):
        for param in command.params:
            if (
                isinstance(param, click.Argument)
                and getattr(param, "_custom_shell_complete", None) is _complete_customers
            ):
                found.append(name)
    return found


def test_show_is_among_the_completing_commands() -> None:
    assert "show" in name_commands()


@pytest.mark.parametrize("command", name_commands())
def test_every_name_command_completes(command: str) -> None:
    out = complete("bash", f"crm --vault {EXAMPLE} {command} gr", 4)
    assert out == "plain,grace-okafor\n"


def test_no_vault_completes_nothing(tmp_path: Path) -> None:
    env = {
        "_CRM_COMPLETE": "bash_complete",
        "COMP_WORDS": f"crm --vault {tmp_path / 'missing'} show a",
        "COMP_CWORD": "4",
    }
    result = CliRunner().invoke(main, [], prog_name="crm", env=env)
    assert (result.exit_code, result.output.strip()) == (0, "")


def test_installed_crm_script_completes_in_a_vault_folder() -> None:
    """The documented bash path: the real ``crm`` script, finding the vault from the folder."""
    crm = Path(sys.executable).parent / "crm"
    env = {
        **os.environ,
        "_CRM_COMPLETE": "bash_complete",
        "COMP_WORDS": "crm show li",
        "COMP_CWORD": "2",
    }
    env.pop("CRM_VAULT", None)
    result = subprocess.run(
        [str(crm)], cwd=EXAMPLE, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert (result.returncode, result.stdout) == (0, "plain,li-wei\n")


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_each_shell_gets_a_completion_script(shell: str) -> None:
    result = CliRunner().invoke(main, [], prog_name="crm", env={"_CRM_COMPLETE": f"{shell}_source"})
    assert result.exit_code == 0
    assert "_CRM_COMPLETE" in result.output
