"""``crm.toml``: vault settings, read with tomllib into a frozen ``Config``."""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from crm.core.closures import Closure, parse_closures
from crm.core.dates import DATE_ORDERS, DateOrder, Feb29Rule, parse_cap, parse_span
from crm.core.kinds import CLASSES, Kinds, parse_kinds
from crm.core.model import ContactCap, Location, Problem, Severity, Span
from crm.core.occasions import Occasion, parse_occasions
from crm.core.outreach import (
    BusinessConfig,
    DigestConfig,
    OutreachConfig,
    SmtpConfig,
    parse_business,
    parse_digest,
    parse_outreach,
    parse_smtp,
)
from crm.core.rewards import Reward, parse_rewards
from crm.core.topics import DEFAULT_TOPICS, Groups, parse_topics

CONFIG_NAME = "crm.toml"
MAX_FEED_DAYS = 3660
AGENDA_ROWS = 20  # rows per agenda section: a digest, the reports list everyone


@dataclass(frozen=True, slots=True)
class FeedConfig:
    """Settings of the iCalendar feed (``[feed]``)."""

    name: str = "Customers"
    days_back: int = 30
    days_ahead: int = 400
    refresh_minutes: int = 60
    token: str | None = None
    alarms: bool = False
    lead_days: int = 0
    include_details: bool = False
    drafts: bool = False  # a birthday's lead-time event carries the birthday message


@dataclass(frozen=True, slots=True)
class LoyaltyConfig:
    """Who counts as loyal or worth winning back (``[loyalty]``, used by thanks and winback)."""

    thanks_period: Span = Span(90, "d")
    min_visits: int = 3
    min_value: float = 2000.0
    winback_min_value: float = 1000.0


