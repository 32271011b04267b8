"""The report filters (``--tag/--segment/--status/--company/--city/--country``): whom a command keeps.

One rule for every command: ``crm list`` and the other reports, ``crm export``, ``crm ics``
and the live feed all ask ``CustomerFilter.matches``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

from crm.core.model import Address


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
    @property
    def address(self) -> Address | None: ...


T = TypeVar("T", bound=Faceted)


@dataclass(frozen=True, slots=True)
class CustomerFilter:
    """The choices that make a per-team list or feed; the default keeps everyone."""

    tags: tuple[str, ...] = ()  # every one of them, exactly as written
    segment: str | None = None
    status: str | None = None
    company: str | None = None  # case-insensitive
    city: str | None = None  # case-insensitive, see ``in_place``
    country: str | None = None

    @property
    def everyone(self) -> bool:
        """Return True when no filter is set, so every customer passes."""
        return not self.tags and all(
            v is None for v in (self.segment, self.status, self.company, self.city, self.country)
        )

    def matches(self, c: Faceted) -> bool:
        """Return True when the customer passes every filter."""
        return (
            all(t in c.tags for t in self.tags)
            and (self.segment is None or c.segment == self.segment)
            and (self.status is None or c.status == self.status)
            and (self.company is None or (c.company or "").casefold() == self.company.casefold())
            and (self.city is None or in_place(c.address, "city", self.city))
            and (self.country is None or in_place(c.address, "country", self.country))
        )

    def select(self, customers: Iterable[T]) -> list[T]:
        """Return the customers that pass every filter, in their order."""
        return [c for c in customers if self.matches(c)]


def in_place(address: Address | None, part: str, wanted: str) -> bool:
    """Return True when the address lies in the city (or country) ``wanted``, case-insensitively.

    A mapping says its ``city`` and ``country``; an address written as text matches when
    ``wanted`` appears in it as whole words (``Berlin`` in "10115 Berlin", not in "Berliner Str.").
    """
    if address is None:
        return False
    wanted = " ".join(wanted.split()).casefold()
    if address.text is None:
        return " ".join((getattr(address, part) or "").split()).casefold() == wanted
    words = r"\s+".join(re.escape(w) for w in wanted.split())
    return re.search(rf"(?<!\w){words}(?!\w)", address.text.casefold()) is not None


def with_defaults(filters: CustomerFilter, audience: Mapping[str, Any]) -> CustomerFilter:
    """Return ``filters`` with an ``audience``'s (a template's, an occasion's) where it sets none."""
    tags = audience.get("tag") or ()
    changes: dict[str, Any] = {}
    if not filters.tags and tags:
        changes["tags"] = tuple(tags) if isinstance(tags, list | tuple) else (str(tags),)
    for key in ("segment", "status", "company", "city", "country"):
        if getattr(filters, key) is None and audience.get(key) is not None:
            changes[key] = str(audience[key])
    return replace(filters, **changes)
