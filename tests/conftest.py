"""Shared fixtures: vaults written inline by each test."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

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
