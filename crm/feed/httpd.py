"""waitress with the limits a server on the open network needs.

Idle connections and requests that trickle in are closed after a timeout, and one client
address holds only so many connections at once (the next one is closed as soon as it is
accepted), so a few hundred half-open sockets cannot keep a real request waiting.

Imported by ``crm.feed.server.make_server`` only: waitress loads when a server starts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from time import monotonic, sleep
from typing import Any

from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import MultiSocketServer, TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher

# How often the server looks for connections past their time, in seconds (waitress: 30).
CLEANUP_INTERVAL = 1


class Channel(HTTPChannel):  # type: ignore[misc]
    """A connection that remembers when the request it is receiving began."""

    # When the first byte of the request still being received came; None between requests.
    started: float | None = None

    def received(self, data: bytes) -> bool:
        """Take in bytes from the client (waitress), noting when a new request begins."""
        pending = self.request
        taken: bool = super().received(data)
        if self.request is None:
            self.started = None
        elif self.request is not pending:
            # waitress stamped this read just before handing it over: the request began now.
            self.started = self.last_activity
        return taken


class Server(TcpWSGIServer):  # type: ignore[misc]
    """A waitress TCP server with a cap per client address and a deadline per request."""

    channel_class = Channel
    per_client: int  # set by guarded_server, before the server runs

    def accept(self) -> tuple[Any, Any] | None:
        """Accept the next connection, or close it at once when its address holds too many."""
        pair: tuple[Any, Any] | None = super().accept()
        if pair is None:
            return None
        conn, addr = pair
        host = _host(addr)
        channels = list(self.active_channels.values())
        if sum(1 for ch in channels if _host(getattr(ch, "addr", None)) == host) >= self.per_client:
            conn.close()
            return None
        return pair

    def maintenance(self, now: float) -> None:
        """Close idle connections (waitress) and those whose request is not in after as long."""
        super().maintenance(now)
        # Bytes that trickle in keep a connection active: a request has its own deadline.
        cutoff = now - self.adj.channel_timeout
        for channel in list(self.active_channels.values()):
            started = channel.started
            if not channel.requests and started is not None and started < cutoff:
                channel.will_close = True


def _host(addr: Any) -> Any:
    """Return the host of a peer address (a unix socket's address is its own host)."""
    return addr[0] if isinstance(addr, tuple) else addr


def _ready(dispatcher: ThreadedTaskDispatcher, wait: float = 5.0) -> None:
    """Wait (briefly) until the worker threads wait for work: waitress counts a thread busy
    until it does, and a first request before then logs a false "Task queue depth is 1"."""
    deadline = monotonic() + wait
    while dispatcher.active_count and monotonic() < deadline:
        sleep(0.001)


def guarded_server(
    app: Callable[..., Iterable[bytes]],
    host: str,
    port: int,
    *,
    threads: int,
    idle_timeout: int,
    per_client: int,
    connection_limit: int,
) -> Any:
    """Return a waitress server of ``app`` on ``host:port`` with these limits (OSError: cannot bind)."""
    adj = Adjustments(
        host=host,
        port=port,
        threads=threads,
        channel_timeout=idle_timeout,
        cleanup_interval=CLEANUP_INTERVAL,
        connection_limit=connection_limit,
        ident="crm",
        expose_tracebacks=False,
    )
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(threads)
    _ready(dispatcher)
    socket_map: dict[int, Any] = {}
    servers = []
    try:
        for info in adj.listen:  # as waitress.create_server: one server per address
            server = Server(app, socket_map, dispatcher=dispatcher, adj=adj, sockinfo=info)
            server.per_client = per_client
            servers.append(server)
    except BaseException:
        wasyncore.close_all(socket_map)
        dispatcher.shutdown()
        raise
    if len(servers) == 1:
        return servers[0]
    listening = [(s.effective_host, s.effective_port) for s in servers]
    return MultiSocketServer(socket_map, adj, listening, dispatcher, servers[-1].log_info)
