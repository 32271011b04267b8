"""The phone page's WSGI application: routes, the token, the forms' csrf field, the headers.

Every path starts with the feed's secret token; a wrong or missing one is the feed's plain 404,
whatever follows it. ``/TOKEN/calendar.ics`` is handed to the feed's own app. A page is
rendered from the vault as it is at that request (see ``crm.web.pages``); a form posts back
to its own page with a hidden ``csrf`` field, an HMAC of the token and that page, and is
answered with a 303 to the page again.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from crm.core.config import load_config, vault_day
from crm.core.errors import CrmError
from crm.feed.server import FEED_NAME, Environ, FeedApp, StartResponse, plain
from crm.feed.token import token_matches
from crm.index.collection import Collection
from crm.web import pages
from crm.web.html import HEADERS, render

MAX_FORM = 64 * 1024  # a log line and a few fields; anything bigger is no form of these pages
Route = tuple[str, str]  # (page, what it names: a customer id or a campaign; "" for none)

_PAGES: dict[str, tuple[str, Callable[..., dict[str, Any]]]] = {
    "today": ("today.html", lambda here, _: pages.today_page(here)),
    "customer": ("customer.html", pages.customer_page),
    "outbox": ("outbox.html", lambda here, _: pages.outbox_page(here)),
    "campaign": ("campaign.html", pages.campaign_page),
}
_ACTIONS: dict[tuple[str, str], Callable[[pages.Here, str, dict[str, str]], str]] = {
    ("customer", "log"): pages.log_contact,
    ("customer", "snooze"): pages.snooze,
    ("campaign", "sent"): pages.mark_sent,
}


def route(rest: str) -> Route | None:
    """Return the page a path after ``/TOKEN/`` names, or None for no page."""
    if rest == "":
        return ("today", "")
    if rest in ("outbox", "outbox/"):
        return ("outbox", "")
    # An id set in front matter may hold a "/" (team/bo): the customer's is the rest of the path.
    for prefix, page, nested in (("c/", "customer", True), ("outbox/", "campaign", False)):
        name = rest.removeprefix(prefix)
        if name != rest and name and (nested or "/" not in name):
            return (page, name)
    return None


def csrf_of(token: str, page: str) -> str:
    """Return the csrf field of the forms on ``page`` (the path after ``/TOKEN/``)."""
    return hmac.new(token.encode(), b"crm-csrf\0" + page.encode(), hashlib.sha256).hexdigest()[:32]


class PageApp:
    """The phone page at ``/TOKEN/``, with the feed app (when given) at its usual path.

    ``now`` is the clock, read once per request; ``fixed_today`` pins the day. Actions are off
    when ``read_only`` is set here (``crm serve --read-only``) or in ``[serve] read_only``.
    """

    def __init__(
        self,
        root: Path,
        token: str,
        *,
        now: Callable[[], datetime],
        feed: FeedApp | None = None,
        fixed_today: date | None = None,
        read_only: bool = False,
        log: Callable[[str], None] = lambda message: None,
    ) -> None:
        self.root = root
        self.token = token
        self.feed = feed
        self._now = now
        self._fixed_today = fixed_today
        self._read_only = read_only
        self._log = log

    def close(self) -> None:
        """Stop whatever keeps the feed current (WSGI servers never call this)."""
        if self.feed is not None:
            self.feed.close()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        """Answer one request (WSGI)."""
        # WSGI hands the path over as latin-1; the ids in it are UTF-8.
        path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
        given, slash, rest = path.removeprefix("/").partition("/")
        # Compare even when the shape is wrong, so timing says nothing about what exists.
        if not (token_matches(given, self.token) and path.startswith("/")):
            return plain(start_response, "404 Not Found", b"Not Found\n", HEADERS)
        base = environ.get("SCRIPT_NAME", "") + f"/{self.token}/"
        if not slash:
            return _answer(start_response, "308 Permanent Redirect", b"", [("Location", base)])
        if rest == FEED_NAME and self.feed is not None:
            return self.feed(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET")
        found = route(rest)
        if method in ("GET", "HEAD"):
            body = self._page(start_response, found, base, rest, notice=_query(environ, "done"))
            return [] if method == "HEAD" else body
        if method != "POST":
            extra = [("Allow", "GET, HEAD, POST")]
            return _answer(start_response, "405 Method Not Allowed", b"", extra)
        if found is None:
            return self._page(start_response, None, base, rest)
        return self._post(environ, start_response, found, base, rest)

    def _here(self) -> pages.Here:
        moment = self._now()
        config, problems = load_config(self.root)
        today = self._fixed_today or vault_day(config, moment)
        collection = Collection(
            self.root,
            today=today,
            now=moment,
            use_index=not os.environ.get("CRM_NO_INDEX"),
            settings=(config, problems),
        )
        errors = [p for p in problems if p.severity == "error"]
        # Defaults in place of a broken crm.toml could turn read_only off: change nothing then.
        blocked = "" if not errors else f"crm.toml has errors, so this page changes nothing: {errors[0].message}"  # fmt: skip
        actions = not (self._read_only or config.serve_read_only or errors)
        return pages.Here(collection, today, moment, actions, blocked)

    def _page(
        self,
        start_response: StartResponse,
        found: Route | None,
        base: str,
        rest: str,
        status: str = "200 OK",
        *,
        notice: str = "",
        error: str = "",
    ) -> list[bytes]:
        context: dict[str, Any] = {"title": "Not found"}
        template, status = "missing.html", status if found is not None else "404 Not Found"
        forms, business = False, "crm"
        try:
            here = self._here()
            try:
                forms, business = here.actions, here.collection.config.business.name or "crm"
                error = error or here.blocked
                if found is not None:
                    page, name = found
                    template, view = _PAGES[page]
                    context = view(here, name)
            finally:
                here.collection.close()
        except pages.NotFound as exc:
            template, context, status = "missing.html", {"title": str(exc)}, "404 Not Found"
        except Exception as exc:  # a broken vault must give a page that says so, not a traceback
            self._log(f"page /{rest} failed: {exc}")
            template, context = "missing.html", {"title": "This page could not be built"}
            status = "500 Internal Server Error"
        body = render(
            template,
            **context,
            base=base,
            here=base + quote(rest),
            business=business,
            notice=pages.NOTICES.get(notice, ""),
            error=error,
            forms=forms,
            csrf=csrf_of(self.token, rest),
        )
        return _answer(start_response, status, body, [("Content-Type", "text/html; charset=utf-8")])

    def _post(
        self, environ: Environ, start_response: StartResponse, found: Route, base: str, rest: str
    ) -> list[bytes]:
        page, name = found
        if environ.get("HTTP_SEC_FETCH_SITE") == "cross-site":
            return _answer(
                start_response, "403 Forbidden", b"Forbidden: a form from another site\n"
            )
        form = _form(environ)
        if form is None:
            return _answer(start_response, "413 Content Too Large", b"Content Too Large\n")
        if not hmac.compare_digest(form.get("csrf", ""), csrf_of(self.token, rest)):
            return _answer(start_response, "403 Forbidden", b"Forbidden: no valid csrf field\n")
        here = self._here()
        try:
            if here.blocked:
                return _answer(start_response, "403 Forbidden", b"Forbidden: crm.toml has errors\n")
            if not here.actions:
                return _answer(start_response, "403 Forbidden", b"Forbidden: read-only\n")
            action = _ACTIONS.get((page, form.get("action", "")))
            if action is None:
                return _answer(start_response, "400 Bad Request", b"Bad Request: no such action\n")
            done = action(here, name, form)
        except pages.NotFound as exc:
            return self._page(start_response, found, base, rest, "404 Not Found", error=str(exc))
        except CrmError as exc:
            self._log(f"/{rest}: {exc}")
            return self._page(start_response, found, base, rest, "400 Bad Request", error=str(exc))
        except Exception as exc:  # an unwritable file, a full disk: say so, never a traceback
            self._log(f"/{rest}: {form.get('action')} failed: {exc}")
            message = f"{form.get('action')} failed: {exc}"
            status = "500 Internal Server Error"
            return self._page(start_response, found, base, rest, status, error=message)
        finally:
            here.collection.close()
        target = base + quote(rest) + f"?done={done}"
        return _answer(start_response, "303 See Other", b"", [("Location", target)])


def _answer(
    start_response: StartResponse,
    status: str,
    body: bytes,
    extra: Sequence[tuple[str, str]] = (),
) -> list[bytes]:
    """Start the response with every page's headers (no-store, no-referrer, CSP)."""
    kind = (
        []
        if any(k == "Content-Type" for k, _ in extra)
        else [("Content-Type", "text/plain; charset=utf-8")]
    )
    start_response(status, [*kind, ("Content-Length", str(len(body))), *HEADERS, *extra])
    return [body]


def _query(environ: Environ, key: str) -> str:
    """Return the first value of ``key`` in the query string ("" when none, or a flood)."""
    try:
        values = parse_qs(environ.get("QUERY_STRING", ""), max_num_fields=10).get(key, [""])
    except ValueError:
        return ""
    return str(values[0])


def _form(environ: Environ) -> dict[str, str] | None:
    """Return the posted form (the last value of each field), or None when it is too big."""
    try:
        size = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        size = 0
    if size > MAX_FORM:
        return None
    data = environ["wsgi.input"].read(size) if size > 0 else b""
    text = data.decode("utf-8", "replace")
    try:
        fields = parse_qs(text, keep_blank_values=True, max_num_fields=20)
    except ValueError:
        return {}
    return {k: v[-1] for k, v in fields.items()}
