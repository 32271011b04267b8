"""Log kinds and their classes (``[kinds]`` in ``crm.toml``): which entries count as contact.

A *contact* kind (a call, a visit) resets the contact rhythm and counts toward ``max_contacts``;
a *broadcast* kind (a holiday greeting to everyone) counts toward ``max_contacts`` but does not
reset the rhythm; a *note* is neither. A kind no class names is contact, and ``crm check`` lists it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

KindClass = Literal["contact", "broadcast", "note"]
CLASSES: tuple[KindClass, ...] = ("contact", "broadcast", "note")
NO_KIND = "-"  # the kind of an entry written without one
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
        "sms",
        "text",
        "thanks",
        "video",
        "visit",
        "voicemail",
    ),
    "broadcast": ("greeting", "newsletter", "notice", "offer"),
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
        """Return True when an entry of ``kind`` is contact: it resets the contact rhythm."""
        return self.class_of(kind) == "contact"

    def counts(self, kind: str) -> bool:
        """Return True when an entry of ``kind`` counts toward ``max_contacts``."""
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
                named[kind] = classes[kind] = cls
    counted = None if outreach is None else tuple(sorted({k.lower() for k in outreach}))
    return Kinds(tuple(sorted(classes.items())), counted)
