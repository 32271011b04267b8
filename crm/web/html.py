"""The page templates (Jinja2, every value escaped) and the one style sheet they share.

The style sheet is inlined in every page, and the Content-Security-Policy allows exactly that
style by its hash: no script, no other style, no framing, forms posting only to this site.
"""

from __future__ import annotations

import base64
import hashlib
from importlib import resources
from typing import Any

import jinja2

CSS = resources.files("crm.web").joinpath("templates/page.css").read_text(encoding="utf-8")
_CSS_HASH = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
CSP = (
    f"default-src 'none'; style-src 'sha256-{_CSS_HASH}'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = [
    ("Cache-Control", "no-store"),
    # The token is in the URL: no link followed from a page may carry it away.
    ("Referrer-Policy", "no-referrer"),
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
]

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("crm.web", "templates"),
    autoescape=True,  # a customer's name or note is data, never markup
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(template: str, **context: Any) -> bytes:
    """Return the page ``template`` rendered with ``context``, as UTF-8."""
    return _ENV.get_template(template).render(css=CSS, **context).encode("utf-8")
