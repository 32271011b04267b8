"""Rewards: due on the Nth visit since the last reward entry, or by value; crm rewards."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import EXAMPLE, WriteVault, customer, run_at

TOML = """\
[[rewards]]
name = "free blow-dry"
every = 3
template = "reward"

[[rewards]]
name = "gift box"
spent = 1000
"""


VISITS = ("2026-10-01 visit: cut", "2026-10-20 visit: colour", "2026-11-10 visit: trim")


def run(root: Path, *args: str, today: str = "2026-11-21") -> tuple[int, str]:
    return run_at(root, today, *args)


def test_a_reward_comes_due_on_the_nth_visit_and_is_coming_one_before(
    write_vault: WriteVault,
) -> None:
    root = write_vault(
        {
            "crm.toml": TOML,
            "ada.md": customer("Ada Lovelace", "", VISITS),
            "ben.md": customer("Ben Ode", "value: 1200\n", VISITS[:2]),
            "cara.md": customer("Cara Diaz", "", VISITS[:1]),
            "dan.md": customer("Dan Park", "status: paused\n", VISITS),
        }
    )
    assert run(root, "rewards") == (
        0,
        "NAME          REWARD         STANDING       EARNED            LAST GIVEN\n"
        "Ada Lovelace  free blow-dry  due            every 3 visits    never\n"
        "Ben Ode       gift box       due            every 1000 spent  never\n"
        "Ben Ode       free blow-dry  1 visit to go  every 3 visits    never\n",
    )
    # On the day before the third visit, Ada was one away.
    code, out = run(root, "rewards", "--format", "json", today="2026-11-09")
    assert [(r["id"], r["reward"], r["standing"], r["count"]) for r in json.loads(out)] == [
        ("ben", "gift box", "due", 1),
        ("ada", "free blow-dry", "coming", 2),
        ("ben", "free blow-dry", "coming", 2),
    ]


def given(root: Path, reward: str, later: tuple[str, ...]) -> tuple[int, str]:
    """Rewrite Ada with ``reward`` given on 2026-11-21 and the ``later`` entries; list rewards."""
    log = (*VISITS, f"2026-11-21 reward: {reward}", *later)
    (root / "ada.md").write_text(customer("Ada Lovelace", "value: 1500\n", log), encoding="utf-8")
    return run(root, "rewards", "--format", "json", today="2026-12-02")


def test_a_reward_entry_resets_the_count_of_the_reward_it_names(
    write_vault: WriteVault,
) -> None:
    root = write_vault(
        {
            "crm.toml": TOML,
            "ada.md": customer("Ada Lovelace", "value: 1500\n", VISITS),
        }
    )
    logged = run(root, "log", "ada", "reward: free blow-dry")
    assert logged[0] == 0, logged[1]
    code, out = run(root, "rewards", "--format", "json")
    # The gift box is still due: the entry named the blow-dry only.
    assert [(r["reward"], r["standing"], r["last_given"]) for r in json.loads(out)] == [
        ("gift box", "due", None),
    ]
    # Two visits later the blow-dry is one away again; a reward naming none resets both.
    more = ("2026-11-25 visit: cut", "2026-12-02 visit: cut")
    code, out = given(root, "free blow-dry", more)
    assert [(r["reward"], r["standing"], r["count"], r["last_given"]) for r in json.loads(out)] == [
        ("gift box", "due", 1, None),
        ("free blow-dry", "coming", 2, "2026-11-21"),
    ]
    code, out = given(root, "a thank-you", more)
    assert [(r["reward"], r["standing"]) for r in json.loads(out)] == [
        ("free blow-dry", "coming"),
    ]


def test_rewards_say_when_none_are_set(write_vault: WriteVault) -> None:
    root = write_vault({"ada.md": customer("Ada Lovelace", "", VISITS)})
    assert run(root, "rewards") == (
        0,
        "No rewards set: add a [[rewards]] table to crm.toml (see docs/loyalty.md).\n",
    )
    assert run(root, "rewards", "--format", "json") == (0, "[]\n")


def test_a_bad_rewards_table_is_named_by_line(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "crm.toml": '[[rewards]]\nname = "x"\n\n[[rewards]]\nname = "y"\nevery = 0\n'
            '\n[[rewards]]\nname = "z"\nevery = 2\n\n[[rewards]]\nname = "Z"\nspent = 10\n',
        }
    )
    code, out = run(root, "check")
    toml = root / "crm.toml"
    assert (code, out) == (
        1,
        f"{toml}:1: rewards[1]: give every (a number of visits) or spent (a value), one of them\n"
        f"{toml}:6: rewards[2].every must be a whole number of entries, 1 or more\n"
        f"{toml}:13: rewards[4].name: 'Z' is already a reward; give it another name\n",
    )


def test_check_names_a_reward_template_the_vault_lacks(write_vault: WriteVault) -> None:
    root = write_vault({"crm.toml": TOML})
    assert run(root, "check") == (
        1,
        f"{root / 'crm.toml'}:4: rewards[1].template: no message template 'reward' in "
        "templates/messages/\n",
    )


def test_the_example_vault_has_a_reward_due_and_drafts_its_message(tmp_path: Path) -> None:
    code, out = run(EXAMPLE, "rewards", today="2026-12-01")
    assert (code, out) == (
        0,
        "NAME          REWARD         STANDING  EARNED          LAST GIVEN\n"
        "Grace Okafor  free blow-dry  due       every 4 visits  never\n",
    )
    code, out = run(EXAMPLE, "draft", "reward", "--dry-run", "--explain", today="2026-12-01")
    assert (code, out) == (
        0,
        "reward-2026-12-01: 1 draft\n"
        "  draft  Grace Okafor (grace-okafor): email Grace Okafor <grace.okafor@example.ng>\n"
        "Dry run: nothing written.\n",
    )


def test_the_appreciation_event_of_docs_loyalty_drafts_to_loyal_customers(tmp_path: Path) -> None:
    import re
    import shutil

    docs = (Path(__file__).parent.parent / "docs" / "loyalty.md").read_text(encoding="utf-8")
    found = re.search(r"```markdown\n(---\nkind: email.*?)```", docs, re.S)
    assert found is not None
    root = tmp_path / "vault"
    shutil.copytree(EXAMPLE, root)
    (root / "templates" / "messages" / "evening.md").write_text(found[1], encoding="utf-8")
    code, out = run(root, "draft", "evening", "--explain", today="2026-12-01")
    assert (code, out) == (
        0,
        "evening-2026-12-01: 2 drafts\n"
        "  draft  Ana García (ana-garcia): email Ana García <ana.garcia@example.com>\n"
        "  draft  Grace Okafor (grace-okafor): email Grace Okafor <grace.okafor@example.ng>\n"
        "Wrote 2 to outbox/evening-2026-12-01/; read and edit them, then: crm send evening-2026-12-01\n",
    )
    grace = (root / "outbox" / "evening-2026-12-01" / "grace-okafor.md").read_text(encoding="utf-8")
    assert "You have been with us since March 3, 2017,\n" in grace
