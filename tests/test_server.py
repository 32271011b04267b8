"""The feed server: the WSGI app on its own, the token, and a real waitress server end to end."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import icalendar
import pytest
from click.testing import CliRunner
from waitress import wasyncore

from crm.cli import main
from crm.cli.wsgi import make_app
from crm.core.config import Config, FeedConfig
from crm.core.errors import CrmError
from crm.feed.live import FeedJob, LiveFeed
from crm.feed.server import FeedApp, feed_path, make_server
from crm.feed.token import TOKEN_FILE, feed_token, token_matches
from tests.conftest import WriteVault, call, wall_clock

TOKEN = "s3cret-token-0123456789"
T0 = datetime(2026, 11, 23, 9, 0, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def app_with(bodies: list[bytes | Exception], clock: Clock | None = None) -> FeedApp:
    """Return an app whose builds hand out ``bodies`` in turn (an exception fails that build)."""
    logs: list[str] = []

    def build() -> bytes:
        item = bodies.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    app = FeedApp(TOKEN, build, clock=clock or Clock(), log=logs.append)
    app.logs = logs  # type: ignore[attr-defined]
    return app


def test_feed_is_served_with_validators_and_calendar_type() -> None:
    app = app_with([b"BEGIN:VCALENDAR\r\n"])
    assert app.refresh() is True
    status, headers, body = call(app, f"/{TOKEN}/calendar.ics")
    assert status == "200 OK"
    assert body == b"BEGIN:VCALENDAR\r\n"
    assert headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert headers["Content-Length"] == "17"
    assert headers["Last-Modified"] == "Mon, 23 Nov 2026 09:00:00 GMT"
    assert headers["ETag"].startswith('"') and not headers["ETag"].startswith("W/")
    assert "Content-Encoding" not in headers


def test_head_has_the_headers_without_the_body() -> None:
    app = app_with([b"feed"])
    app.refresh()
    status, headers, body = call(app, f"/{TOKEN}/calendar.ics", "HEAD")
    assert (status, body, headers["Content-Length"]) == ("200 OK", b"", "4")


def test_conditional_requests_get_304() -> None:
    app = app_with([b"feed"])
    app.refresh()
    etag = call(app, f"/{TOKEN}/calendar.ics")[1]["ETag"]
    path = f"/{TOKEN}/calendar.ics"
    assert call(app, path, if_none_match=etag)[:1] == ("304 Not Modified",)
    assert call(app, path, if_none_match=f'"x", W/{etag}')[0] == "304 Not Modified"
    assert call(app, path, if_none_match='"other"')[0] == "200 OK"
    assert call(app, path, if_modified_since="Mon, 23 Nov 2026 09:00:00 GMT")[0] == (
        "304 Not Modified"
    )
    assert call(app, path, if_modified_since="Mon, 23 Nov 2026 08:59:59 GMT")[0] == "200 OK"
    assert call(app, path, if_modified_since="garbage")[0] == "200 OK"
    # If-None-Match wins: a changed feed is sent even when the date would say 304.
    assert call(
        app, path, if_none_match='"old"', if_modified_since="Mon, 23 Nov 2026 10:00:00 GMT"
    )[0] == ("200 OK")


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/calendar.ics",
        "//calendar.ics",
        f"/{TOKEN}x/calendar.ics",
        f"/{TOKEN[:-1]}/calendar.ics",
        f"/{TOKEN}/calendar.ics/",
        f"/{TOKEN}/other.ics",
        f"/{TOKEN}",
        f"/x/{TOKEN}/calendar.ics",
    ],
)
def test_anything_but_the_secret_path_is_a_bare_404(path: str) -> None:
    app = app_with([b"feed"])
    app.refresh()
    status, headers, body = call(app, path)
    assert (status, body) == ("404 Not Found", b"Not Found\n")
    assert "ETag" not in headers


def test_other_methods_are_refused() -> None:
    app = app_with([b"feed"])
    app.refresh()
    status, headers, _ = call(app, f"/{TOKEN}/calendar.ics", "POST")
    assert (status, headers["Allow"]) == ("405 Method Not Allowed", "GET, HEAD")
    assert call(app, "/nope", "POST")[0] == "404 Not Found"


def test_before_the_first_build_the_feed_is_unavailable() -> None:
    app = app_with([])
    status, headers, _ = call(app, f"/{TOKEN}/calendar.ics")
    assert (status, headers["Retry-After"]) == ("503 Service Unavailable", "5")


def test_a_failed_rebuild_keeps_serving_the_last_good_bytes() -> None:
    clock = Clock()
    app = app_with([b"one", RuntimeError("disk on fire"), b"one", b"two"], clock)
    assert app.refresh() is True
    first = call(app, f"/{TOKEN}/calendar.ics")[1]
    clock.now += timedelta(minutes=5)
    assert app.refresh() is False
    assert app.logs == ["rebuild failed, still serving the previous feed: disk on fire"]  # type: ignore[attr-defined]
    assert app.refresh() is False  # same bytes: same ETag and Last-Modified
    assert call(app, f"/{TOKEN}/calendar.ics")[1] == first
    assert app.refresh() is True
    status, headers, body = call(app, f"/{TOKEN}/calendar.ics")
    assert body == b"two"
    assert headers["ETag"] != first["ETag"]
    assert headers["Last-Modified"] == "Mon, 23 Nov 2026 09:05:00 GMT"


def test_token_comes_from_config_then_environment_then_a_stored_file(tmp_path: Path) -> None:
    configured = Config(feed=FeedConfig(token="from-config-0123456789"))
    assert feed_token(tmp_path, configured, "from-env-0123456789abc") == "from-config-0123456789"
    assert feed_token(tmp_path, Config(), "from-env-0123456789abc") == "from-env-0123456789abc"
    assert not (tmp_path / ".crm").exists()
    made = feed_token(tmp_path, Config(), None)
    assert len(made) >= 40
    assert (tmp_path / TOKEN_FILE).read_text() == made + "\n"
    assert stat.S_IMODE((tmp_path / TOKEN_FILE).stat().st_mode) == 0o600
    assert feed_token(tmp_path, Config(), None) == made


def test_a_weak_or_odd_token_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CrmError) as err:
        feed_token(tmp_path, Config(feed=FeedConfig(token="short")), None)
    assert str(err.value) == (
        "feed token from crm.toml [feed] token must be 16 to 256 characters of A-Z, a-z, 0-9, - and _"
    )
    assert err.value.exit_code == 2
    assert token_matches(TOKEN, TOKEN)
    assert not token_matches("ümlaut", TOKEN)


def test_feed_url_prints_the_subscription_urls(write_vault: WriteVault) -> None:
    root = write_vault({})
    env = {"CRM_FEED_TOKEN": TOKEN}
    result = CliRunner().invoke(main, ["--vault", str(root), "feed-url"], env=env)
    assert result.exit_code == 0
    assert result.output == (
        f"http://127.0.0.1:8765/{TOKEN}/calendar.ics\nwebcal://127.0.0.1:8765/{TOKEN}/calendar.ics\n"
    )
    result = CliRunner().invoke(
        main, ["--vault", str(root), "feed-url", "--base-url", "https://crm.example.com/"], env=env
    )
    assert result.output.splitlines() == [
        f"https://crm.example.com/{TOKEN}/calendar.ics",
        f"webcal://crm.example.com/{TOKEN}/calendar.ics",
    ]


def test_feed_url_generates_and_then_reuses_the_vault_token(write_vault: WriteVault) -> None:
    root = write_vault({})
    first = CliRunner().invoke(main, ["--vault", str(root), "feed-url"], env={"CRM_FEED_TOKEN": ""})
    again = CliRunner().invoke(main, ["--vault", str(root), "feed-url"], env={"CRM_FEED_TOKEN": ""})
    token = (root / TOKEN_FILE).read_text().strip()
    assert first.output == again.output
    assert f"/{token}/calendar.ics" in first.output


# --- a real server ---------------------------------------------------------------------------


def wait_for(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Return the first truthy result of ``check``, polling until ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {check}")
        time.sleep(0.02)


def stop_server(server: Any, thread: threading.Thread, timeout: float = 10) -> None:
    """Stop a waitress server whose ``run()`` loops in ``thread``, and wait for it to end."""
    # Sockets must be closed by the loop's own thread; closing them under a running
    # select() from here fails with EBADF.
    try:
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
    except OSError:
        # Seen once in ~10 full runs on a loaded machine, never alone: the loop had closed its
        # trigger itself (waitress closes a dispatcher whose read fails). The requests were
        # answered; close what is left from here, and the loop ends.
        wasyncore.close_all(server._map, ignore_all=True)
    thread.join(timeout)
    server.task_dispatcher.shutdown()


@pytest.fixture
def serving() -> Iterator[Callable[[FeedApp], str]]:
    """Start real waitress servers on 127.0.0.1, port 0; return their base URL; stop them after."""
    running: list[tuple[Any, threading.Thread]] = []

    def start(app: FeedApp) -> str:
        server = make_server(app, "127.0.0.1", 0)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        running.append((server, thread))
        return f"http://127.0.0.1:{server.effective_port}"

    yield start
    for server, thread in running:
        stop_server(server, thread)
        assert not thread.is_alive()


def fetch(url: str, **headers: str) -> tuple[int, Message, bytes]:
    """Return status, headers (case-insensitive, as sent by waitress) and body of a GET."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def uids(body: bytes) -> dict[str, str]:
    cal = icalendar.Calendar.from_ical(body)
    return {str(e["UID"]): str(e["SUMMARY"]) for e in cal.walk("VEVENT")}


