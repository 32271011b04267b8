"""Telling people apart: when two names are one person's, contact keys, possible duplicates.

A shared email address or phone number alone does not make two people one: a couple shares a
home address, a family a landline. ``crm import`` merges a card into a customer only when their
names agree as well, and ``crm check`` lists the customers who share an address or a number
but not a name, so a person can look at each pair.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from crm.core.config import Config
from crm.core.model import Customer, Problem
from crm.rules.words import folded
from crm.vault.load import Vault

Contact = Literal["email", "phone"]
CONTACTS: tuple[Contact, ...] = ("email", "phone")
# What a phone number may hold between its digits: spaces, dashes, dots, slashes, parentheses.
_SEPARATORS = re.compile(r"[\s\-./()]")
_INTERNATIONAL = re.compile(r"\+\d+")


@dataclass(frozen=True, slots=True)
class PersonName:
    """A person's name as written: the full name, and the first and last name when known."""

    full: str
    first: str = ""
    last: str = ""

    @classmethod
    def of(cls, c: Customer) -> PersonName:
        """Return the name of customer ``c``."""
        return cls(c.name, c.first_name or "", c.last_name or "")


def name_key(text: str) -> str:
    """Return a name for comparing: case, accents and runs of spaces do not count."""
    return " ".join(folded(text).split())


def names_agree(a: PersonName, b: PersonName) -> bool:
    """Return True when ``a`` and ``b`` name one person: the same full name, or the same first
    and last name (both known on both sides); case and accents do not count."""
    if name_key(a.full) == name_key(b.full):
        return True
    if not (a.first and a.last and b.first and b.last):
        return False
    return name_key(a.first) == name_key(b.first) and name_key(a.last) == name_key(b.last)


def email_key(text: str) -> str:
    """Return an email address for comparing: ``Ana@Example.com`` is ``ana@example.com``."""
    return text.strip().casefold()


def phone_key(text: str, region: str = "") -> str:
    """Return a phone number for comparing: E.164 (``+4915123456789``) when it reads as one.

    A number without its country code reads in ``region`` (``[business] region``); one that
    reads as no number at all is compared by its digits.
    """
    bare = _SEPARATORS.sub("", text)
    if _INTERNATIONAL.fullmatch(bare) and "(0)" not in text.replace(" ", ""):
        return bare  # already E.164: no need to ask phonenumbers (crm check reads every number)
    import phonenumbers

    try:
        parsed = phonenumbers.parse(text, region.upper() or None)
    except phonenumbers.NumberParseException:
        return re.sub(r"[^\d+]", "", text)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def contact_key(kind: Contact, text: str, region: str = "") -> str:
    """Return an email address or phone number for comparing (``email_key``, ``phone_key``)."""
    return email_key(text) if kind == "email" else phone_key(text, region)


def contacts_of(c: Customer) -> Iterable[tuple[Contact, str]]:
    """Return a customer's email addresses and phone numbers as written, emails first."""
    for email in c.emails:
        yield "email", email
    for phone in c.phones:
        yield "phone", phone


@dataclass(frozen=True, slots=True)
class SharedContact:
    """Two customers whose names do not agree but who share email addresses or phone numbers."""

    first: Customer
    second: Customer
    shared: tuple[tuple[Contact, str], ...]  # as ``second`` writes them

    def message(self, root: Path) -> str:
        """Return ``possible duplicate of ana-ruiz.md: both have email ana@example.com``."""
        path = self.first.location.path
        shown = path.relative_to(root) if path.is_relative_to(root) else path
        both = " and ".join(f"{kind} {text}" for kind, text in self.shared)
        return f"possible duplicate of {shown}: both have {both}"


def shared_contacts(customers: Sequence[Customer], *, region: str = "") -> list[SharedContact]:
    """Return every pair of customers that share an email or phone but whose names disagree.

    One pair each, in file order: ``second`` is the later file. One pass, keyed by the
    normalised address or number.
    """
    holders: dict[tuple[Contact, str], list[Customer]] = {}
    pairs: dict[tuple[int, int], list[tuple[Contact, str]]] = {}
    ordered = sorted(customers, key=lambda c: str(c.location.path))
    number = {id(c): n for n, c in enumerate(ordered)}
    for c in ordered:
        for kind, text in contacts_of(c):
            have = holders.setdefault((kind, contact_key(kind, text, region)), [])
            for other in have:
                if other is not c and not names_agree(PersonName.of(other), PersonName.of(c)):
                    pairs.setdefault((number[id(other)], number[id(c)]), []).append((kind, text))
            if not have or have[-1] is not c:
                have.append(c)
    return [
        SharedContact(ordered[a], ordered[b], tuple(dict.fromkeys(shared)))
        for (a, b), shared in sorted(pairs.items())
    ]


def possible_duplicates(vault: Vault, config: Config) -> list[Problem]:
    """Return a warning at the later file of each pair that ``shared_contacts`` finds."""
    found = shared_contacts(vault.customers, region=config.business.region)
    return [Problem(p.second.location, p.message(vault.root), "warning") for p in found]
