"""``crm digest``: the agenda as a message, printed and mailed to a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import tomllib
from datetime import date
from fnmatch import fnmatch
from pathlib import Path

from click.testing import CliRunner, Result

from crm.cli import main
from crm.core.config import parse_config
from crm.core.model import Location
from crm.outreach.digest import html_of
from crm.report.views import Agenda, Section
from tests.conftest import REPO, WriteVault
from tests.smtpserver import Mailbox, smtp_server

TODAY = "2026-12-01"
CUSTOMERS = {
    "ana.md": (
        "---\nname: Ana García\nfirst_name: Ana\nphone: 0151 23456789\nemail: ana@example.com\n"
        "cadence: 21d\nlikes: [oat latte]\n---\n\n## Log\n- 2026-11-01 visit: balayage refresh\n"
    ),
    "bo.md": (
        "---\nname: Bo <script>alert(1)</script>\nfirst_name: Bo\nemail: bo@example.com\n"
        "cadence: 7d\n---\n\n## Log\n- 2026-11-24 call: said <b>hi</b> & bye\n"
    ),
    "cleo.md": "---\nname: Cleo Park\nfirst_name: Cleo\nbirthday: 1990-12-03\n---\n",
}
TEXT = (
    "Agenda for Tue 2026-12-01 (3 customers)\n"
    "\n"
    "Contact now (1)\n"
    "  NAME        LATE  REACH            LIKES\n"
    "  Ana García  9d    ana@example.com  oat latte\n"
    "    2026-11-01 visit: balayage refresh\n"
    "\n"
    "Due today (1)\n"
    "  NAME                          LATE  REACH           LIKES\n"
    "  Bo <script>alert(1)</script>  0d    bo@example.com\n"
    "    2026-11-24 call: said <b>hi</b> & bye\n"
    "\n"
    "Next 14 days (1)\n"
    "  DATE        WHEN  NAME       WHAT                 NOTE\n"
    "  2026-12-03  Thu   Cleo Park  birthday (turns 36)\n"
)


def config(port: int = 25, digest: str = '[digest]\nto = "Mara <mara@lumen.example>"\n') -> str:
    return (
        '[business]\nname = "Lumen"\nemail = "hello@lumen.example"\nregion = "DE"\n\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n\n{digest}'
    )


def run(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--vault", str(root), *args])


def test_the_text_is_the_agenda(write_vault: WriteVault) -> None:
    root = write_vault({"crm.toml": config(), **CUSTOMERS})
    result = run(root, "digest", "--today", TODAY, "--format", "text")
    assert (result.exit_code, result.output) == (0, TEXT)
    assert run(root, "agenda", "--today", TODAY).output == TEXT


def test_the_json_is_the_agendas(write_vault: WriteVault) -> None:
    root = write_vault({"crm.toml": config(), **CUSTOMERS})
    result = run(root, "digest", "--today", TODAY, "--format", "json")
    assert result.exit_code == 0, result.output
    assert result.output == run(root, "agenda", "--today", TODAY, "--format", "json").output
    shown = json.loads(result.output)
    assert [r["id"] for r in shown["overdue"]] == ["ana"]
    assert [r["id"] for r in shown["due_today"]] == ["bo"]
    assert [(r["date"], r["what"]) for r in shown["upcoming"]] == [
        ("2026-12-03", "birthday (turns 36)")
    ]
    assert shown["problems"] == [] and shown["drafts"] == []


def test_the_digest_arrives_as_text_and_html(write_vault: WriteVault) -> None:
    mailbox = Mailbox()
    with smtp_server(mailbox) as port:
        root = write_vault({"crm.toml": config(port), **CUSTOMERS})
        result = run(root, "digest", "--today", TODAY, "--send")
    assert result.exit_code == 0, result.output
    assert result.output == "sent the digest for 2026-12-01 to mara@lumen.example (3 items)\n"
    [arrival] = mailbox.arrived
    assert (arrival.sender, arrival.recipients) == ("hello@lumen.example", ["mara@lumen.example"])
    msg = arrival.message
    assert str(msg["From"]) == "Lumen <hello@lumen.example>"
    assert str(msg["To"]) == "Mara <mara@lumen.example>"
    assert str(msg["Subject"]) == "crm: your day, 2026-12-01"
    assert str(msg["Message-ID"]).startswith("<crm-digest.2026-12-01.")
    assert msg["Date"] is not None
    assert msg.get_content_type() == "multipart/alternative"
    text, html = msg.iter_parts()
    assert text.get_content_type() == "text/plain"
    assert html.get_content_type() == "text/html"
    assert text.get_content().replace("\r\n", "\n") == TEXT
    page = html.get_content()
    for link in (
        '<a href="tel:+4915123456789">call 0151 23456789</a>',
        '<a href="sms:+4915123456789">text</a>',
        '<a href="mailto:ana@example.com">email ana@example.com</a>',
        '<a href="mailto:bo@example.com">email bo@example.com</a>',
    ):
        assert link in page
    assert '<div class="said">2026-11-01 visit: balayage refresh</div>' in page
    assert "<b>Bo &lt;script&gt;alert(1)&lt;/script&gt;</b>" in page
    assert '<div class="said">2026-11-24 call: said &lt;b&gt;hi&lt;/b&gt; &amp; bye</div>' in page
    assert "<script" not in page and "<b>hi" not in page
    assert "<li>2026-12-03 (Thu): <b>Cleo Park</b>, birthday (turns 36)</li>" in page


def test_nothing_is_sent_on_a_day_with_nothing_to_do(write_vault: WriteVault) -> None:
    mailbox = Mailbox()
    quiet = {"cleo.md": CUSTOMERS["cleo.md"]}
    with smtp_server(mailbox) as port:
        root = write_vault({"crm.toml": config(port), **quiet})
        result = run(root, "digest", "--today", "2026-12-05", "--send")
    assert (result.exit_code, result.output) == (
        0,
        "Nothing to do on 2026-12-05: no digest sent.\n",
    )
    assert mailbox.arrived == []


def test_without_digest_to_send_is_a_clear_error(write_vault: WriteVault) -> None:
    root = write_vault({"crm.toml": config(digest=""), **CUSTOMERS})
    result = run(root, "digest", "--today", TODAY, "--send")
    assert result.exit_code == 2
    assert result.output == "crm: set [digest] to in crm.toml: the address the digest goes to\n"
    assert isinstance(result.exception, SystemExit)


def test_a_refusing_server_is_an_error_not_a_traceback(write_vault: WriteVault) -> None:
    mailbox = Mailbox(refuse_text={1})
    with smtp_server(mailbox) as port:
        root = write_vault({"crm.toml": config(port), **CUSTOMERS})
        result = run(root, "digest", "--today", TODAY, "--send")
    assert result.exit_code == 1
    assert result.output == "crm: the mail server refused the message: 451 4.3.0 try again later\n"
    assert isinstance(result.exception, SystemExit)


def test_an_unreachable_server_is_an_error_not_a_traceback(write_vault: WriteVault) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nobody listens there
    root = write_vault({"crm.toml": config(port), **CUSTOMERS})
    result = run(root, "digest", "--today", TODAY, "--send")
    assert result.exit_code == 1
    assert result.output.startswith(f"crm: cannot reach the mail server 127.0.0.1:{port}: ")
    assert isinstance(result.exception, SystemExit)


def test_the_digest_settings() -> None:
    raw = {"digest": {"to": "nobody", "subject": "Today: {date}", "sujbect": "x"}}
    config, problems = parse_config(raw, Location(Path("crm.toml")))
    assert [str(p) for p in problems] == [
        "crm.toml: warning: digest.sujbect: unknown key, ignored; did you mean 'subject'?",
        "crm.toml: digest.to: 'nobody' is not an email address",
    ]
    assert config.digest.to == ""
    assert config.digest.subject_for(date(2026, 12, 1)) == "Today: 2026-12-01"
    default, _ = parse_config({}, Location(Path("crm.toml")))
    assert default.digest.subject_for(date(2026, 12, 1)) == "crm: your day, 2026-12-01"


class _WithClosures(Agenda):
    """An agenda with one more dated section, as closures and occasions will be."""

    def sections(self) -> list[Section]:
        closed = [{"date": date(2026, 12, 24), "what": "closed for the holidays <3"}]
        return [Section("Closures", closed, "dated"), *super().sections()]


def test_a_dated_section_reads_in_the_text_and_the_html_with_one_line() -> None:
    agenda = _WithClosures(date(2026, 12, 1), [], [], [], [], [])
    assert agenda.items() == 1
    assert agenda.as_text(0) == (
        "Agenda for Tue 2026-12-01 (0 customers)\n"
        "\n"
        "Closures (1)\n"
        "  DATE        WHAT\n"
        "  2026-12-24  closed for the holidays <3\n"
    )
    page = html_of(agenda, 0, {})
    assert "<h2>Closures (1)</h2>\n<ul>\n<li>2026-12-24: closed for the holidays &lt;3</li>" in page


def test_every_data_file_of_the_package_is_installed() -> None:
    """A non-editable install carries only the files ``[tool.setuptools.package-data]`` names."""
    declared = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    globs = declared["tool"]["setuptools"]["package-data"]
    data = [
        p.relative_to(REPO).as_posix()
        for p in (REPO / "crm").rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc")
    ]
    assert "crm/outreach/digest.html" in data and "crm/web/templates/page.css" in data

    def installed(path: str) -> bool:
        # A glob is relative to its package's folder, and may name a folder inside it.
        for package, patterns in globs.items():
            rest = path.removeprefix(package.replace(".", "/") + "/")
            if rest != path and any(
                fnmatch(rest, g) and rest.count("/") == g.count("/") for g in patterns
            ):
                return True
        return False

    assert [p for p in data if not installed(p)] == []


def test_links_to_reach_a_person_carry_no_empty_message() -> None:
    from crm.outreach.links import mailto_link, sms_link, tel_link

    assert tel_link("+4915123456789") == "tel:+4915123456789"
    assert sms_link("+4915123456789") == "sms:+4915123456789"
    assert sms_link("+4915123456789", "hi there") == "sms:+4915123456789?&body=hi%20there"
    assert mailto_link("ana@example.com") == "mailto:ana@example.com"
    assert mailto_link("ana@example.com", "Hi", "a\nb") == (
        "mailto:ana@example.com?subject=Hi&body=a%0D%0Ab"
    )