def test_real_server_serves_304s_404s_and_picks_up_edits(
    write_vault: WriteVault, serving: Callable[[FeedApp], str]
) -> None:
    root = write_vault(
        {
            "crm.toml": "[feed]\ndays_ahead = 60\n",
            "ana.md": "---\nname: Ana García\nfirst_name: Ana\nid: ana\nbirthday: 1989-12-02\n---\n",
            "bo.md": "---\nname: Bo Lee\nfirst_name: Bo\nbirthday: 1990-12-20\n---\n",
        }
    )
    logs: list[str] = []
    live = LiveFeed(
        FeedJob(root, fixed_today=date(2026, 11, 23), log=logs.append, now=wall_clock),
        TOKEN,
        delay=0.05,
    )
    live.start()
    try:
        served_and_edited(root, serving(live.app), logs)
    finally:
        live.stop()


def served_and_edited(root: Path, base: str, logs: list[str]) -> None:
    url = base + feed_path(TOKEN)

    status, headers, body = fetch(url)
    assert status == 200
    assert headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "Content-Encoding" not in headers
    assert int(headers["Content-Length"]) == len(body)
    assert re.fullmatch(r'"[0-9a-f]{32}"', headers["ETag"])
    assert headers["Last-Modified"].endswith(" GMT")
    before = uids(body)
    assert before == {
        "birthday-ana-2026@crm": "Ana García turns 37",
        "birthday-bo-2026@crm": "Bo Lee turns 36",
    }
    assert fetch(url, **{"If-None-Match": headers["ETag"]})[0] == 304
    assert fetch(base + f"/{'x' * len(TOKEN)}/calendar.ics")[0] == 404
    status, _, body = fetch(base + "/")
    assert (status, body) == (404, b"Not Found\n")

    (root / "bo.md").write_text(
        "---\nname: Bo Lee\nfirst_name: Bo\nbirthday: 1990-12-20\nanniversary: 2020-12-24\n---\n",
        encoding="utf-8",
    )
    after = wait_for(lambda: (got := uids(fetch(url)[2])) != before and got)
    line = wait_for(lambda: logs and logs[-1])
    assert line.startswith("rebuilt feed: 3 events (") and "modified bo.md" in line
    assert after == {**before, "anniversary-bo-2026@crm": "Bo Lee: anniversary (6 years)"}
    status, headers2, _ = fetch(url, **{"If-None-Match": headers["ETag"]})
    assert status == 200 and headers2["ETag"] != headers["ETag"]


