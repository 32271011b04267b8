"""Logging a contact, as ``crm log`` and the phone page do it: one new ``## Log`` line, and
whether the customer is over their contact cap now (logged anyway: it happened)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from pathlib import Path

from crm.core.config import Config
from crm.edit.changes import EditResult, append_log
from crm.rules.cap import Noisy, too_much_contact
from crm.vault.parse import parse_path


@dataclass(frozen=True, slots=True)
class Logged:
    """The edit that logged a contact, and how the customer is over ``max_contacts`` now."""

    result: EditResult
    over: Noisy | None


def log_contact(
    path: Path,
    entry: tuple[date, str, str],
    at: time | None = None,
    *,
    root: Path,
    config: Config,
    today: date,
) -> Logged:
    """Append ``entry`` (day, kind, text) to the customer's ``## Log``; then read the file again
    to say whether they are over their contact cap on ``today``."""
    day, kind, text = entry
    result = append_log(path, day, kind, text, at)
    over = None
    if config.kinds.counts(kind.lower()):
        customer, _ = parse_path(result.path, root, date_order=config.date_order)
        over = None if customer is None else too_much_contact(customer, config, today)
    return Logged(result, over)
