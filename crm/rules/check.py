"""``crm check``: the loader's problems plus vault-wide checks, as one sorted list."""

from __future__ import annotations

from collections.abc import Callable

from crm.core.config import Config
from crm.core.model import Problem
from crm.vault.load import Vault
from crm.vault.reader import problem_order

Check = Callable[[Vault, Config], list[Problem]]

# Vault-wide checks beyond what the loader finds file by file; each returns its problems.
CHECKS: list[Check] = []


def run_checks(vault: Vault, config: Config, config_problems: list[Problem]) -> list[Problem]:
    """Return every problem of the vault: config, files, then each check in ``CHECKS``."""
    problems = [*config_problems, *vault.problems]
    for check in CHECKS:
        problems.extend(check(vault, config))
    return sorted(problems, key=problem_order)


def _git_driver_check(vault: Vault, config: Config) -> list[Problem]:
    """Warn when .gitattributes names the merge driver but this clone has not registered it."""
    from crm.edit.gitmerge import check_driver  # lazy: git plumbing is only needed by `crm check`

    return check_driver(vault, config)


CHECKS.append(_git_driver_check)
