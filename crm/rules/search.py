"""Full-text matching of customers: every word must appear in the name, a field or the notes."""

from __future__ import annotations

from crm.core.fields import FIELDS
from crm.core.model import Address, Customer

# The attributes ``crm search`` reads, from the field table.
SEARCHED = tuple(f.attr for f in FIELDS if f.search and f.attr)


def haystack(c: Customer) -> str:
    """Return the searchable text of a customer, case-folded."""
    parts: list[str] = []
    for attr in SEARCHED:
        value = getattr(c, attr)
        if isinstance(value, tuple):
            parts.extend(value)
        elif isinstance(value, Address):
            parts.append(value.text or "\n".join(v for _, v in (*value.parts(), *value.extra)))
        elif value:
            parts.append(value)
    parts.extend(f"{k} {v}" for k, v in c.extra)
    parts.append(c.body)
    return "\n".join(parts).casefold()


def matches(c: Customer, text: str) -> bool:
    """Return True when every word of ``text`` occurs in the customer's searchable text."""
    hay = haystack(c)
    return all(word in hay for word in text.casefold().split())