def test_a_broken_file_does_not_hide_the_others(
    write_vault: WriteVault, serving: Callable[[FeedApp], str]
) -> None:
    root = write_vault(
        {
            "crm.toml": "[feed]\ndays_ahead = 60\n",
            "ana.md": "---\nname: Ana\nfirst_name: Ana\nbirthday: 1989-12-02\n---\n",
            "bad.md": "---\nname: [unclosed\n---\n",
        }
    )
    logs: list[str] = []
    job = FeedJob(root, fixed_today=date(2026, 11, 23), log=logs.append, now=wall_clock)
    app = FeedApp(TOKEN, job.build, clock=job.now)
    assert app.refresh()
    assert uids(fetch(serving(app) + feed_path(TOKEN))[2]) == {
        "birthday-ana-2026@crm": "Ana turns 37"
    }
    assert len(logs) == 1 and logs[0].startswith(f"{root / 'bad.md'}:")


def test_a_stalled_client_does_not_block_others(serving: Callable[[FeedApp], str]) -> None:
    app = app_with([b"feed"])
    app.refresh()
    base = serving(app)
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as slow:
        slow.sendall(b"GET /" + TOKEN.encode())  # and never finishes the request line
        status, _, body = fetch(base + feed_path(TOKEN))
        assert (status, body) == (200, b"feed")


