"""The message of a birthday or an anniversary in its feed event (``[feed] drafts = true``).

When the vault has a ``birthday`` (or ``anniversary``) message template, the day's reminder
carries the message as its description, ready to copy: the event before the day when ``[feed]
lead_days`` is set, else the day's own event. Only the message: no notes, no log. Nobody who
opted out of the template's topic, or dislikes it, gets one.

Blocks are rendered in the index's worker processes, so ``Messages`` names the templates by
the vault folder and a key of their bytes; each worker parses them once per key, and the key
joins the cached blocks' key, so that an edited template renders anew.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from crm.core.config import Config
from crm.core.errors import CrmError
from crm.core.model import Customer
from crm.outreach.render import RenderFailed, render
from crm.outreach.templates import Template, folder, load_template
from crm.rules.audience import channel_for, refuses
from crm.vault.files import read_regular

OWN_DAYS = ("birthday", "anniversary")  # an event's ``own`` is the template's name


@dataclass(frozen=True, slots=True)
class Messages:
    """Where a worker finds the templates, and the key of their bytes (see ``messages_of``)."""

    root: str
    key: str


def messages_of(root: Path) -> Messages:
    """Return the vault's birthday and anniversary templates as a worker finds them."""
    digest = hashlib.sha256()
    base = folder(root)
    for name in OWN_DAYS:
        for path in sorted(base.glob(f"{name}.md")) + sorted(base.glob(f"{name}.*.md")):
            try:
                digest.update(path.name.encode() + b"\0" + read_regular(path) + b"\0")
            except OSError:
                continue
    return Messages(str(root), digest.hexdigest()[:16])


@functools.lru_cache(maxsize=4)
def _templates(root: str, key: str) -> dict[str, Template]:
    found = {}
    for name in OWN_DAYS:
        try:
            found[name] = load_template(Path(root), name)
        except CrmError:
            continue  # no such template (or a broken one: crm check says so)
    return found


def message_for(c: Customer, config: Config, day: date, own: str, messages: Messages) -> str:
    """Return the message for the customer's ``own`` day, seen on ``day``; "" when none."""
    template = _templates(messages.root, messages.key).get(own)
    if template is None:
        return ""
    channel = channel_for(c, template.channel)
    if refuses(c, config, channel, template.topic):
        return ""
    try:
        sent = render(template, c, config, day, f"{own}-{day.year}")
    except (RenderFailed, CrmError):  # a value missing, or past a limit: crm draft says which
        return ""
    return sent.body.strip()
