"""The index's answers to ``crm replies`` and ``crm rewards``: who appears, from narrow columns.

A row stores each inbound entry's owed span (``replies.owed_spans``) and each reward's counted
and given days (``rewards.days_of``). The rules' own tests decide from those and the order comes
from the same values, so that only the customers shown are decoded; the rules then run on them,
and give exactly the rows they give over the whole vault (the tests compare them).
"""

from __future__ import annotations

from datetime import date

from crm.core.config import Config
from crm.index import codec
from crm.index.base import IndexBase, or_plain
from crm.rules.replies import Owed, oldest_owed, order_key, replies
from crm.rules.rewards import Earned, earned, earned_key, standing
from crm.rules.rhythm import INACTIVE, Counted, counted


class Owing(IndexBase):
    """The queries of ``replies`` and ``rewards``."""

    @or_plain
    def replies(self, today: date, limit: int = 0) -> Counted[Owed]:
        """Return the first ``limit`` (0: all) replies owed on ``today``, and how many there are."""
        config = self.config or Config()
        if self._vault is not None:
            return counted(replies(self._vault.customers, config, today), limit)
        t = today.toordinal()
        renamed = self._renamed()
        order = []
        for fid, cid, name, text in self._db().execute(
            "SELECT fid, cid, name_key, owed FROM files "
            "WHERE owed_from <= ? AND (owed_until IS NULL OR owed_until > ?)",
            (t, t),
        ):
            asked = oldest_owed(codec.decode_owed(text), today)
            if asked is not None:
                order.append((order_key(asked, name, renamed.get(fid, cid)), fid))
        order.sort()
        shown = [fid for _, fid in (order[:limit] if limit else order)]
        return Counted(replies(self._customers(shown), config, today), len(order))

    @or_plain
    def rewards(self, today: date, limit: int = 0) -> Counted[Earned]:
        """Return the first ``limit`` (0: all) rewards due or coming on ``today``, and how many.

        Decided by the rules' ``standing`` on the stored days; the customers come as briefs
        (``codec.decode_brief``: the front matter, not the log), enough for the rows.
        """
        config = self.config or Config()
        if self._vault is not None:
            return counted(earned(self._vault.customers, config, today), limit)
        rewards = config.rewards
        renamed = self._renamed()
        inactive = ",".join(f"'{s}'" for s in sorted(INACTIVE))
        order = []
        for fid, cid, name, value, text in self._db().execute(
            "SELECT fid, cid, name_key, value, rewards FROM files WHERE rewards IS NOT NULL "
            f"AND status NOT IN ({inactive})"
        ):
            days = codec.decode_rewards(text)
            for reward, d in zip(rewards, days, strict=True):
                got = standing(reward, d, value, today)
                if got is not None:
                    key = earned_key(got[0], name, renamed.get(fid, cid), reward)
                    order.append((key, fid, reward, got))
        order.sort(key=lambda x: x[0])
        shown = order[:limit] if limit else order
        people = self._by_fid((fid for _, fid, _, _ in shown), brief_on=today.toordinal())
        found = [Earned(people[fid], reward, *got) for _, fid, reward, got in shown]
        return Counted(found, len(order))