def test_serve_help_says_it_binds_to_loopback() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    assert "Address to listen on. [default: 127.0.0.1]" in " ".join(result.output.split())


def test_crm_serve_prints_its_url_serves_and_stops_on_sigterm(write_vault: WriteVault) -> None:
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
    try:
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(
            target=lambda: [lines.put(x) for x in proc.stdout or ()], daemon=True
        ).start()
        assert lines.get(timeout=20) == "Serving 2 events. Subscribe to:\n"
        url = lines.get(timeout=10).strip()
        assert re.fullmatch(rf"http://127\.0\.0\.1:\d+/{TOKEN}/calendar\.ics", url)
        assert lines.get(timeout=10).strip() == "webcal://" + url.removeprefix("http://")
        status, _, body = fetch(url)
        assert status == 200 and b"SUMMARY:Ana turns 37\r\n" in body
        assert lines.get(timeout=10) == "On your phone:\n"
        page = lines.get(timeout=10).strip()
        assert page == url.removesuffix("calendar.ics")
        status, _, body = fetch(page)
        assert status == 200 and b"<b>Ana</b>" in body
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    assert proc.stderr is not None and proc.stderr.read() == ""


def test_make_app_is_a_live_wsgi_app_for_other_servers(
    write_vault: WriteVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_vault({"ana.md": "---\nname: Ana\nfirst_name: Ana\nbirthday: 1989-12-02\n---\n"})
    monkeypatch.setenv("CRM_VAULT", str(root))
    monkeypatch.setenv("CRM_FEED_TOKEN", TOKEN)
    app = make_app()
    try:
        status, headers, body = call(app, f"/{TOKEN}/calendar.ics")
        assert status == "200 OK" and b"SUMMARY:Ana turns " in body
        (root / "bo.md").write_text("---\nname: Bo\nfirst_name: Bo\nbirthday: --01-01\n---\n")
        wait_for(lambda: b"Bo's birthday" in call(app, f"/{TOKEN}/calendar.ics")[2])
    finally:
        app.close()


def test_a_busy_port_is_a_clean_error(write_vault: WriteVault) -> None:
    root = write_vault({})
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-c", "from crm.cli import main; main()", "--vault", str(root)]
            + ["serve", "--port", str(port)],
            capture_output=True,
            text=True,
            env={**os.environ, "CRM_FEED_TOKEN": TOKEN},
            timeout=30,
        )
    assert done.returncode == 1
    assert done.stderr == f"crm: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    assert done.stdout == ""


def test_a_broken_crm_toml_keeps_the_last_good_feed(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "crm.toml": '[vault]\ntimezone = "Europe/Berlin"\n',
            "ana.md": "---\nname: Ana García\nfirst_name: Ana\nbirthday: 1989-12-02\n---\n",
        }
    )
    logged: list[str] = []
    job = FeedJob(root, fixed_today=date(2026, 11, 23), log=logged.append, now=wall_clock)
    app = FeedApp("t" * 32, job.build, clock=job.now, log=logged.append)
    assert app.refresh()
    good = app.snapshot
    (root / "crm.toml").write_text('[vault]\ntimezone = "Europe/Berlin"\nx = [\n')
    assert not app.refresh()
    assert app.snapshot == good
    assert logged[-1].startswith("rebuild failed, still serving the previous feed: ")
    assert "crm.toml: invalid TOML" in logged[-1]


def test_a_port_out_of_range_is_a_usage_error(write_vault: WriteVault) -> None:
    root = write_vault({})
    result = CliRunner().invoke(main, ["--vault", str(root), "serve", "--port", "99999"])
    assert result.exit_code == 2
    assert "99999 is not in the range 0<=x<=65535" in result.output
