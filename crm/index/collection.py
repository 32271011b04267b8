"""The facade: one vault as every command, the live feed and the server see it.

Like khal's ``CalendarCollection``, a ``Collection`` owns the vault's config, its index and the
day it answers for, so that no caller wires config, index and vault by hand. The index is
opened on first use and brought up to date once (``now`` is when the caller read the clock,
see ``open_index``); when it cannot be used, the vault is parsed
directly and ``on_bypass`` hears why, once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from crm.core.config import Config, load_config
from crm.core.errors import CrmError
from crm.core.model import Customer, Problem, Span
from crm.index.build import open_index
from crm.index.rows import FeedBlocks, Progress
from crm.index.store import Index
from crm.rules.loyalty import Loyal
from crm.rules.replies import Owed
from crm.rules.rewards import Earned
from crm.rules.rhythm import ContactState, Counted
from crm.vault.load import Vault


@dataclass
class Collection:
    """A vault with its config, index and day; everything is loaded on first use."""

    root: Path
    today: date | None = None
    now: datetime | None = None
    progress: Progress | None = None
    use_index: bool = True
    on_bypass: Callable[[str], None] | None = None
    # crm.toml and its problems, when the caller already read them (else read on first use).
    settings: tuple[Config, list[Problem]] | None = field(default=None, repr=False)
    _index: Index | None = field(default=None, repr=False)
    _vault: Vault | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        """Return the vault's settings from ``crm.toml`` (defaults where it says nothing)."""
        return self._config_and_problems()[0]

    @property
    def outbox(self) -> Path:
        """Return the vault's outbox folder (``[outreach] outbox``)."""
        return self.root / self.config.outreach.outbox

    @property
    def config_problems(self) -> list[Problem]:
        """Return the problems found in ``crm.toml``."""
        return self._config_and_problems()[1]

    def _config_and_problems(self) -> tuple[Config, list[Problem]]:
        if self.settings is None:
            self.settings = load_config(self.root)
        return self.settings

    def day(self) -> date:
        """Return the day this collection answers for; a caller that sets none cannot ask."""
        if self.today is None:
            raise RuntimeError("the collection was opened without a day")
        return self.today

    def candidates(
        self,
        *,
        overdue: bool = False,
        upcoming_days: int | None = None,
        lost_worth: float | None = None,
    ) -> list[Customer]:
        """Return every customer who may appear in the chosen reports on the collection's day
        (as briefs where the rhythm's rules allow: see ``Index.candidates``)."""
        return self.index().candidates(
            self.day(),
            overdue=overdue,
            upcoming_days=upcoming_days,
            lost_worth=lost_worth,
        )

    def noisy(self) -> list[Customer]:
        """Return the customers over their contact cap on the collection's day, whole."""
        return self.index().noisy(self.day())

    def thanked(
        self,
        period: Span | None = None,
        min_visits: int | None = None,
        min_value: float | None = None,
        limit: int = 0,
    ) -> Counted[Loyal]:
        """Return the first ``limit`` (0: all) of ``loyalty.thanks`` on the collection's day
        (crm.toml's thresholds where these are None), and how many it lists."""
        return self.index().thanked(
            self.day(), self.config.loyalty, period, min_visits, min_value, limit
        )

    def replies(self, limit: int = 0) -> Counted[Owed]:
        """Return the first ``limit`` (0: all) replies owed on the collection's day, the
        longest waiting first, and how many there are."""
        return self.index().replies(self.day(), limit)

    def rewards(self, limit: int = 0) -> Counted[Earned]:
        """Return the first ``limit`` (0: all) rewards due or coming on the collection's day,
        due first, and how many there are."""
        return self.index().rewards(self.day(), limit)

    def picked(self, keep: Callable[[Sequence[Customer]], Sequence[Customer]]) -> list[Customer]:
        """Return, whole, the customers ``keep`` picks on the collection's day (``Index.picked``)."""
        return self.index().picked(self.day(), keep)

    def contact_lists(self, limit: int) -> tuple[Counted[ContactState], Counted[ContactState]]:
        """Return the first ``limit`` (0: all) of "Contact now" and "Due today", and their sizes."""
        return self.index().contact_lists(self.day(), limit)

    def index(self, *, rebuild: bool = False, blocks: FeedBlocks | None = None) -> Index:
        """Return the vault's index, brought up to date once (again with ``rebuild``).

        With ``blocks`` (the feed), the changed files' calendar blocks for that day are
        rendered while they are parsed, across the pool's workers.
        """
        if self._index is None or rebuild or blocks is not None:
            if self._index is not None:
                self._index.close()
            self._vault = None
            if self.now is None:
                raise RuntimeError("the collection was opened without the time")
            self._index = open_index(
                self.root,
                self.config,
                now=self.now,
                rebuild=rebuild,
                progress=self.progress,
                enabled=self.use_index,
                blocks=blocks,
            )
            why = self._index.stats.rebuilt or ""
            # Not when the index was turned off: then the plain parse is what was asked for.
            if self.on_bypass is not None and self._index.bypassed and self.use_index:
                self.on_bypass(why.removeprefix("bypassed:").strip())
        return self._index

    def close(self) -> None:
        """Close the index's database connection."""
        if self._index is not None:
            self._index.close()

    def vault(self) -> Vault:
        """Return every customer and problem of the files, answered from the index."""
        if self._vault is None:
            self._vault = self.index().vault()
        return self._vault

    def problems(self) -> list[Problem]:
        """Return the config's problems followed by the vault's."""
        return [*self.config_problems, *self.vault().problems]

    def problems_of(self, customer: Customer) -> list[Problem]:
        """Return the problems of one customer's file, as the index stored them."""
        return self.index().problems_in(customer.location.path)

    def by_id(self, cid: str) -> Customer | None:
        """Return the customer whose id is exactly ``cid``, else None (no prefix, no name)."""
        return self.by_ids([cid]).get(cid)

    def by_ids(self, ids: Iterable[str]) -> dict[str, Customer]:
        """Return the customers whose id is one of ``ids`` (exactly), by id."""
        wanted = frozenset(ids)
        if self._vault is not None:
            return {c.id: c for c in self._vault.customers if c.id in wanted}
        return self.index().with_ids(wanted)

    def customer(self, name: str) -> Customer:
        """Return the customer ``name`` means (see ``resolve``), decoding only likely matches."""
        if self._vault is None:
            found = self.index().named(name)
            if found:
                return resolve(found, name)
        # Nothing starts with the name: the message lists similar customers from the whole vault.
        try:
            return resolve(self.vault().customers, name)
        except CrmError:
            # A file too broken to load is no customer, but it is what the user means: say why.
            wanted = name.casefold()
            broken = [
                p
                for p in self.vault().problems
                if p.severity == "error" and p.location.path.stem.casefold() == wanted
            ]
            if broken:
                raise BrokenCustomer(name, broken) from None
            raise


