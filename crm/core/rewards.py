"""The rewards of ``crm.toml`` (``[[rewards]]``): a free blow-dry every 10 visits, a gift at 500 spent.

A reward counts ``every`` entries of one log ``kind`` (``visit`` by default), or the customer's
``value`` in steps of ``spent``; ``template`` names the message that tells them
(``crm draft TEMPLATE --report rewards``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crm.core.tables import each_table

KEYS = ("name", "every", "kind", "spent", "template")
_KIND = re.compile(r"^[a-z][\w-]*$")


@dataclass(frozen=True, slots=True)
class Reward:
    """One ``[[rewards]]`` table: earned every ``every`` entries of ``kind``, or per ``spent``."""

    name: str
    every: int | None = None
    kind: str = "visit"
    spent: float | None = None
    template: str | None = None
    number: int = 0  # which [[rewards]] table, from 1

    @property
    def rule(self) -> str:
        """Return how it is earned: 'every 10 visits', 'every 500 spent'."""
        if self.every is not None:
            return f"every {self.every} {self.kind}{'' if self.every == 1 else 's'}"
        return f"every {self.spent:g} spent"


def parse_rewards(value: Any, bad: Callable[..., None]) -> tuple[Reward, ...]:
    """Return the ``[[rewards]]`` of crm.toml; each problem names its table by number."""
    found: list[Reward] = []
    for n, made in each_table(value, "rewards", KEYS, _reward, bad, "name and every or spent"):
        if any(r.name.casefold() == made.name.casefold() for r in found):
            bad(f"rewards[{n}].name: {made.name!r} is already a reward; give it another name")
            continue
        found.append(Reward(made.name, made.every, made.kind, made.spent, made.template, n))
    return tuple(found)


def _reward(tab: dict[str, Any], where: str, bad: Callable[..., None]) -> Reward | None:
    name = tab.get("name")
    if not isinstance(name, str) or not name.strip():
        bad(f"{where}.name: missing (text)")
        return None
    every, spent = tab.get("every"), tab.get("spent")
    if (every is None) == (spent is None):
        bad(f"{where}: give every (a number of visits) or spent (a value), one of them")
        return None
    values: dict[str, Any] = {}
    if every is not None:
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            bad(f"{where}.every must be a whole number of entries, 1 or more")
            return None
        values["every"] = every
        kind = tab.get("kind", "visit")
        if not isinstance(kind, str) or not _KIND.match(kind.strip().lower()):
            bad(f"{where}.kind: {kind!r} is not a log kind (one word: visit, purchase)")
            return None
        values["kind"] = kind.strip().lower()
    else:
        if isinstance(spent, bool) or not isinstance(spent, int | float) or spent <= 0:
            bad(f"{where}.spent must be a value above 0")
            return None
        if "kind" in tab:
            bad(f"{where}.kind: a reward by spent counts the value, not entries", "warning")
        values["spent"] = float(spent)
    template = tab.get("template")
    if template is not None:
        if not isinstance(template, str) or not re.fullmatch(r"[\w.-]+", template.strip()):
            bad(
                f"{where}.template: {template!r} is not a template name (templates/messages/NAME.md)"
            )
            return None
        values["template"] = template.strip().removesuffix(".md")
    return Reward(name.strip(), **values)
