"""``crm check``: the loader's problems plus vault-wide checks, as one sorted list."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from datetime import date, datetime

from crm.core.config import Config
from crm.core.localtime import clock_change
from crm.core.model import Customer, Interaction, Location, Problem
from crm.rules.rhythm import is_contact
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


def unknown_kinds(vault: Vault, config: Config) -> list[Problem]:
    """Return one warning per log kind that no class of ``[kinds]`` names, at its first use."""
    kinds = config.kinds
    uses: dict[str, list[Interaction]] = {}
    for c in vault.customers:
        for entry in c.log:
            if not kinds.known(entry.kind):
                uses.setdefault(entry.kind, []).append(entry)
    known = [kind for kind, _ in kinds.table]
    found = []
    for kind, entries in uses.items():
        first = min(entries, key=lambda i: (str(i.location.path), i.location.line or 0))
        n = len(entries)
        counted = f"counted as contact, {n} entr{'y' if n == 1 else 'ies'}"
        close = difflib.get_close_matches(kind, known, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else "name its class in crm.toml"
        message = f"log kind {kind!r} is not in [kinds] ({counted}); {hint}"
        found.append(Problem(first.location, message, "warning"))
    return found


def future_contacts(vault: Vault, config: Config, today: date) -> list[Problem]:
    """Return a warning at each contact entry dated after ``today``: it is a plan, not contact."""
    return [
        Problem(
            entry.location,
            f"{entry.kind} entry dated {entry.day} is after today: a plan, not contact yet "
            f"(write a plan as '- [ ] {entry.day} {entry.kind}: ...')",
            "warning",
        )
        for c in vault.customers
        for entry in c.log
        if entry.day > today and is_contact(entry, config.kinds)
    ]


def skipped_times(
    vault: Vault, config: Config, line_of: Callable[[Customer], int | None]
) -> list[Problem]:
    """Return a warning at each ``next_contact`` whose time the clocks skip at a daylight-saving
    change (the calendar moves it forward by the gap); ``line_of`` finds the key's line."""
    found = []
    for c in vault.customers:
        nc = c.next_contact
        edge = clock_change(nc, config.timezone) if isinstance(nc, datetime) else None
        if edge is not None and edge.skipped:
            message = f"next_contact {edge}; the calendar shows it at {edge.read_as()}"
            found.append(Problem(Location(c.location.path, line_of(c) or 1), message, "warning"))
    return found