class BrokenCustomer(CrmError):
    """The customer a name means cannot be loaded: its file has errors."""

    def __init__(self, name: str, problems: list[Problem]) -> None:
        super().__init__(f"'{name}' cannot be used until its file is fixed")
        self.name = name
        self.problems = problems


def resolve(customers: Sequence[Customer], name: str) -> Customer:
    """Return the customer ``name`` means: an id, an exact name or nickname, or a unique prefix."""
    wanted = name.casefold()
    tests: tuple[Callable[[Customer], bool], ...] = (
        lambda c: c.id == name,
        lambda c: c.name.casefold() == wanted,
        lambda c: (c.nickname or "").casefold() == wanted,
        lambda c: any(
            key.casefold().startswith(wanted) for key in (c.id, c.name, c.nickname or "")
        ),
    )
    for test in tests:
        found = [c for c in customers if test(c)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            listing = "\n".join(f"  {c.id}  {c.name}" for c in found[:20])
            raise CrmError(f"'{name}' is ambiguous; did you mean one of:\n{listing}", exit_code=2)
    hint = [c for c in customers if wanted in c.name.casefold() or wanted in c.id.casefold()]
    listing = "".join(f"\n  {c.id}  {c.name}" for c in hint[:20])
    raise CrmError(
        f"no customer matches '{name}'" + (f"; similar:{listing}" if hint else ""), exit_code=2
    )
