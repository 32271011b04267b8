"""The reports' questions to the index: who can appear on a day, decided from narrow columns.

Each answer is exactly what the rules give over the whole vault (the tests compare them): the
index picks the customers who can appear, or decides with the rules' own tests on stored
values, and decodes only the customers a report shows (as briefs where the rhythm's rules
allow, see ``codec.decode_brief``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta

from crm.core.closures import reopens
from crm.core.config import Config, LoyaltyConfig
from crm.core.model import Away, Customer, Span
from crm.index import codec
from crm.index.base import IndexBase, or_plain
from crm.index.rows import DAY, LAST, MMDD
from crm.rules.cap import over_cap
from crm.rules.loyalty import (
    Loyal,
    Visits,
    thanks,
    thanks_judge,
    thanks_key,
    thanks_since,
    visits_of,
)
from crm.rules.rhythm import (
    ContactState,
    Counted,
    contact_state,
    counted,
    decide,
    due_today,
    overdue,
    overdue_key,
    states,
)


class Reports(IndexBase):
    """The queries of ``overdue``, ``upcoming``, ``noisy``, ``thanks``, ``winback`` and ``agenda``."""

    @or_plain
    def candidates(
        self,
        today: date,
        *,
        overdue: bool = False,
        upcoming_days: int | None = None,
        lost_worth: float | None = None,
    ) -> list[Customer]:
        """Return, in vault order, every customer who may appear in the chosen reports on ``today``.

        A superset: the reports still decide with ``crm.rules``, so their results are
        exactly those over the whole vault. Each question is one indexed query. Customers come
        as briefs where the rhythm's rules allow (``codec.decode_brief``): enough for these
        reports, not for the loyalty or contact-cap rules (see ``noisy`` and ``loyal``).
        """
        if self._vault is not None:
            return list(self._vault.customers)
        t = today.toordinal()
        fids: set[int] = set()
        if overdue or upcoming_days is not None:
            # A contact entry after today is a plan: the stored due date is not yet today's.
            fids |= self._fids(f"SELECT fid FROM marks WHERE kind = {LAST} AND value > ?", [t])
        if overdue:
            fids |= self._fids(
                "SELECT fid FROM files WHERE tracked = 1 AND (due IS NULL OR due < ?)", [t]
            )
        if upcoming_days is not None:
            end = today + timedelta(days=upcoming_days)
            if upcoming_days >= 366:
                fids |= self._all_fids()
            else:
                mmdd = ",".join(map(str, sorted(_month_days(today, end))))
                fids |= self._fids(
                    f"SELECT fid FROM marks WHERE kind = {MMDD} AND value IN ({mmdd}) "
                    f"UNION SELECT fid FROM marks WHERE kind = {DAY} AND value BETWEEN ? AND ?",
                    [t, end.toordinal()],
                )
        if upcoming_days is not None and self.config is not None:
            # A closure moves the reach-outs and follow-ups inside it to the day it reopens,
            # and while it lasts whoever is late waits for that day: on and before it,
            # everyone due by its end, or with a dated plan inside it, may show.
            last = today + timedelta(days=upcoming_days)
            for c in self.config.closures:
                if today <= reopens(c, self.config.closures) <= last:
                    fids |= self._fids(
                        "SELECT fid FROM files WHERE tracked = 1 AND (due IS NULL OR due <= ?) "
                        f"UNION SELECT fid FROM marks WHERE kind = {DAY} AND value BETWEEN ? AND ?",
                        [c.end.toordinal(), c.start.toordinal(), c.end.toordinal()],
                    )
        if lost_worth is not None:
            # Lost customers worth at least that much (``loyalty.worth_winning_back``).
            fids |= self._fids(
                "SELECT fid FROM files WHERE status = 'lost' AND COALESCE(value, 0) >= ?",
                [lost_worth],
            )
        return self._customers(fids, brief_on=t)

    @or_plain
    def contact_lists(
        self, today: date, limit: int
    ) -> tuple[Counted[ContactState], Counted[ContactState]]:
        """Return the agenda's "Contact now" and "Due today" on ``today``: their first ``limit``
        states (0: all) and how many there are.

        Decided from the stored columns (``rhythm.decide``, the test ``contact_state`` makes),
        so that only the customers shown are decoded; a customer with a contact entry after
        today (a plan) is decided from the whole customer.
        """
        config = self.config or Config()
        if self._vault is not None:
            known = states(self._vault.customers, config, today)
            return counted(overdue(self._vault.customers, config, today, known), limit), counted(
                due_today(self._vault.customers, config, today, known), limit
            )
        t = today.toordinal()
        day = date.fromordinal
        renamed = self._renamed()
        db = self._db()
        flagged: list[tuple[tuple[bool, date, str], str, int]] = []
        due_now: list[tuple[str, str, int]] = []
        planned = self._fids("SELECT fid FROM files WHERE last > ?", [t])
        for fid, cid, name, due, away_from, back, snooze in db.execute(
            "SELECT fid, cid, name_key, due, away_from, back, snooze FROM files "
            "WHERE tracked = 1 AND (due IS NULL OR due <= ?)",
            (t,),
        ):
            if fid in planned:
                continue
            away = None if away_from is None else Away(day(away_from), day(back - 1))
            state, when = decide(
                None if due is None else day(due),
                away,
                None if snooze is None else day(snooze),
                config.closures,
                today,
            )
            cid = renamed.get(fid, cid)
            if state in ("overdue", "never"):
                flagged.append((overdue_key(when, name, today), cid, fid))
            elif state == "due":
                due_now.append((name, cid, fid))
        for fid, c in self._by_fid(planned).items():
            s = contact_state(c, config, today)
            key = c.name.casefold()
            if s.flagged:
                flagged.append((overdue_key(s.due, key, today), c.id, fid))
            elif s.state == "due":
                due_now.append((key, c.id, fid))
        # In vault order (name, then id) within each key, as the rules' stable sorts leave them.
        flagged.sort(key=lambda x: (x[0], x[1]))
        due_now.sort()
        shown = [fid for *_, fid in (flagged[:limit] if limit else flagged)]
        shown += [fid for *_, fid in (due_now[:limit] if limit else due_now)]
        people = self._customers(shown, brief_on=t)
        known = states(people, config, today)
        return (
            Counted(overdue(people, config, today, known)[: limit or None], len(flagged)),
            Counted(due_today(people, config, today, known)[: limit or None], len(due_now)),
        )

    @or_plain
    def noisy(self, today: date) -> list[Customer]:
        """Return, in vault order and whole, the customers over their contact cap on ``today``.

        The stored outreach days decide (``cap.over_cap``, the test ``too_much_contact``
        makes), so only those customers are decoded; the report then runs the rule itself.
        """
        if self._vault is not None:
            return list(self._vault.customers)
        found = set()
        for fid, text in self._db().execute(
            "SELECT fid, outreach FROM files WHERE noisy_until >= ? AND status IS NOT 'lost'",
            (today.toordinal(),),
        ):
            cap, days = codec.decode_outreach(text)
            if over_cap(days, cap, today):
                found.add(fid)
        return self._customers(found)

    @or_plain
    def thanked(
        self,
        today: date,
        settings: LoyaltyConfig,
        period: Span | None = None,
        min_visits: int | None = None,
        min_value: float | None = None,
        limit: int = 0,
    ) -> Counted[Loyal]:
        """Return the first ``limit`` (0: all) of ``loyalty.thanks`` and how many it lists.

        Its judge (``loyalty.thanks_judge``) decides from the stored status, value and days, and
        the order comes from the same values, so only the customers shown are decoded. With
        crm.toml's thresholds only those who can be loyal by them on ``today`` are asked.
        """

        def listed(
            customers: Sequence[Customer], visits: Callable[[Customer], Visits] = visits_of
        ) -> list[Loyal]:
            return thanks(
                customers,
                settings,
                today,
                period=period,
                min_visits=min_visits,
                min_value=min_value,
                visits=visits,
            )

        if self._vault is not None:
            return counted(listed(self._vault.customers), limit)
        judge = thanks_judge(settings, today, period, min_visits, min_value)
        t = today.toordinal()
        renamed = self._renamed()
        days: dict[int, Visits] = {}
        order = []
        # Whoever was thanked inside the period (the last thank-you by today) is never listed.
        since = thanks_since(settings, today, period).toordinal()
        query = (
            "SELECT fid, cid, name_key, status, value, visits FROM files WHERE "
            "(thanked_last IS NULL OR thanked_last <= ? OR thanked_last > ?) AND reach = 1 AND "
        )
        rows = (
            self._db().execute(query + "loyal_until >= ?", (since, t, t))
            if min_visits is None and min_value is None
            else self._db().execute(query + "cid IS NOT NULL", (since, t))
        )
        for fid, cid, name, status, value, text in rows:
            visits = codec.decode_visits(text)
            judged = judge(status, value, visits)
            if judged is not None:
                days[fid] = visits
                order.append((thanks_key(judged[0], value, name), renamed.get(fid, cid), fid))
        order.sort()
        shown = self._by_fid([fid for *_, fid in (order[:limit] if limit else order)], brief_on=t)
        by_path = {c.location.path: days[fid] for fid, c in shown.items()}
        people = sorted(shown.values(), key=lambda c: (c.name.casefold(), c.id))
        return Counted(listed(people, lambda c: by_path[c.location.path]), len(order))


def _month_days(start: date, end: date) -> set[int]:
    """Return month*100+day of every day in [start, end], with Feb 29 when it is observed then."""
    found = set()
    day = start
    while day <= end:
        found.add(day.month * 100 + day.day)
        day += timedelta(days=1)
    if 228 in found or 301 in found:
        found.add(229)
    return found
