"""The ``--tag/--segment/--status/--company`` filter: which customers a report, export or feed keeps.

One rule for every command: ``crm list`` and the other reports, ``crm export``, ``crm ics``
and the live feed all ask ``CustomerFilter.matches``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar


class Faceted(Protocol):
    """What the filter looks at: a ``Customer``, or a narrow row of one (the index's ``Facets``)."""

    @property
    def tags(self) -> tuple[str, ...]: ...
    @property
    def segment(self) -> str | None: ...
    @property
    def status(self) -> str: ...
    @property
    def company(self) -> str | None: ...


T = TypeVar("T", bound=Faceted)


@dataclass(frozen=True, slots=True)
class CustomerFilter:
    """The choices that make a per-team list or feed; the default keeps everyone."""

    tags: tuple[str, ...] = ()  # every one of them, exactly as written
    segment: str | None = None
    status: str | None = None
    company: str | None = None  # case-insensitive

    @property
    def everyone(self) -> bool:
        """Return True when no filter is set, so every customer passes."""
        return (
            not self.tags and self.segment is None and self.status is None and self.company is None
        )

    def matches(self, c: Faceted) -> bool:
        """Return True when the customer passes every filter."""
        return (
            all(t in c.tags for t in self.tags)
            and (self.segment is None or c.segment == self.segment)
            and (self.status is None or c.status == self.status)
            and (self.company is None or (c.company or "").casefold() == self.company.casefold())
        )

    def select(self, customers: Iterable[T]) -> list[T]:
        """Return the customers that pass every filter, in their order."""
        return [c for c in customers if self.matches(c)]
