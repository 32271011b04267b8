"""One notion of today: the vault's time zone, else the machine's, the same for ics and serve."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest
from click.testing import CliRunner

from crm.cli import clock, main
from crm.cli.wsgi import make_app
from crm.core.config import Config, vault_day
from tests.conftest import WriteVault

TOKEN = "s3cret-token-0123456789"
# 11:30 UTC on Nov 23 is already 01:30 on Nov 24 at UTC+14, and still 03:30 on Nov 23 at UTC-8.
MOMENT = datetime(2026, 11, 23, 11, 30, tzinfo=UTC)
ANA = "---\nname: Ana\nfirst_name: Ana\ncadence: 30d\nbirthday: 1989-12-02\n---\n"


@pytest.fixture
def machine_zone() -> Iterator[Callable[[str], None]]:
    """Return a function that sets the machine's time zone (``TZ``) until the test ends."""
    before = os.environ.get("TZ")

    def set_zone(name: str) -> None:
        os.environ["TZ"] = name
        time.tzset()

    yield set_zone
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


def test_today_is_the_vaults_date_else_the_machines(
    machine_zone: Callable[[str], None],
) -> None:
    machine_zone("America/Los_Angeles")
    kiritimati = Config(timezone="Pacific/Kiritimati", timezone_set=True)
    assert vault_day(kiritimati, MOMENT) == date(2026, 11, 24)
    assert vault_day(Config(timezone="UTC", timezone_set=True), MOMENT) == date(2026, 11, 23)
    assert vault_day(Config(), MOMENT) == date(2026, 11, 23)  # no zone named: Los Angeles
    machine_zone("Pacific/Kiritimati")
    assert vault_day(Config(), MOMENT) == date(2026, 11, 24)


def served(monkeypatch: pytest.MonkeyPatch, root: Path) -> bytes:
    """Return the feed as the WSGI app of ``crm serve`` answers it."""
    monkeypatch.setenv("CRM_VAULT", str(root))
    monkeypatch.setenv("CRM_FEED_TOKEN", TOKEN)
    app = make_app()
    try:
        environ: dict[str, Any] = {"PATH_INFO": f"/{TOKEN}/calendar.ics"}
        setup_testing_defaults(environ)
        status: list[str] = []
        body = b"".join(app(environ, lambda s, headers: status.append(s)))
    finally:
        app.close()
    assert status == ["200 OK"]
    return body


@pytest.mark.parametrize(
    ("toml", "machine"),
    [
        ('[vault]\ntimezone = "Pacific/Kiritimati"\n', "America/Los_Angeles"),
        ("", "Pacific/Kiritimati"),  # no zone named: the machine's, for serve as for ics
    ],
)
def test_ics_and_the_served_feed_agree_on_today(
    write_vault: WriteVault,
    monkeypatch: pytest.MonkeyPatch,
    machine_zone: Callable[[str], None],
    toml: str,
    machine: str,
) -> None:
    machine_zone(machine)
    monkeypatch.setattr(clock, "now", lambda: MOMENT)
    root = write_vault({"crm.toml": toml + "[feed]\ndays_ahead = 60\n", "ana.md": ANA})
    result = CliRunner().invoke(main, ["--vault", str(root), "ics"])
    assert result.exit_code == 0, result.output
    assert b"DTSTAMP:20261124T000000Z\r\n" in result.stdout_bytes
    assert b"SUMMARY:Reach out to Ana (never contacted)\r\nDTSTART;VALUE=DATE:20261124\r\n" in (
        result.stdout_bytes
    )
    assert served(monkeypatch, root) == result.stdout_bytes


def test_reports_take_the_same_today(
    write_vault: WriteVault, monkeypatch: pytest.MonkeyPatch, machine_zone: Callable[[str], None]
) -> None:
    machine_zone("America/Los_Angeles")
    monkeypatch.setattr(clock, "now", lambda: MOMENT)
    root = write_vault({"crm.toml": '[vault]\ntimezone = "Pacific/Kiritimati"\n', "ana.md": ANA})
    result = CliRunner().invoke(main, ["--vault", str(root), "agenda"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Agenda for Tue 2026-11-24 (1 customer)\n")


def test_no_vault_found_is_still_reported_by_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CRM_VAULT", raising=False)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["agenda"])
    assert result.exit_code == 2
    assert result.stderr.startswith("crm: no vault found: ")
