"""Shared fixtures: vaults written inline by each test."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from wsgiref.util import setup_testing_defaults

import pytest
from hypothesis import settings

# CI runs every property test on the same fixed examples, so that a landing never rests on luck;
# a local run keeps exploring new ones (and remembers what failed in .hypothesis/).
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CRM_HYPOTHESIS_PROFILE"):
    settings.load_profile(os.environ["CRM_HYPOTHESIS_PROFILE"])

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "vault-example"

WriteVault = Callable[[dict[str, str | bytes]], Path]


def wall_clock() -> datetime:
    """Return the real time: the index compares it with the mtimes of files a test just wrote."""
    return datetime.now(UTC)


@pytest.fixture
def write_vault(tmp_path: Path) -> WriteVault:
    """Return a function that writes ``{relative path: text or bytes}`` into a fresh vault."""

    def write(files: dict[str, str | bytes]) -> Path:
        root = tmp_path / "vault"
        root.mkdir(exist_ok=True)
        if "crm.toml" not in files and not (root / "crm.toml").exists():
            (root / "crm.toml").write_text("", encoding="utf-8")
        for rel, content in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8", newline="")
        return root

    return write


def vevents(data: bytes, prefix: str) -> dict[str, tuple[object, ...]]:
    """Return the feed's events whose UID starts with ``prefix``, as icalendar reads them:
    UID -> (DTSTART, DTEND, SUMMARY, CATEGORIES)."""
    import icalendar

    cal = icalendar.Calendar.from_ical(data)
    return {
        str(e["UID"]): (
            e.decoded("DTSTART"),
            e.decoded("DTEND"),
            str(e["SUMMARY"]),
            e["CATEGORIES"].to_ical().decode(),
        )
        for e in cal.walk("VEVENT")
        if str(e["UID"]).startswith(prefix)
    }


Response = tuple[str, dict[str, str], bytes]


def call(
    app: Callable[[dict[str, Any], Any], Iterable[bytes]],
    path: str,
    method: str = "GET",
    form: dict[str, str] | None = None,
    **headers: str,
) -> Response:
    """Return status, headers and body of one request to a WSGI ``app`` (``form``: a POSTed
    form; ``path`` may carry a query string and letters beyond ASCII)."""
    data = urlencode(form or {}).encode()
    environ: dict[str, Any] = {
        # WSGI hands the path over as latin-1, as a server does.
        "PATH_INFO": path.encode("utf-8").decode("latin-1"),
        "REQUEST_METHOD": method,
        "CONTENT_LENGTH": str(len(data)),
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "wsgi.input": io.BytesIO(data),
    }
    if "?" in path:
        environ["PATH_INFO"], environ["QUERY_STRING"] = environ["PATH_INFO"].split("?", 1)
    setup_testing_defaults(environ)
    environ.update({"HTTP_" + k.upper(): v for k, v in headers.items()})
    got: dict[str, Any] = {}

    def start_response(status: str, hdrs: list[tuple[str, str]]) -> None:
        got["status"], got["headers"] = status, dict(hdrs)

    body = b"".join(app(environ, start_response))
    return got["status"], got["headers"], body


def customer(name: str, front: str = "", log: tuple[str, ...] = ()) -> str:
    """Return a customer file: name, first name, ``front`` matter lines, and a ``## Log``."""
    lines = "".join(f"- {entry}\n" for entry in log)
    return f"---\nname: {name}\nfirst_name: {name.split()[0]}\n{front}---\n\n## Log\n{lines}"


def run_at(root: Path, today: str, *args: str) -> tuple[int, str]:
    """Run ``crm --vault ROOT ARGS --today TODAY``; return its exit code and output."""
    from click.testing import CliRunner

    from crm.cli import main

    result = CliRunner().invoke(main, ["--vault", str(root), *args, "--today", today])
    return result.exit_code, result.output
