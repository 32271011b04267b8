"""The house rules of crm/, checked on the source: sizes, private names, the clock, the layers."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "crm"
MODULES = sorted(PACKAGE.rglob("*.py"))
LAYERS = (
    "core",
    "vault",
    "rules",
    "edit",
    "index",
    "feed",
    "contacts",
    "outreach",
    "report",
    "web",
    "cli",
)


def _rel(path: Path) -> str:
    return path.relative_to(PACKAGE.parent).as_posix()


def test_no_module_is_over_400_lines() -> None:
    sizes = {_rel(p): len(p.read_text(encoding="utf-8").splitlines()) for p in MODULES}
    assert {m: n for m, n in sizes.items() if n > 400} == {}


def test_every_module_lives_in_a_layer() -> None:
    loose = [_rel(p) for p in MODULES if p.parent == PACKAGE]
    assert loose == ["crm/__init__.py", "crm/__main__.py"]
    assert sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__") == (
        sorted(LAYERS)
    )


def _private_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("crm"):
            for alias in node.names:
                name = alias.name
                if name.startswith("_") and not (name.startswith("__") and name.endswith("__")):
                    found.append(f"{_rel(path)}:{node.lineno}: {node.module}.{name}")
    return found


def test_no_module_imports_another_modules_private_names() -> None:
    assert [hit for p in MODULES for hit in _private_imports(p)] == []


CLOCK = re.compile(r"\bdate\.today\(|\bdatetime\.now\(|\bdatetime\.utcnow\(|\btime\.time(?:_ns)?\(")


def test_only_the_command_line_reads_the_clock() -> None:
    readers = [
        f"{_rel(p)}:{n}"
        for p in MODULES
        if not _rel(p).startswith("crm/cli/")
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1)
        if CLOCK.search(line)
    ]
    assert readers == []


def test_the_layer_contract_fails_when_a_lower_layer_imports_a_higher_one(tmp_path: Path) -> None:
    root = Path(__file__).parent.parent
    linter = Path(sys.executable).with_name("lint-imports")
    shutil.copytree(PACKAGE, tmp_path / "crm", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(root / "pyproject.toml", tmp_path / "pyproject.toml")

    def lint() -> subprocess.CompletedProcess[str]:
        env = {"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}
        return subprocess.run(
            [str(linter), "--no-cache"], cwd=tmp_path, env=env, capture_output=True, text=True
        )

    kept = lint()
    assert kept.returncode == 0, kept.stdout
    model = tmp_path / "crm" / "core" / "model.py"
    model.write_text(model.read_text(encoding="utf-8") + "\nimport crm.report.render\n")
    broken = lint()
    assert broken.returncode == 1
    assert "crm.core is not allowed to import crm.report" in broken.stdout
