"""``crm check``: the loader's problems plus vault-wide checks, as one sorted list."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from crm.core.config import Config
from crm.core.model import Problem
from crm.vault.load import Vault
from crm.vault.reader import problem_order

Check = Callable[[Vault, Config], list[Problem]]


def run_checks(
    vault: Vault, config: Config, config_problems: list[Problem], checks: Iterable[Check] = ()
) -> list[Problem]:
    """Return every problem of the vault: config, files, then each vault-wide check's."""
    problems = [*config_problems, *vault.problems]
    for check in checks:
        problems.extend(check(vault, config))
    return sorted(problems, key=problem_order)
