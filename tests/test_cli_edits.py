"""The edit commands end to end: exact output, exit codes and whole files compared byte-for-byte."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from crm.cli import main
from tests.conftest import EXAMPLE, WriteVault
from tests.test_edit import HAND, encode, swap

CRLF_BOM = (True, "\r\n")


def run(root: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["--vault", str(root), *args], env=env)


@pytest.fixture
def ana(write_vault: WriteVault) -> Path:
    """Return the hand-written customer file, saved with a BOM and CRLF line endings."""
    root = write_vault(
        {"ana-garcia.md": encode(HAND, *CRLF_BOM), "bo.md": "---\nname: Bo Li\n---\n"}
    )
    return root / "ana-garcia.md"


def diff(*lines: str) -> str:
    return "--- a/ana-garcia.md\n+++ b/ana-garcia.md\n" + "".join(line + "\n" for line in lines)


@pytest.mark.parametrize(
    ("args", "output", "old", "new"),
    [
        (
            ["set", "ana", "cadence=14d"],
            diff(
                "@@ -14 +14 @@",
                "-cadence: 30d  # roughly monthly",
                "+cadence: 14d  # roughly monthly",
            ),
            "cadence: 30d",
            "cadence: 14d",
        ),
        (
            ["set", "Ana García", "tags+=regular", "likes-=espresso"],
            diff(
                "@@ -6 +6 @@",
                '-tags: [vip,  "hair colour"]   # keep this comment',
                '+tags: [vip,  "hair colour", regular]   # keep this comment',
                "@@ -8 +7,0 @@",
                "-  - espresso",
            ),
            '"hair colour"]   # keep this comment\nlikes:\n  - espresso\n',
            '"hair colour", regular]   # keep this comment\nlikes:\n',
        ),
        (
            ["unset", "ana", "away"],
            diff("@@ -15,3 +14,0 @@", "-away:", "-  from: 2026-01-01", "-  to: 2026-01-05"),
            "away:\n  from: 2026-01-01\n  to: 2026-01-05\n",
            "",
        ),
        (
            ["snooze", "ana", "--for", "2w", "--today", "2026-11-23"],
            diff("@@ -17,0 +18 @@", "+snooze_until: 2026-12-07"),
            "---\n\nPrefers",
            "snooze_until: 2026-12-07\n---\n\nPrefers",
        ),
        (
            ["snooze", "ana", "--until", "2027-01-10"],
            diff("@@ -17,0 +18 @@", "+snooze_until: 2027-01-10"),
            "---\n\nPrefers",
            "snooze_until: 2027-01-10\n---\n\nPrefers",
        ),
        (
            ["followup", "ana", "2026-12-01", "9:05"],
            diff("@@ -17,0 +18 @@", "+next_contact: 2026-12-01 09:05"),
            "---\n\nPrefers",
            "next_contact: 2026-12-01 09:05\n---\n\nPrefers",
        ),
        (
            ["away", "ana", "2026-12-20", "2027-01-06"],
            diff(
                "@@ -16,2 +16,2 @@",
                "-  from: 2026-01-01",
                "-  to: 2026-01-05",
                "+  from: 2026-12-20",
                "+  to: 2027-01-06",
            ),
            "from: 2026-01-01\n  to: 2026-01-05",
            "from: 2026-12-20\n  to: 2027-01-06",
        ),
        (
            ["log", "ana", "call: asked about the spring offers", "--today", "2026-11-23"],
            "{path}:24: - 2026-11-23 call: asked about the spring offers\n",
            "colour\n\n",
            "colour\n- 2026-11-23 call: asked about the spring offers\n\n",
        ),
        (
            [
                "log",
                "ana",
                "Balayage, again",
                "--kind",
                "visit",
                "--date",
                "2026-04-01",
                "--time",
                "9:30",
            ],
            "{path}:23: - 2026-04-01 09:30 visit: Balayage, again\n",
            "- 2026-05-20",
            "- 2026-04-01 09:30 visit: Balayage, again\n- 2026-05-20",
        ),
    ],
)
def test_commands_change_exactly_their_lines(
    ana: Path, args: list[str], output: str, old: str, new: str
) -> None:
    result = run(ana.parent, *args)
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == output.format(path=ana).encode()
    assert ana.read_bytes() == encode(swap(HAND, old, new), *CRLF_BOM)


def test_dry_run_and_no_op_write_nothing(ana: Path) -> None:
    result = run(ana.parent, "set", "ana", "cadence=14d", "--dry-run")
    assert result.exit_code == 0
    assert result.output.endswith("+cadence: 14d  # roughly monthly\n")
    result = run(ana.parent, "set", "ana", "cadence=30d", "tags+=vip")
    assert (result.exit_code, result.output) == (0, f"{ana}: nothing to change\n")
    assert ana.read_bytes() == encode(HAND, *CRLF_BOM)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["set", "ana", "cadence=often"],
            2,
            "crm: not written: cadence=often: cadence: 'often' is not a cadence (expected e.g. 14d, 2w, 3m, 1y, weekly, monthly, quarterly or yearly)\n",
        ),
        (
            ["set", "ana", "cadence"],
            2,
            "crm: 'cadence' is not a change (expected key=value, key+=item or key-=item)\n",
        ),
        (
            ["log", "ana", "asked about offers"],
            2,
            "crm: no kind in 'asked about offers': write 'call: asked about offers' or pass --kind call\n",
        ),
        (
            ["log", "ana", "call:"],
            2,
            'crm: say what happened: crm log NAME "call: asked about the spring offers"\n',
        ),
        (
            ["log", "ana", "call: x", "--date", "2026-13-01"],
            2,
            "Usage: main log [OPTIONS] NAME TEXT\nTry 'main log --help' for help.\n\n"
            "Error: Invalid value for '--date': month 13 in '2026-13-01' "
            "(expected YYYY-MM-DD, today, yesterday, tomorrow, a weekday (friday, fri), "
            "20 Dec, Dec 20, 20 Dec 2026, Dec 20, 2026 or 20.12.2026)\n",
        ),
        (["snooze", "ana"], 2, "crm: give exactly one of --until DATE or --for SPAN\n"),
        (
            ["followup", "ana", "soon"],
            2,
            "Usage: main followup [OPTIONS] NAME DATE [TIME]\n"
            "Try 'main followup --help' for help.\n\n"
            "Error: Invalid value for 'DATE': 'soon' is not a date "
            "(expected YYYY-MM-DD, today, yesterday, tomorrow, a weekday (friday, fri), "
            "20 Dec, Dec 20, 20 Dec 2026, Dec 20, 2026 or 20.12.2026)\n",
        ),
        (
            ["away", "ana", "2026-12-20", "2026-12-01"],
            2,
            "crm: away: 'to' (2026-12-01) is before 'from' (2026-12-20)\n",
        ),
        (["set", "nobody", "cadence=1w"], 2, "crm: no customer matches 'nobody'\n"),
        (["unset", "ana", "name"], 2, "crm: name cannot be unset: every customer needs a name\n"),
    ],
)
def test_refusals(ana: Path, args: list[str], code: int, message: str) -> None:
    result = run(ana.parent, *args)
    assert (result.exit_code, result.stderr) == (code, message)
    assert ana.read_bytes() == encode(HAND, *CRLF_BOM)


def test_an_ambiguous_name_lists_the_candidates(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "ana-a.md": "---\nname: Ana Alba\nfirst_name: Ana\n---\n",
            "ana-b.md": "---\nname: Ana Bello\nfirst_name: Ana\n---\n",
        }
    )
    result = run(root, "log", "ana", "call: hi")
    assert result.exit_code == 2
    assert result.stderr == (
        "crm: 'ana' is ambiguous; did you mean one of:\n  ana-a  Ana Alba\n  ana-b  Ana Bello\n"
    )


def test_a_broken_file_is_refused_with_its_located_problem(write_vault: WriteVault) -> None:
    root = write_vault({"bo.md": "---\nname: Bo\nfirst_name: Bo\nstatus: gone\n---\n"})
    result = run(root, "log", "bo", "call: hi")
    assert result.exit_code == 1
    assert result.stderr == (
        f"crm: refusing to edit {root / 'bo.md'}: fix its problems first (crm edit):\n"
        f"  {root / 'bo.md'}:4: status must be one of lead, active, paused, lost, not 'gone'\n"
    )


def test_new_prints_the_path_and_warns_about_a_twin(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "templates/customer.md": "---\nname: {name}\nfirst_name: {first_name}\nlast_name: {last_name}\ntags: []\n---\n\n## Log\n"
        }
    )
    args = ["new", "Zoë Müller", "--tag", "vip", "--tag", "no", "--email", "zoe@example.de"]
    args += ["--cadence", "6w", "--birthday", "--03-14", "--set", "country=no"]
    result = run(root, *args)
    assert result.exit_code == 0, result.output
    assert (result.stdout, result.stderr) == (f"{root / 'zoe-muller.md'}\n", "")
    assert (root / "zoe-muller.md").read_text() == (
        '---\nname: Zoë Müller\nfirst_name: Zoë\nlast_name: Müller\ntags: [vip, "no"]\n'
        'email: zoe@example.de\ncadence: 6w\nbirthday: --03-14\ncountry: "no"\n---\n\n## Log\n'
    )
    assert run(root, "check").output == ""
    again = run(root, "new", "Zoë Müller")
    assert (again.exit_code, again.stderr) == (
        1,
        f"crm: refusing to overwrite {root / 'zoe-muller.md'}: it already exists\n",
    )
    twin = run(root, "new", "Zoe Mueller", "--email", "ZOE@example.de")
    assert twin.exit_code == 0
    assert twin.stderr == (
        f"warning: zoe@example.de is also the email of Zoë Müller: {root / 'zoe-muller.md'}:1\n"
    )


def test_edit_opens_the_editor_then_checks_the_file(ana: Path, tmp_path: Path) -> None:
    script = tmp_path / "editor.py"
    script.write_text(
        "import sys, pathlib\n"
        "p = pathlib.Path(sys.argv[1])\n"
        "p.write_bytes(p.read_bytes().replace(b'cadence: 30d', b'cadence: soon'))\n"
    )
    result = run(ana.parent, "edit", "ana", env={"VISUAL": f"{sys.executable} {script}"})
    assert result.exit_code == 1
    assert result.stderr == (
        f"{ana}:14: cadence: 'soon' is not a cadence (expected e.g. 14d, 2w, 3m, 1y, weekly, "
        "monthly, quarterly or yearly)\n"
    )
    assert ana.read_bytes() == encode(swap(HAND, "cadence: 30d", "cadence: soon"), *CRLF_BOM)
    ok = run(ana.parent, "edit", "bo", env={"VISUAL": f"{sys.executable} -c pass"})
    assert (ok.exit_code, ok.stderr) == (
        0,
        f"{ana.parent / 'bo.md'}:2: warning: no first_name: add one so greetings can use it\n",
    )


def test_many_crm_log_processes_at_once_lose_no_entry(write_vault: WriteVault) -> None:
    root = write_vault({"ana-garcia.md": HAND})
    command = [sys.executable, "-m", "crm", "--vault", str(root), "log", "ana"]
    procs = [
        subprocess.Popen(
            [*command, f"call: entry {n}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for n in range(8)
    ]
    try:
        outcomes = [p.communicate(timeout=60) for p in procs]
    finally:
        for p in procs:
            p.kill()
    assert [p.returncode for p in procs] == [0] * 8, outcomes
    text = (root / "ana-garcia.md").read_text()
    assert sorted(
        int(line.rsplit(" ", 1)[1]) for line in text.splitlines() if "entry" in line
    ) == list(range(8))
    # No temporary file is left behind (.crm/ is the index cache).
    assert sorted(p.name for p in root.iterdir() if p.name != ".crm") == [
        "ana-garcia.md",
        "crm.toml",
    ]


def test_log_on_the_example_vault_adds_one_line(tmp_path: Path) -> None:
    import shutil

    vault = tmp_path / "vault"
    shutil.copytree(EXAMPLE, vault)
    before = (vault / "zoe-muller.md").read_text()
    result = run(vault, "log", "Zoë", "call: voucher for her sister", "--today", "2026-11-23")
    assert result.exit_code == 0
    assert (
        vault / "zoe-muller.md"
    ).read_text() == before + "- 2026-11-23 call: voucher for her sister\n"
    overdue = run(vault, "show", "zoe-muller", "--today", "2026-11-23", "--format", "json")
    assert '"last_contact": "2026-11-23"' in overdue.output


@pytest.mark.parametrize(
    "command", ["new", "log", "set", "unset", "snooze", "followup", "away", "edit", "git-setup"]
)
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output
    assert f"Usage: main {command}" in result.output or f"Usage: crm {command}" in result.output


def test_new_keeps_the_templates_crlf_comments_and_quoting(write_vault: WriteVault) -> None:
    template = (
        "---\r\nname: {name}\r\nfirst_name: {first_name}   # for greetings\r\n"
        "last_name: {last_name}\r\nstatus: 'lead'\r\ntags: [ new ]\r\n---\r\n\r\n## Log\r\n"
    )
    root = write_vault({"templates/customer.md": template.encode()})
    result = run(root, "new", "Ana Ruiz", "--tag", "vip", "--status", "active")
    assert (result.exit_code, result.stdout) == (0, f"{root / 'ana-ruiz.md'}\n")
    assert (root / "ana-ruiz.md").read_bytes() == (
        b"---\r\nname: Ana Ruiz\r\nfirst_name: Ana   # for greetings\r\n"
        b"last_name: Ruiz\r\nstatus: 'active'\r\ntags: [ vip ]\r\n---\r\n\r\n## Log\r\n"
    )


def test_a_file_too_broken_to_load_is_named_with_its_problem(
    write_vault: WriteVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_vault({"broken.md": "---\nname: Bo\nfirst_name: Bo\ntags: [a\n---\n"})
    monkeypatch.chdir(root)
    before = (root / "broken.md").read_bytes()
    result = CliRunner().invoke(main, ["--vault", str(root), "log", "broken", "call: hi"])
    assert (result.exit_code, result.output) == (
        1,
        "crm: 'broken' cannot be used until its file is fixed:\n"
        "broken.md:4: invalid YAML: did not find expected ',' or ']'"
        " (while parsing a flow sequence that opens on this line; the parser gave up on line 5)\n",
    )
    assert (root / "broken.md").read_bytes() == before
