"""Dates in the customer's language: the ``date`` filter of message templates (Babel)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import jinja2
from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton

from crm.core.model import PartialDate

# A date without its year, by style: Babel skeletons, so each language orders day and month.
_YEARLESS = {"short": "Md", "medium": "MMMd", "long": "MMMMd", "full": "MMMMd"}
LOCALE_KEY = "_locale"  # not a name a template may use (the check refuses it)


def locale_of(language: str | None, fallback: str) -> Locale:
    """Return the Babel locale of a language code (``de``, ``pt-BR``), else of ``fallback``."""
    for code in (language, fallback, "en"):
        if not code:
            continue
        try:
            return Locale.parse(code.replace("-", "_"))
        except (ValueError, UnknownLocaleError):
            continue
    return Locale.parse("en")


@jinja2.pass_context
def date_filter(ctx: jinja2.runtime.Context, value: Any, style: str = "long") -> str:
    """Format a date in the customer's language: ``{{ last.date | date }}``, ``date("short")``,
    or a Babel pattern such as ``date("d MMMM")``; a yearless date prints day and month."""
    if isinstance(value, jinja2.Undefined):
        return str(value)  # raises: the value is missing
    locale = ctx.get(LOCALE_KEY) or Locale.parse("en")
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, PartialDate):
        if value.year is None:
            day = date(2000, value.month, value.day)  # a leap year holds every birthday
            if style in _YEARLESS:
                return format_skeleton(_YEARLESS[style], day, locale=locale)
            # A pattern's year has nothing to print: the rest of the pattern does.
            pattern = re.sub(r"[yYuU]+", "", style).strip(" ,./-'") or "MMMM d"
            return format_date(day, pattern, locale=locale)
        value = date(value.year, value.month, value.day)
    if not isinstance(value, date):
        raise jinja2.TemplateRuntimeError(f"date: {value!r} is not a date")
    return format_date(value, style, locale=locale)
