"""The one place crm reads the wall clock: every command's today, and the live feed's now.

Commands read it once (``--today`` pins the day instead); ``serve`` and ``watch`` hand ``now``
to the live feed, which reads it once per rebuild and once a minute for a new day. Today is
the date in ``[vault] timezone``, else in the machine's zone (``crm.core.config.vault_day``),
so ``crm ics``, ``crm serve`` and ``crm watch`` never disagree around midnight.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
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