@dataclass(frozen=True, slots=True)
class Config:
    """Everything ``crm.toml`` says, with defaults for what it leaves out."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    timezone: str = "UTC"
    timezone_set: bool = False  # crm.toml names the zone; else "today" is the machine's date
    feb29: Feb29Rule = "feb28"
    date_order: DateOrder | None = None  # how slash dates (03/04/2026) read; unset, refused
    default_cadence: Span | None = None
    default_max_contacts: ContactCap | None = None
    cadence_by_tag: tuple[tuple[str, Span], ...] = ()
    kinds: Kinds = Kinds()
    feed: FeedConfig = field(default_factory=FeedConfig)
    loyalty: LoyaltyConfig = field(default_factory=LoyaltyConfig)
    business: BusinessConfig = field(default_factory=BusinessConfig)
    outreach: OutreachConfig = field(default_factory=OutreachConfig)
    digest: DigestConfig = field(default_factory=DigestConfig)
    smtp: SmtpConfig = field(default_factory=SmtpConfig)
    closures: tuple[Closure, ...] = ()  # by start day
    occasions: tuple[Occasion, ...] = ()
    rewards: tuple[Reward, ...] = ()
    topics: Groups = DEFAULT_TOPICS  # the synonym groups of message topics ([topics])
    agenda_rows: int = AGENDA_ROWS  # rows per agenda section ([agenda] rows; 0: all)
    serve_read_only: bool = False  # [serve] read_only: the phone page shows, and changes nothing


def load_config(root: Path) -> tuple[Config, list[Problem]]:
    """Return the vault's config and the problems found in ``crm.toml`` (defaults when absent)."""
    path = root / CONFIG_NAME
    where = Location(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
        raw = tomllib.loads(text)
    except FileNotFoundError:
        return Config(), []
    except (OSError, UnicodeDecodeError) as exc:
        return Config(), [Problem(where, f"cannot read config: {exc}")]
    except tomllib.TOMLDecodeError as exc:
        # Python 3.11's tomllib only puts the position in the message: "... (at line 2, column 12)".
        m = re.fullmatch(r"(.*?)(?: \(at line (\d+), column \d+\))?", str(exc), re.DOTALL)
        message, line = (m[1], int(m[2]) if m[2] else None) if m else (str(exc), None)
        return Config(), [Problem(Location(path, line), f"invalid TOML: {message}")]
    config, problems = parse_config(raw, where)
    return config, [_locate(p, text) for p in problems]


_HEADER = re.compile(r"^\s*\[\s*([\w-]+)\s*\]")


def located(root: Path, problems: list[Problem]) -> list[Problem]:
    """Return problems about crm.toml settings (``section.key: ...``) pointed at their lines."""
    try:
        text = (root / CONFIG_NAME).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return problems
    return [_locate(p, text) for p in problems]


_ARRAY = re.compile(r"(closures|occasions|rewards)\[(\d+)\](?:\.([\w-]+))?")


def _locate(problem: Problem, text: str) -> Problem:
    """Point a config problem at its line: messages start with ``section.key`` or ``[section]``
    (``closures[2].to`` for the second ``[[closures]]`` table)."""
    if a := _ARRAY.match(problem.message):
        return _locate_array(problem, text, a[1], int(a[2]), a[3])
    m = re.match(r"\[?([\w-]+)(?:\.([\w-]+))?", problem.message)
    if m is None:
        return problem
    section, key = m[1], m[2]
    if not problem.message.startswith("[") and key is None:
        section, key = None, section  # a key outside any section
    current = None
    for number, line in enumerate(text.splitlines(), start=1):
        if h := _HEADER.match(line):
            current = h[1]
            if current == section and key is None:
                return replace(problem, location=Location(problem.location.path, number))
        elif current == section and key and re.match(rf"\s*{re.escape(key)}\s*=", line):
            return replace(problem, location=Location(problem.location.path, number))
    return problem


def _locate_array(problem: Problem, text: str, name: str, n: int, key: str | None) -> Problem:
    """Point at the ``key`` line of the ``n``-th ``[[name]]`` table (its header without one)."""
    seen = 0
    found: int | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(rf"^\s*\[\[\s*{name}\s*\]\]", line):
            seen += 1
            if seen == n:
                found = number
            elif seen > n:
                break
        elif _HEADER.match(line) and seen >= n:
            break
        elif seen == n and key and re.match(rf"\s*{re.escape(key)}\s*=", line):
            found = number
            break
    if found is None:
        return problem
    return replace(problem, location=Location(problem.location.path, found))


def parse_config(raw: dict[str, Any], where: Location) -> tuple[Config, list[Problem]]:
    """Return the config described by the TOML table ``raw`` and its problems."""
    problems: list[Problem] = []

    def bad(message: str, severity: Severity = "error") -> None:
        problems.append(Problem(where, message, severity))

    for message in unknown_keys(raw):
        bad(message, "warning")

    def table(name: str) -> dict[str, Any]:
        value = raw.get(name, {})
        if not isinstance(value, dict):
            bad(f"[{name}] must be a table")
            return {}
        return value

    def strings(tab: dict[str, Any], key: str, section: str) -> tuple[str, ...] | None:
        value = tab.get(key)
        if value is None:
            return None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
        bad(f"{section}.{key} must be a list of strings")
        return None

    vault, defaults, cadence, contact, feed = (
        table(n) for n in ("vault", "defaults", "cadence", "contact", "feed")
    )
    kwargs: dict[str, Any] = {}
    for key in ("include", "exclude"):
        if (globs := strings(vault, key, "vault")) is not None:
            kwargs[key] = globs
    tz = vault.get("timezone", "UTC")
    if isinstance(tz, str) and _known_zone(tz):
        kwargs["timezone"] = tz
        kwargs["timezone_set"] = "timezone" in vault
    else:
        bad(f"vault.timezone: unknown time zone {tz!r}")
    feb29 = vault.get("feb29", "feb28")
    if feb29 in ("feb28", "mar1"):
        kwargs["feb29"] = feb29
    else:
        bad(f"vault.feb29 must be 'feb28' or 'mar1', not {feb29!r}")
    if "date_order" in vault:
        order = vault["date_order"]
        if isinstance(order, str) and order.upper() in DATE_ORDERS:
            kwargs["date_order"] = order.upper()
        else:
            bad(f'vault.date_order must be "DMY" or "MDY", not {order!r}')
    for key, parse, field_name in (
        ("cadence", parse_span, "default_cadence"),
        ("max_contacts", parse_cap, "default_max_contacts"),
    ):
        if key in defaults:
            try:
                kwargs[field_name] = parse(str(defaults[key]))
            except ValueError as exc:
                bad(f"defaults.{key}: {exc}")
    by_tag = []
    for tag, text in cadence.items():
        try:
            by_tag.append((tag, parse_span(str(text))))
        except ValueError as exc:
            bad(f"cadence.{tag}: {exc}")
    kwargs["cadence_by_tag"] = tuple(by_tag)
    outreach = strings(contact, "outreach", "contact")
    if outreach is not None:
        bad(
            "contact.outreach is deprecated: name the kinds that are broadcast or note in "
            "[kinds] instead (until then it decides which kinds count toward max_contacts)",
            "warning",
        )
    kwargs["kinds"] = parse_kinds(table("kinds"), outreach, bad)
    kwargs["feed"] = _feed(feed, bad)
    kwargs["loyalty"] = _loyalty(table("loyalty"), bad)
    kwargs["business"] = parse_business(table("business"), bad)
    kwargs["outreach"] = parse_outreach(table("outreach"), bad)
    kwargs["digest"] = parse_digest(table("digest"), bad)
    if "rows" in (agenda := table("agenda")):
        rows = agenda["rows"]
        if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
            bad(f"agenda.rows: {rows!r} is not a whole number of rows (0: all)")
        else:
            kwargs["agenda_rows"] = rows
    if "read_only" in (serve := table("serve")):
        if isinstance(serve["read_only"], bool):
            kwargs["serve_read_only"] = serve["read_only"]
        else:
            bad(f"serve.read_only must be true or false, not {serve['read_only']!r}")
    kwargs["smtp"] = parse_smtp(table("smtp"), bad)
    if "closures" in raw:
        kwargs["closures"] = parse_closures(raw["closures"], bad)
    if "occasions" in raw:
        kwargs["occasions"] = parse_occasions(raw["occasions"], bad)
    if "rewards" in raw:
        kwargs["rewards"] = parse_rewards(raw["rewards"], bad)
    kwargs["topics"] = parse_topics(table("topics"), bad)
    return Config(**kwargs), problems


# The keys of each section; None: any key (``[cadence]`` names tags).
KNOWN_KEYS: dict[str, tuple[str, ...] | None] = {
    "vault": ("include", "exclude", "timezone", "feb29", "date_order"),
    "defaults": ("cadence", "max_contacts"),
    "cadence": None,
    "contact": ("outreach",),
    "kinds": CLASSES,
    "feed": tuple(f.name for f in fields(FeedConfig)),
    "loyalty": tuple(f.name for f in fields(LoyaltyConfig)),
    "business": tuple(f.name for f in fields(BusinessConfig)),
    "outreach": tuple(f.name for f in fields(OutreachConfig)),
    "digest": tuple(f.name for f in fields(DigestConfig)),
    "agenda": ("rows",),
    "serve": ("read_only",),
    "topics": None,
    # "password" is read only to refuse it.
    "smtp": (*(f.name.rstrip("_") for f in fields(SmtpConfig)), "password"),
    # Arrays of tables, their keys checked where they are read: [[closures]], [[occasions]].
    "closures": None,
    "occasions": None,
    "rewards": None,
}
ARRAYS = ("closures", "occasions", "rewards")


def unknown_keys(raw: dict[str, Any]) -> list[str]:
    """Return a message for each section or key of ``raw`` that crm does not read, with a guess."""
    found = []
    sections = {s: f"[{s}]" for s in KNOWN_KEYS if s not in ARRAYS}
    # A key outside any section most likely belongs in one: `timezone` in [vault].
    in_sections = {k: f"[{s}] {k}" for s, ks in KNOWN_KEYS.items() for k in ks or ()}
    for name, value in raw.items():
        if name not in KNOWN_KEYS:
            if isinstance(value, dict):
                found.append(f"[{name}]: unknown section" + _guess(name, sections))
            else:
                found.append(f"{name}: unknown key" + _guess(name, {**in_sections, **sections}))
            continue
        keys = KNOWN_KEYS[name]
        if keys is None or not isinstance(value, dict):
            continue
        found.extend(
            f"{name}.{key}: unknown key" + _guess(key, {k: k for k in keys})
            for key in value
            if key not in keys
        )
    return found


def _guess(name: str, known: dict[str, str]) -> str:
    """Return ", ignored; did you mean 'x'?" for the closest name of ``known`` (shown as its
    value), else the list of them."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    if close:
        return f", ignored; did you mean {known[close[0]]!r}?"
    return f", ignored (known: {', '.join(known.values())})"


def _feed(tab: dict[str, Any], bad: Any) -> FeedConfig:
    defaults = FeedConfig()
    values: dict[str, Any] = {}
    for name, default in (
        ("name", defaults.name),
        ("days_back", defaults.days_back),
        ("days_ahead", defaults.days_ahead),
        ("refresh_minutes", defaults.refresh_minutes),
        ("token", ""),
        ("alarms", defaults.alarms),
        ("lead_days", defaults.lead_days),
        ("include_details", defaults.include_details),
        ("drafts", defaults.drafts),
    ):
        if name not in tab:
            continue
        value = tab[name]
        if type(value) is not type(default) or (isinstance(value, int) and value < 0):
            bad(
                f"feed.{name} must be a {'non-negative ' if isinstance(default, int) and not isinstance(default, bool) else ''}{type(default).__name__}"
            )
            continue
        if (
            name in ("days_back", "days_ahead", "lead_days")
            and isinstance(value, int)
            and value > MAX_FEED_DAYS
        ):
            bad(f"feed.{name} must be at most {MAX_FEED_DAYS} (ten years)")
            continue
        values[name] = value
    return FeedConfig(**values)


def _loyalty(tab: dict[str, Any], bad: Any) -> LoyaltyConfig:
    values: dict[str, Any] = {}
    if "thanks_period" in tab:
        try:
            values["thanks_period"] = parse_span(str(tab["thanks_period"]))
        except ValueError as exc:
            bad(f"loyalty.thanks_period: {exc}")
    for name in ("min_visits", "min_value", "winback_min_value"):
        if name not in tab:
            continue
        value = tab[name]
        # bool is an int to Python but never a sensible count or amount.
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            bad(f"loyalty.{name} must be a non-negative number")
        elif name == "min_visits" and not isinstance(value, int):
            bad("loyalty.min_visits must be a whole number")
        else:
            values[name] = value if name == "min_visits" else float(value)
    return LoyaltyConfig(**values)


def vault_day(config: Config, moment: datetime) -> date:
    """Return the date ``moment`` (aware) falls on in ``[vault] timezone``, else in the machine's zone."""
    from zoneinfo import ZoneInfo

    # The machine's zone when crm.toml names none: the date on the clock of whoever runs crm.
    return moment.astimezone(ZoneInfo(config.timezone) if config.timezone_set else None).date()


def _known_zone(name: str) -> bool:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
