"""The index's answers to ``crm replies`` and ``crm rewards``: who can appear, from narrow columns.

A row stores the days a reply can be owed (``replies.owed_span``) and each reward's counted
and given days (``rewards.days_of``); the rules decide from those, so that only the customers
listed are decoded. The reports then run the rules on them, exactly as over the whole vault.
"""

from __future__ import annotations

from datetime import date

from crm.core.model import Customer
from crm.index import codec
from crm.index.base import IndexBase, or_plain
from crm.rules.rewards import standing
from crm.rules.rhythm import INACTIVE


class Owing(IndexBase):
    """The queries of ``replies`` and ``rewards``."""

    @or_plain
    def owing(self, today: date) -> list[Customer]:
        """Return, whole and in vault order, the customers who may owe a reply on ``today``."""
        if self._vault is not None:
            return list(self._vault.customers)
        t = today.toordinal()
        return self._customers(
            self._fids(
                "SELECT fid FROM files WHERE owed_from <= ? AND (owed_until IS NULL OR owed_until > ?)",
                [t, t],
            )
        )

    @or_plain
    def rewarded(self, today: date) -> list[Customer]:
        """Return, whole and in vault order, the customers with a reward due or coming on ``today``."""
        if self._vault is not None:
            return list(self._vault.customers)
        rewards = (self.config.rewards if self.config is not None else ()) or ()
        inactive = ",".join(f"'{s}'" for s in sorted(INACTIVE))
        found = set()
        for fid, value, text in self._db().execute(
            "SELECT fid, value, rewards FROM files WHERE rewards IS NOT NULL "
            f"AND status NOT IN ({inactive})"
        ):
            days = codec.decode_rewards(text)
            if any(standing(r, d, value, today) for r, d in zip(rewards, days, strict=True)):
                found.add(fid)
        return self._customers(found)
