"""Tap-to-send links for a phone: ``sms:``, ``https://wa.me/``, ``mailto:``, ``tel:``.

Phone numbers are normalised to E.164 with ``phonenumbers``; a number written without its
country code reads in ``[business] region``. The ``sms:`` link is ``sms:+4915...?&body=...``:
iOS reads the body after ``&``, Android after ``?``, and both ignore the empty other part.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from email.utils import getaddresses
from urllib.parse import quote

import phonenumbers

from crm.rules.audience import PHONE_CHANNELS


class BadNumber(ValueError):
    """A phone number that cannot be dialled: the message says why."""


def e164(number: str, region: str = "") -> str:
    """Return ``number`` as E.164 (``+4915123456789``); raise ``BadNumber`` saying why not."""
    try:
        parsed = phonenumbers.parse(number, region.upper() or None)
    except phonenumbers.NumberParseException as exc:
        if exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            raise BadNumber(
                f"{number!r} has no country code (+49 ...) and [business] region is not set"
            ) from None
        raise BadNumber(f"{number!r} is not a phone number") from None
    # Possible, not valid: a number from a range the library does not know yet (or a made-up
    # one in an example) still dials; a number of a few digits is a typo or an extension.
    if not phonenumbers.is_possible_number(parsed) or len(str(parsed.national_number)) < 6:
        raise BadNumber(f"{number!r} has too few or too many digits for a phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _q(text: str) -> str:
    return quote(text, safe="")


def sms_link(number: str, body: str = "") -> str:
    """Return an ``sms:`` link to an E.164 number with the text filled in (iOS and Android)."""
    return f"sms:{number}?&body={_q(body)}" if body else f"sms:{number}"


def tel_link(number: str) -> str:
    """Return a ``tel:`` link to an E.164 number (RFC 3966: ``tel:+4915123456789``)."""
    return f"tel:{number}"


def whatsapp_link(number: str, body: str) -> str:
    """Return a ``https://wa.me/`` link: the number's digits without ``+``, the text filled in."""
    return f"https://wa.me/{number.lstrip('+')}?text={_q(body)}"


def mailto_link(address: str, subject: str | None = None, body: str = "") -> str:
    """Return a ``mailto:`` link (RFC 6068: spaces as ``%20``, line breaks as ``%0D%0A``)."""
    query = []
    if subject:
        query.append(f"subject={_q(subject)}")
    if body:
        query.append(f"body={_q(body.replace(chr(13), '').replace(chr(10), chr(13) + chr(10)))}")
    return f"mailto:{quote(address, safe='@+')}" + (f"?{'&'.join(query)}" if query else "")


def page(title: str, items: Sequence[tuple[str, str, str, str]]) -> str:
    """Return a small HTML page of tap-to-send links: (name, channel, link, message) each.

    Every text is escaped; the page has no script and asks browsers not to send the URL on.
    """
    e = html.escape
    rows = "\n".join(
        f'<li><a href="{e(link, quote=True)}">{e(name)}</a> <small>{e(channel)}</small>'
        f"<p>{e(message).replace(chr(10), '<br>')}</p></li>"
        for name, channel, link, message in items
    )
    return f"""<!doctype html>
<html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{e(title)}</title>
<style>body{{font:16px/1.4 system-ui,sans-serif;margin:1em;max-width:40em}}
li{{margin:0 0 1em}}a{{font-size:1.2em}}p{{margin:.3em 0;color:#444}}</style>
</head><body>
<h1>{e(title)}</h1>
<p>Tap a name to open the message, send it, then run <code>crm sent</code>.</p>
<ol>
{rows}
</ol>
</body></html>
"""


def link_of(channel: str, to: str, subject: str | None, body: str, region: str = "") -> str:
    """Return the tap-to-send link of a message on ``channel`` to ``to`` (a phone number, or an
    email header such as ``Ana García <ana@example.com>``)."""
    if channel in PHONE_CHANNELS:
        try:
            number = e164(to, region)  # a number edited by hand in the draft
        except BadNumber:
            number = "".join(ch for ch in to if ch.isdigit() or ch == "+")
        return sms_link(number, body) if channel == "sms" else whatsapp_link(number, body)
    address = getaddresses([to])[0][1] if "<" in to else to
    return mailto_link(address, subject, body)
