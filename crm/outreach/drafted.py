"""``outbox/CAMPAIGN/campaign.toml``: what each ``crm draft`` run into a campaign asked the rules.

A campaign remembers how it was drafted (the day and time, ``--quiet``, the filters, the
report, the closure or occasion, and whom it wrote to), so that ``crm send`` asks the rules
again with the campaign's own settings and holds a draft back only for what changed since it
was written (``crm.outreach.campaign.recheck``). Each run that writes drafts appends one
``[[drafted]]`` table; the file is written the same way for the same runs, byte for byte. An
outbox from before this file has none: its drafts are checked as they always were.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any

from crm.core.errors import CrmError
from crm.core.model import Span
from crm.core.outreach import parse_quiet
from crm.edit import atomic
from crm.edit.closures import toml_string
from crm.rules.filters import CustomerFilter

CAMPAIGN_FILE = "campaign.toml"
HEADER = (
    "# How crm draft wrote this campaign, one [[drafted]] table a run: crm send holds a draft\n"
    "# back only for what changed since its run (see docs/outreach.md). Leave it to crm.\n"
)
_FILTERS = ("segment", "status", "company", "city", "country")


@dataclass(frozen=True, slots=True)
class Drafted:
    """One run of ``crm draft`` into a campaign: the settings the rules were asked with."""

    day: date  # the run's today
    template: str
    quiet: Span
    time: time | None = None  # the vault's wall-clock minute, when ``day`` was the real today
    filters: CustomerFilter = field(default_factory=CustomerFilter)
    report: str | None = None
    likes: str | None = None
    to: tuple[str, ...] = ()
    closure: date | None = None  # the closure told of, by its first day
    occasion: str | None = None
    drafts: tuple[str, ...] = ()  # the customer ids it wrote drafts for
    # A closure notice to customers it concerns: news of their own next visit, which the
    # quiet period and contact since never hold back.
    news: tuple[str, ...] = ()


def _strings(items: Sequence[str], one_a_line: bool = False) -> str:
    if not one_a_line or not items:
        return "[" + ", ".join(toml_string(i) for i in items) + "]"
    return "[\n" + "".join(f"  {toml_string(i)},\n" for i in items) + "]"


def table_text(run: Drafted) -> str:
    """Return one run as a ``[[drafted]]`` table: keys in a fixed order, ids sorted."""
    lines = ["[[drafted]]", f"day = {run.day.isoformat()}"]
    if run.time is not None:
        lines.append(f"time = {run.time.replace(second=0, microsecond=0).isoformat()}")
    lines += [f"template = {toml_string(run.template)}", f'quiet = "{run.quiet}"']
    if run.filters.tags:
        lines.append(f"tag = {_strings(run.filters.tags)}")
    for key in _FILTERS:
        value = getattr(run.filters, key)
        if value is not None:
            lines.append(f"{key} = {toml_string(value)}")
    for key, text in (("report", run.report), ("likes", run.likes)):
        if text is not None:
            lines.append(f"{key} = {toml_string(text)}")
    if run.to:
        lines.append(f"to = {_strings(sorted(run.to))}")
    if run.closure is not None:
        lines.append(f"closure = {run.closure.isoformat()}")
    if run.occasion is not None:
        lines.append(f"occasion = {toml_string(run.occasion)}")
    lines.append(f"drafts = {_strings(sorted(run.drafts), one_a_line=True)}")
    if run.news:
        lines.append(f"news = {_strings(sorted(run.news), one_a_line=True)}")
    return "\n".join(lines) + "\n"


def file_text(runs: Sequence[Drafted]) -> str:
    """Return the text of ``campaign.toml`` holding ``runs``, in the order they ran."""
    return HEADER + "".join(f"\n{table_text(r)}" for r in runs)


def read_runs(folder: Path) -> tuple[Drafted, ...] | None:
    """Return the runs ``folder/campaign.toml`` remembers (None: there is no such file).

    Raises ``CrmError`` (``path: message``) when the file is there but cannot be read.
    """
    path = folder / CAMPAIGN_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise CrmError(f"{path}: cannot read it: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CrmError(f"{path}: not TOML: {exc}") from None
    tables = data.get("drafted", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise CrmError(f"{path}: drafted must be [[drafted]] tables")
    return tuple(_run(path, n, t) for n, t in enumerate(tables, 1))


def _run(path: Path, n: int, tab: dict[str, Any]) -> Drafted:
    where = f"{path}: drafted[{n}]"

    def text(key: str) -> str | None:
        value = tab.get(key)
        if value is not None and not isinstance(value, str):
            raise CrmError(f"{where}.{key} must be text")
        return value

    def texts(key: str) -> tuple[str, ...]:
        value = tab.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise CrmError(f"{where}.{key} must be a list of text")
        return tuple(value)

    def day(key: str) -> date | None:
        value = tab.get(key)
        if value is not None and (not isinstance(value, date) or hasattr(value, "hour")):
            raise CrmError(f"{where}.{key} must be a date (2026-12-03)")
        return value

    drafted_on = day("day")
    template = text("template")
    if drafted_on is None or template is None:
        raise CrmError(f"{where}: day and template are required")
    at = tab.get("time")
    if at is not None and not isinstance(at, time):
        raise CrmError(f"{where}.time must be a time of day (09:30:00)")
    try:
        quiet = parse_quiet(text("quiet") or "")
    except ValueError as exc:
        raise CrmError(f"{where}.quiet: {exc}") from None
    filters = CustomerFilter(texts("tag"), *(text(k) for k in _FILTERS))
    return Drafted(
        day=drafted_on,
        template=template,
        quiet=quiet,
        time=at,
        filters=filters,
        report=text("report"),
        likes=text("likes"),
        to=texts("to"),
        closure=day("closure"),
        occasion=text("occasion"),
        drafts=texts("drafts"),
        news=texts("news"),
    )


def remember(folder: Path, run: Drafted) -> None:
    """Append ``run`` to ``folder/campaign.toml`` (created when missing), atomically."""
    path = folder / CAMPAIGN_FILE
    with atomic.locked(path):
        runs = read_runs(folder) or ()
        seen = atomic.read(path)[1] if path.exists() else None
        atomic.replace(path, file_text([*runs, run]).encode("utf-8"), seen)


def run_of(runs: Sequence[Drafted] | None, customer: str) -> Drafted | None:
    """Return the run that wrote the draft of ``customer`` (the last, if it was drafted anew)."""
    return next((r for r in reversed(runs or ()) if customer in r.drafts), None)
