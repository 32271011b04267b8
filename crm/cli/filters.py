"""The report filters every listing and the feed take: ``--tag``, ``--segment``, ``--city``..."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

import click

from crm.core.model import STATUSES
from crm.rules.filters import CustomerFilter

F = TypeVar("F", bound=Callable[..., Any])


def filter_options(f: F) -> F:
    """Add the report filters (``--tag``, ``--segment``, ...), handed on as ``filters``."""

    @functools.wraps(f)
    def with_filters(
        *args: Any,
        tags: tuple[str, ...],
        segment: str | None,
        status: str | None,
        company: str | None,
        city: str | None,
        country: str | None,
        **kwargs: Any,
    ) -> Any:
        chosen = CustomerFilter(tags, segment, status, company, city, country)
        return f(*args, filters=chosen, **kwargs)

    wrapped: Any = with_filters
    for option in reversed(
        [
            click.option("--tag", "tags", multiple=True, help="Only customers with this tag."),
            click.option("--segment", help="Only customers in this segment."),
            click.option("--status", type=click.Choice(STATUSES), help="Only this status."),
            click.option("--company", help="Only customers of this company (case-insensitive)."),
            click.option("--city", help="Only customers living in this city (case-insensitive)."),
            click.option("--country", help="Only customers living in this country."),
        ]
    ):
        wrapped = option(wrapped)
    return cast(F, wrapped)
