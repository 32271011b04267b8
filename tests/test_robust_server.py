"""The server under idle, slow and greedy clients: a real request is still answered.

Real servers on 127.0.0.1, port 0. The greedy client connects from another loopback address
(127.0.0.2) so that its connections count apart from the real request's. Every wait has a
generous timeout as a guard against a hang; nothing asserts how long anything took.
"""

from __future__ import annotations

import os
import queue
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from waitress import wasyncore

from crm.feed.server import (
    CONNECTION_LIMIT,
    IDLE_TIMEOUT,
    PER_CLIENT,
    FeedApp,
    feed_path,
    make_server,
)
from tests.conftest import WriteVault

TOKEN = "s3cret-token-0123456789"
ELSEWHERE = ("127.0.0.2", 0)  # another client on the same machine
GUARD = 30  # seconds: only ever reached when something hangs
DOCS = Path(__file__).resolve().parent.parent / "docs"


def feed_app() -> FeedApp:
    app = FeedApp(TOKEN, lambda: b"feed", clock=lambda: datetime(2026, 11, 23, tzinfo=UTC))
    app.refresh()
    return app


Start = Callable[..., int]


@pytest.fixture
def serving() -> Iterator[Start]:
    """Start real servers with ``make_server``'s options; return the port; stop them after."""
    running: list[tuple[Any, threading.Thread]] = []

    def start(**options: int) -> int:
        server = make_server(feed_app(), "127.0.0.1", 0, **options)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        running.append((server, thread))
        return int(server.effective_port)

    yield start
    for server, thread in running:
        # Sockets are closed by the loop's own thread (from here, select() would fail).
        server.trigger.pull_trigger(lambda s=server: wasyncore.close_all(s._map))
        thread.join(GUARD)
        server.task_dispatcher.shutdown()
        assert not thread.is_alive()


def fetch(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=GUARD) as response:
        return response.status, response.read()


def connect(port: int, source: tuple[str, int] = ELSEWHERE) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=GUARD, source_address=source)


def answer(sock: socket.socket) -> bytes:
    """Ask for the feed on ``sock`` (kept alive) and return the whole response."""
    sock.sendall(f"GET {feed_path(TOKEN)} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    got = b""
    while not got.endswith(b"\r\n\r\nfeed"):
        chunk = sock.recv(4096)
        assert chunk, got
        got += chunk
    return got


def closed_by_server(sock: socket.socket) -> bool:
    """Return True when the server has closed ``sock`` (waiting up to the guard for it)."""
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:  # closed with our bytes unread
        return True


def still_open(sock: socket.socket) -> bool:
    """Return True when nothing, not even a close, has come from the server yet."""
    readable, _, _ = select.select([sock], [], [], 0)
    return not readable


def test_crm_serve_uses_the_documented_limits() -> None:
    assert (IDLE_TIMEOUT, PER_CLIENT, CONNECTION_LIMIT) == (10, 20, 200)
    server = make_server(feed_app(), "127.0.0.1", 0)
    try:
        assert server.adj.channel_timeout == IDLE_TIMEOUT
        assert server.adj.cleanup_interval == 1
        assert server.adj.connection_limit == CONNECTION_LIMIT
        assert server.per_client == PER_CLIENT
    finally:
        server.close()
        server.task_dispatcher.shutdown()
    phone = " ".join((DOCS / "phone.md").read_text(encoding="utf-8").split())
    assert (
        "An idle connection, or one that takes longer than 10 s to send its request, is closed"
        in phone
    )
    assert "20 connections at once from one address" in phone
    assert "200 in all" in phone


def test_connections_past_the_cap_from_one_address_are_closed_at_once(serving: Start) -> None:
    port = serving(per_client=3, idle_timeout=GUARD)
    kept = [connect(port) for _ in range(3)]
    extra = [connect(port) for _ in range(2)]
    try:
        assert [closed_by_server(s) for s in extra] == [True, True]
        # Accepted in order: the first three were in before the extra ones were turned away.
        assert [still_open(s) for s in kept] == [True, True, True]
        # Another address is not held back by them.
        assert fetch(f"http://127.0.0.1:{port}{feed_path(TOKEN)}") == (200, b"feed")
        # And the kept ones are served.
        assert answer(kept[0]).startswith(b"HTTP/1.1 200 OK\r\n")
    finally:
        for s in kept + extra:
            s.close()


def test_an_idle_connection_is_closed_after_the_timeout(serving: Start) -> None:
    port = serving(idle_timeout=1)
    with connect(port) as silent, connect(port) as half:
        half.sendall(b"GET /" + TOKEN.encode())  # and never finishes the request line
        assert closed_by_server(silent)
        assert closed_by_server(half)


def test_a_request_that_trickles_in_is_closed_after_the_timeout(serving: Start) -> None:
    """A byte every 0.2 s keeps a connection busy, but the request never ends: closed."""
    port = serving(idle_timeout=1)
    with connect(port) as slow:
        slow.sendall(b"GET /" + TOKEN.encode() + b"/calendar.ics HTTP/1.1\r\n")
        deadline = time.monotonic() + GUARD
        closed = False
        while not closed and time.monotonic() < deadline:
            try:
                slow.sendall(b"X")
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            readable, _, _ = select.select([slow], [], [], 0.2)
            closed = bool(readable) and closed_by_server(slow)
        assert closed


def test_a_connection_that_is_answered_in_time_is_served(serving: Start) -> None:
    port = serving(idle_timeout=1)
    with connect(port) as client:
        assert answer(client).startswith(b"HTTP/1.1 200 OK\r\n")
        assert answer(client).startswith(b"HTTP/1.1 200 OK\r\n")  # kept alive for the next
        assert closed_by_server(client)  # then idle: closed after the timeout


def test_crm_serve_answers_while_110_connections_stall(write_vault: WriteVault) -> None:
    """The reported case: 110 half-open connections without the token, then a real request."""
    root = write_vault({"ana.md": "---\nname: Ana\nfirst_name: Ana\nbirthday: 1989-12-02\n---\n"})
    command = [sys.executable, "-c", "from crm.cli import main; main()", "--vault", str(root)]
    env = {**os.environ, "CRM_FEED_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [*command, "serve", "--port", "0", "--today", "2026-11-23"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    stalled: list[socket.socket] = []
    try:
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(
            target=lambda: [lines.put(x) for x in proc.stdout or ()], daemon=True
        ).start()
        assert lines.get(timeout=GUARD).startswith("Serving ")
        url = lines.get(timeout=GUARD).strip()
        found = re.fullmatch(rf"http://127\.0\.0\.1:(\d+)/{TOKEN}/calendar\.ics", url)
        assert found is not None, url
        port = int(found[1])
        for n in range(110):
            sock = connect(port)
            if n % 2:
                sock.sendall(b"GET /")  # half a request line
            stalled.append(sock)
        status, body = fetch(url.removesuffix("calendar.ics"))
        assert status == 200 and b"<b>Ana</b>" in body
        # The real request came after them, so they have all been accepted or turned away.
        turned_away = [s for s in stalled if not still_open(s) and closed_by_server(s)]
        assert len(turned_away) >= 110 - PER_CLIENT
    finally:
        for sock in stalled:
            sock.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=GUARD) == 0
    assert proc.stderr is not None and proc.stderr.read() == ""
