"""The feed over HTTP: a WSGI app that serves the last good feed from memory, never rendering.

Rebuilds happen elsewhere (the watcher's thread, the day ticker) through ``FeedApp.refresh``;
a request only reads the current ``Snapshot``, so it never waits on a rebuild.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from crm.core.errors import CrmError
from crm.feed.token import token_matches

FEED_NAME = "calendar.ics"
CONTENT_TYPE = "text/calendar; charset=utf-8"

StartResponse = Callable[..., Any]
Environ = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The bytes being served, with their validators."""

    body: bytes
    etag: str
    last_modified: datetime


def feed_path(token: str) -> str:
    """Return the URL path of the feed for ``token``."""
    return f"/{token}/{FEED_NAME}"


class FeedApp:
    """A WSGI application serving one feed at its secret path; 404 for anything else.

    ``build`` makes the bytes on ``refresh``; ``clock`` says when, for ``Last-Modified``.
    """

    def __init__(
        self,
        token: str,
        build: Callable[[], bytes],
        *,
        clock: Callable[[], datetime],
        log: Callable[[str], None] = lambda message: None,
    ) -> None:
        self.token = token
        self._build = build
        self._clock = clock
        self._log = log
        self._lock = threading.Lock()
        self.snapshot: Snapshot | None = None
        # What keeps this app current (watcher, ticker); WSGI servers never call close().
        self.closers: list[Callable[[], None]] = []

    def close(self) -> None:
        """Stop whatever rebuilds this app in the background."""
        while self.closers:
            self.closers.pop()()

    def refresh(self) -> bool:
        """Rebuild the feed; return True when the bytes changed. A failed build keeps the old ones."""
        with self._lock:  # one rebuild at a time; requests do not take this lock
            try:
                body = self._build()
            except Exception as exc:  # any failure must leave the last good feed up
                self._log(f"rebuild failed, still serving the previous feed: {exc}")
                return False
            old = self.snapshot
            if old is not None and old.body == body:
                return False
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            # HTTP dates have whole seconds; a finer Last-Modified would never match on 304 checks.
            modified = self._clock().astimezone(UTC).replace(microsecond=0)
            self.snapshot = Snapshot(body, etag, modified)
            return True

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        """Answer one request (WSGI)."""
        path = environ.get("PATH_INFO", "")
        prefix, suffix = "/", "/" + FEED_NAME
        given = path[len(prefix) : -len(suffix)] if path.endswith(suffix) else ""
        # Compare even when the shape is wrong, so timing says nothing about what exists.
        if not (token_matches(given, self.token) and path.startswith(prefix)):
            return plain(start_response, "404 Not Found", b"Not Found\n")
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            return plain(
                start_response,
                "405 Method Not Allowed",
                b"Method Not Allowed\n",
                [("Allow", "GET, HEAD")],
            )
        snap = self.snapshot
        if snap is None:
            return plain(
                start_response,
                "503 Service Unavailable",
                b"The feed is being built\n",
                [("Retry-After", "5")],
            )
        headers = [
            ("ETag", snap.etag),
            ("Last-Modified", format_datetime(snap.last_modified, usegmt=True)),
            ("Cache-Control", "no-cache"),
        ]
        if _not_modified(environ, snap):
            start_response("304 Not Modified", headers)
            return []
        start_response(
            "200 OK",
            [
                ("Content-Type", CONTENT_TYPE),
                ("Content-Length", str(len(snap.body))),
                *headers,
                ("Content-Disposition", f'inline; filename="{FEED_NAME}"'),
                ("X-Content-Type-Options", "nosniff"),
                # The token is in the URL: never leak it through a Referer header.
                ("Referrer-Policy", "no-referrer"),
            ],
        )
        return [] if method == "HEAD" else [snap.body]


def _not_modified(environ: Environ, snap: Snapshot) -> bool:
    """Return True when the client's copy is current (If-None-Match wins over If-Modified-Since)."""
    inm = environ.get("HTTP_IF_NONE_MATCH")
    if inm is not None:
        tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
        return "*" in tags or snap.etag in tags
    ims = environ.get("HTTP_IF_MODIFIED_SINCE")
    if ims is None:
        return False
    try:
        since = parsedate_to_datetime(ims)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return snap.last_modified <= since


def plain(
    start_response: StartResponse,
    status: str,
    body: bytes,
    extra: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    """Answer with a short plain-text ``body`` (the feed's 404 is every wrong token's answer)."""
    start_response(
        status,
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            *(extra or []),
        ],
    )
    return [body]


# The limits of ``crm serve`` (docs/phone.md, "Limits"). A phone's browser opens about six
# connections, a calendar one or two; a client that holds more, or says nothing, is not a person.
THREADS = 8
IDLE_TIMEOUT = 10  # seconds a connection may stay silent, or take to send one whole request
PER_CLIENT = 20  # connections one client address may hold at once
CONNECTION_LIMIT = 200  # connections in all (waitress counts its own two sockets among them)


def make_server(
    app: Callable[[Environ, StartResponse], Iterable[bytes]],
    host: str,
    port: int,
    *,
    idle_timeout: int = IDLE_TIMEOUT,
    per_client: int = PER_CLIENT,
    connection_limit: int = CONNECTION_LIMIT,
) -> Any:
    """Return a waitress server for a WSGI ``app`` bound to ``host:port`` (port 0: a free one).

    Idle and slow clients are closed after ``idle_timeout`` seconds, and one address holds at
    most ``per_client`` connections of the ``connection_limit``, so that a few clients with
    many half-open connections cannot keep everyone else waiting.
    """
    from crm.feed.httpd import guarded_server

    try:
        return guarded_server(
            app,
            host,
            port,
            threads=THREADS,
            idle_timeout=idle_timeout,
            per_client=per_client,
            connection_limit=connection_limit,
        )
    except OSError as exc:
        raise CrmError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
