"""Full-text matching of customers: every word must appear in the name, a field or the notes."""

from __future__ import annotations

from crm.core.model import Customer


def haystack(c: Customer) -> str:
    """Return the searchable text of a customer, case-folded."""
    parts = [
        c.id,
        c.name,
        c.first_name or "",
        c.last_name or "",
        c.company or "",
        c.address or "",
        c.segment or "",
        c.status,
        *c.emails,
        *c.phones,
        *c.tags,
        *c.likes,
        *c.dislikes,
        *(f"{k} {v}" for k, v in c.extra),
        c.body,
    ]
    return "\n".join(parts).casefold()


def matches(c: Customer, text: str) -> bool:
    """Return True when every word of ``text`` occurs in the customer's searchable text."""
    hay = haystack(c)
    return all(word in hay for word in text.casefold().split())
