"""Log kinds and their classes (``[kinds]`` in ``crm.toml``): which entries count as contact.

A *contact* kind (a call, a visit) resets the contact rhythm and counts toward ``max_contacts``;
a *broadcast* kind (a holiday greeting to everyone) counts toward ``max_contacts`` but does not
reset the rhythm; an *inbound* kind (a question, a missed call) comes from the customer: it resets
the rhythm (the relationship is alive) but is never outreach, and until a contact entry follows
it is a reply you owe; a *note* is none of these. A kind no class names is contact, and
``crm check`` lists it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

KindClass = Literal["contact", "broadcast", "inbound", "note"]
CLASSES: tuple[KindClass, ...] = ("contact", "broadcast", "inbound", "note")
NO_KIND = "-"  # the kind of an entry written without one
FROM_THEM = (
    "received"  # the kind ``crm log --from-them`` writes, unless [kinds] inbound lists others
)
REWARD = "reward"  # the kind of a reward given: it resets the count of every reward it names
DEFAULT_KINDS: Mapping[KindClass, tuple[str, ...]] = {
    "contact": (
        NO_KIND,
        "call",
        "card",
        "chat",
        "email",
        "gift",
        "letter",
        "meeting",
        "message",
        "purchase",
        REWARD,
        "sms",
        "text",
        "thanks",
        "video",
        "visit",
        "voicemail",
    ),
    "broadcast": ("greeting", "newsletter", "notice", "offer"),
    "inbound": ("missed-call", "question", FROM_THEM, "request"),
    "note": ("note",),
}
_KIND = re.compile(r"^(?:-|[a-z][\w-]*)$")


def _table(classes: Mapping[KindClass, tuple[str, ...]]) -> tuple[tuple[str, KindClass], ...]:
    return tuple(sorted((kind, cls) for cls, kinds in classes.items() for kind in kinds))


@dataclass(frozen=True, slots=True)
class Kinds:
    """The class of every named log kind; the kinds no class names are contact."""

    table: tuple[tuple[str, KindClass], ...] = _table(DEFAULT_KINDS)
    # The deprecated ``[contact] outreach``: when set, exactly these count toward max_contacts.
    counted: tuple[str, ...] | None = None
    from_them: str = FROM_THEM  # the first kind [kinds] inbound lists: what --from-them writes
    _classes: dict[str, KindClass] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_classes", dict(self.table))

    def class_of(self, kind: str) -> KindClass:
        """Return the class of ``kind``: contact when no class names it."""
        return self._classes.get(kind, "contact")

    def known(self, kind: str) -> bool:
        """Return True when a class (or the deprecated outreach list) names ``kind``."""
        return kind in self._classes or (self.counted is not None and kind in self.counted)

    def resets(self, kind: str) -> bool:
        """Return True when an entry of ``kind`` resets the contact rhythm: contact, or inbound
        (they were in touch)."""
        return self.class_of(kind) in ("contact", "inbound")

    def answers(self, kind: str) -> bool:
        """Return True when an entry of ``kind`` is contact from you: it answers what came in."""
        return self.class_of(kind) == "contact"

    def inbound(self, kind: str) -> bool:
        """Return True when an entry of ``kind`` came from the customer (a reply may be owed)."""
        return self.class_of(kind) == "inbound"

    def counts(self, kind: str) -> bool:
        """Return True when an entry of ``kind`` counts toward ``max_contacts``: outreach, never
        what came from the customer."""
        if self.class_of(kind) == "inbound":
            return False
        if self.counted is not None:
            return kind in self.counted
        return self.class_of(kind) != "note"

    def named(self, cls: KindClass) -> tuple[str, ...]:
        """Return the kinds in class ``cls``, sorted."""
        return tuple(kind for kind, c in self.table if c == cls)


def parse_kinds(
    tab: dict[str, Any], outreach: tuple[str, ...] | None, bad: Callable[[str], None]
) -> Kinds:
    """Return the defaults with the ``[kinds]`` lists moved in (a kind named moves to that class)."""
    classes = {kind: cls for kind, cls in _table(DEFAULT_KINDS)}
    named: dict[str, KindClass] = {}
    from_them = FROM_THEM
    for cls in CLASSES:
        value = tab.get(cls)
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            bad(f"kinds.{cls} must be a list of strings")
            continue
        for text in value:
            kind = text.strip().lower()
            if not _KIND.match(kind):
                bad(f"kinds.{cls}: {text!r} is not a log kind (one word, or '-')")
            elif named.get(kind, cls) != cls:
                bad(f"kinds.{cls}: {kind!r} is also in kinds.{named[kind]}")
            else:
                if cls == "inbound" and "inbound" not in named.values():
                    from_them = kind
                named[kind] = classes[kind] = cls
    if classes.get(from_them) != "inbound":  # "received" moved to another class
        from_them = next((k for k, c in sorted(classes.items()) if c == "inbound"), from_them)
    counted = None if outreach is None else tuple(sorted({k.lower() for k in outreach}))
    return Kinds(tuple(sorted(classes.items())), counted, from_them)
