"""The one place crm reads the wall clock: every command's today, and the live feed's now.

Commands read it once (``--today`` pins the day instead); ``serve`` and ``watch`` hand ``now``
to the live feed, which reads it once per rebuild and once a minute for a new day. Today is
the date in ``[vault] timezone``, else in the machine's zone (``crm.core.config.vault_day``),
so ``crm ics``, ``crm serve`` and ``crm watch`` never disagree around midnight.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crm.core.config import Config


def now() -> datetime:
    """Return this moment as an aware datetime in UTC."""
    return datetime.now(UTC)


def vault_today(config: Config) -> date:
    """Return today in the vault: in ``[vault] timezone``, else in the machine's zone."""
    from crm.core.config import vault_day

    return vault_day(config, now())


def vault_time(config: Config, today: date) -> time | None:
    """Return the minute it is now in the vault, when ``today`` is the vault's today (None: a
    ``--today`` of another day has no time of day)."""
    from zoneinfo import ZoneInfo

    moment = now().astimezone(ZoneInfo(config.timezone) if config.timezone_set else None)
    if moment.date() != today:
        return None
    return moment.time().replace(second=0, microsecond=0, tzinfo=None)
