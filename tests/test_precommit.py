"""The pre-commit hook: its entry, run the way pre-commit runs it, on a real vault."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import EXAMPLE, REPO, WriteVault


def hook() -> dict[str, Any]:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert [h["id"] for h in hooks] == ["crm-check"]
    found: dict[str, Any] = hooks[0]
    return found


def run_hook(cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the hook's entry in ``cwd`` as pre-commit does: no file names, the venv on PATH."""
    h = hook()
    assert h["pass_filenames"] is False
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("CRM_VAULT", None)
    return subprocess.run(
        shlex.split(h["entry"]) + h.get("args", []),
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_hook_declares_a_python_hook_on_vault_files() -> None:
    h = hook()
    assert h["entry"] == "crm check"
    assert h["language"] == "python"
    assert "files" in h and "crm\\.toml" in h["files"]


def test_hook_fails_with_the_located_message_on_a_broken_file(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "good.md": "---\nname: Ann Lee\nfirst_name: Ann\n---\n",
            "broken.md": "---\nname: Bo Chan\nfirst_name: Bo\nstatus: gone\n---\n",
        }
    )
    result = run_hook(root)
    assert result.returncode == 1
    # Problems on stderr (like bean-check), paths relative to the folder the hook runs in.
    assert result.stderr == (
        "broken.md:4: status must be one of lead, active, paused, lost, not 'gone'\n"
    )
    assert result.stdout == ""


def test_hook_passes_on_a_clean_vault() -> None:
    result = run_hook(EXAMPLE)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
