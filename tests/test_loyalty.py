"""thanks and winback: who is loyal, who was thanked lately, who is worth winning back."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from crm.cli import main
from crm.core.config import LoyaltyConfig, parse_config
from crm.core.kinds import Kinds
from crm.core.model import Location, Problem, Span
from crm.rules.loyalty import ago, thanks, winback
from crm.vault.load import load_vault
from tests.conftest import EXAMPLE, WriteVault, customer

TODAY = "2026-11-23"


FILES: dict[str, str | bytes] = {
    "ada.md": customer(
        "Ada Lovelace",
        "likes: [tea]\n",
        ("2026-01-10 visit: cut", "2026-05-02 purchase: shampoo", "2026-11-20 visit: colour"),
    ),
    "ben.md": customer("Ben Ode", "value: 5000\n", ("2026-10-24 gift: flowers",)),
    "cara.md": customer(
        "Cara Diaz", "value: 100\n", ("2026-03-01 visit: x", "2026-04-01 visit: y")
    ),
    "dan.md": customer("Dan Park", "status: paused\nvalue: 9000\n"),
    "eve.md": customer(
        "Eve Stone",
        "status: lost\nvalue: 3000\nlikes: [jazz, mint tea]\n",
        ("2025-11-23 visit: last cut", "2026-01-05 note: moved away"),
    ),
    "finn.md": customer("Finn Berg", "status: lost\nvalue: 200\n", ("2026-10-24 call: bye",)),
    "gil.md": customer(
        "Gil Amar",
        "",
        (
            "2025-11-23 visit: a year ago today",
            "2026-02-01 visit: b",
            "2026-06-01 visit: c",
            "2026-08-01 card: summer card",
            "2026-09-01 visit: d",
            "2026-12-01 thanks: future entries do not count",
        ),
    ),
}


def run(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--vault", str(root), *args, "--today", TODAY])
    return result.exit_code, result.output


def test_thanks_lists_loyal_customers_not_thanked_lately(write_vault: WriteVault) -> None:
    code, out = run(write_vault(FILES), "thanks")
    assert code == 0
    assert out == (
        "NAME          VISITS  VALUE  LAST THANKED  LIKES\n"
        "Ada Lovelace  3              never         tea\n"
        "Gil Amar      3              2026-08-01\n"
    )


def test_thanks_period_and_thresholds(write_vault: WriteVault) -> None:
    root = write_vault(FILES)
    code, out = run(root, "thanks", "--period", "14d", "--format", "csv")
    assert code == 0
    assert [line.rsplit(",", 1)[0] for line in out.splitlines()] == [
        "id,name,first_name,visits,last_visit,value,last_thanked,thanked,likes",
        "ada,Ada Lovelace,Ada,3,2026-11-20,,,never,tea",
        "gil,Gil Amar,Gil,3,2026-09-01,,2026-08-01,2026-08-01,",
        "ben,Ben Ode,Ben,0,,5000,2026-10-24,2026-10-24,",
    ]
    code, out = run(root, "thanks", "--min-visits", "2", "--min-value", "50", "--format", "json")
    names = [r["name"] for r in json.loads(out)]
    assert names == ["Ada Lovelace", "Gil Amar", "Cara Diaz"]


def test_winback_lists_valuable_lost_customers(write_vault: WriteVault) -> None:
    root = write_vault(FILES)
    code, out = run(root, "winback")
    assert code == 0
    assert out == (
        "NAME       VALUE  LEFT           LIKES\nEve Stone  3000   12 months ago  jazz, mint tea\n"
    )
    code, out = run(root, "winback", "--min-value", "100", "--format", "json")
    rows = json.loads(out)
    assert [(r["name"], r["last_contact"], r["days_gone"], r["left"]) for r in rows] == [
        ("Eve Stone", "2025-11-23", 365, "12 months ago"),
        ("Finn Berg", "2026-10-24", 30, "30 days ago"),
    ]


def test_empty_reports_say_so(write_vault: WriteVault) -> None:
    root = write_vault({"a.md": customer("Al Bo")})
    assert run(root, "thanks") == (0, "Everyone loyal has been thanked lately.\n")
    assert run(root, "winback") == (0, "Nobody lost is worth winning back.\n")
    assert run(root, "winback", "--format", "json") == (0, "[]\n")


def test_defaults_come_from_crm_toml(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            **FILES,
            "crm.toml": '[loyalty]\nthanks_period = "7d"\nmin_visits = 9\nmin_value = 4000\n'
            "winback_min_value = 150\n",
        }
    )
    _, out = run(root, "thanks", "--format", "json")
    assert [r["name"] for r in json.loads(out)] == ["Ben Ode"]
    _, out = run(root, "winback", "--format", "json")
    assert [r["name"] for r in json.loads(out)] == ["Eve Stone", "Finn Berg"]


def test_bad_loyalty_settings_are_problems() -> None:
    where = Location(Path("crm.toml"))
    raw = {"loyalty": {"thanks_period": "soon", "min_visits": 1.5, "winback_min_value": -1}}
    config, problems = parse_config(raw, where)
    assert config.loyalty == LoyaltyConfig()
    assert problems == [
        Problem(
            where,
            "loyalty.thanks_period: 'soon' is not a cadence (expected e.g. 14d, 2w, 3m, 1y, "
            "weekly, monthly, quarterly or yearly)",
        ),
        Problem(where, "loyalty.min_visits must be a whole number"),
        Problem(where, "loyalty.winback_min_value must be a non-negative number"),
    ]


def test_pure_functions_take_today(write_vault: WriteVault) -> None:
    root = write_vault(FILES)
    customers = load_vault(root, parse_config({}, Location(root))[0]).customers
    settings = LoyaltyConfig()
    # A year later Ada's visits have aged out, Eve has been gone two years.
    later = date(2027, 11, 23)
    assert [x.customer.name for x in thanks(customers, settings, later)] == ["Ben Ode"]
    assert [x.days_gone for x in winback(customers, settings, later, kinds=Kinds())] == [730]
    got = thanks(customers, settings, date(2026, 11, 23), period=Span(1, "y"))
    assert [x.customer.name for x in got] == ["Ada Lovelace"]


@pytest.mark.parametrize(
    ("days", "text"),
    [
        (None, "unknown"),
        (1, "1 day"),
        (59, "59 days"),
        (60, "2 months"),
        (400, "13 months"),
        (729, "24 months"),
        (730, "2 years"),
    ],
)
def test_ago(days: int | None, text: str) -> None:
    assert ago(days) == text


def test_agenda_shows_both_sections_on_the_example_vault() -> None:
    result = CliRunner().invoke(main, ["--vault", str(EXAMPLE), "agenda", "--today", TODAY])
    assert result.exit_code == 0
    assert result.output.endswith(
        "Say thank you (2)\n"
        "  NAME          VISITS  VALUE  LAST THANKED  LIKES\n"
        "  Grace Okafor  4       4200   never         braids, hibiscus tea, gospel music\n"
        "  Ana García    2       2840   never         balayage, oat latte, talking about…\n"
        "\n"
        "Rewards (1)\n"
        "  NAME          REWARD         STANDING  EARNED          LAST GIVEN\n"
        "  Grace Okafor  free blow-dry  due       every 4 visits  never\n"
        "\n"
        "Worth winning back (1)\n"
        "  NAME            VALUE  LEFT          LIKES\n"
        "  Marcus O'Neill  1650   9 months ago  skin fades, football talk\n"
        "\n"
        "Closures and occasions (1)\n"
        "  2026-12-03  Tell customers about the closure from 2026-12-24: crm draft closure\n"
    )
    data = json.loads(
        CliRunner()
        .invoke(main, ["--vault", str(EXAMPLE), "agenda", "--today", TODAY, "--format", "json"])
        .output
    )
    assert [r["id"] for r in data["thanks"]] == ["grace-okafor", "ana-garcia"]
    assert [r["id"] for r in data["winback"]] == ["marcus-oneill"]


def test_agenda_leaves_sections_out_when_empty(write_vault: WriteVault) -> None:
    root = write_vault({"a.md": customer("Al Bo")})
    _, out = run(root, "agenda")
    assert "thank" not in out and "winning back" not in out


def test_help_texts() -> None:
    for command in ("thanks", "winback"):
        result = CliRunner().invoke(main, [command, "--help"])
        assert result.exit_code == 0
        assert f"crm {command}" in result.output


def test_agenda_csv_has_both_sections() -> None:
    args = ["--vault", str(EXAMPLE), "agenda", "--today", TODAY, "--format", "csv"]
    out = CliRunner().invoke(main, args).output
    assert [line for line in out.splitlines() if line.startswith(("thanks,", "winback,"))] == [
        'thanks,,grace-okafor,Grace Okafor,"4 visits, value 4200"',
        'thanks,,ana-garcia,Ana García,"2 visits, value 2840"',
        "winback,2026-02-14,marcus-oneill,Marcus O'Neill,9 months ago",
    ]


def test_thanks_prints_values_as_written(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "ann.md": customer("Ann Big", "value: 1234567\n"),
            "bob.md": customer("Bob Half", "value: 1234567.5\n"),
            "cid.md": customer("Cid Even", "value: 4200\n"),
            "dot.md": customer("Dot Fine", "value: 2500.25\n"),
        }
    )
    assert run(root, "thanks") == (
        0,
        "NAME      VISITS  VALUE      LAST THANKED  LIKES\n"
        "Bob Half  0       1234567.5  never\n"
        "Ann Big   0       1234567    never\n"
        "Cid Even  0       4200       never\n"
        "Dot Fine  0       2500.25    never\n",
    )
    assert run(root, "thanks", "--format", "csv") == (
        0,
        "id,name,first_name,visits,last_visit,value,last_thanked,thanked,likes,path\n"
        f"bob,Bob Half,Bob,0,,1234567.5,,never,,{root / 'bob.md'}\n"
        f"ann,Ann Big,Ann,0,,1234567,,never,,{root / 'ann.md'}\n"
        f"cid,Cid Even,Cid,0,,4200,,never,,{root / 'cid.md'}\n"
        f"dot,Dot Fine,Dot,0,,2500.25,,never,,{root / 'dot.md'}\n",
    )
