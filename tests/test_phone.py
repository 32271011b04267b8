"""The phone page (``crm.web``) at the WSGI level: every page, header and action, on real files."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner

from crm.cli import main
from crm.web.app import PageApp, csrf_of
from crm.web.html import CSP, CSS, HEADERS
from tests.conftest import Response, WriteVault, call, wall_clock

TOKEN = "phone-token-0123456789"
TODAY = date(2026, 12, 1)
HOSTILE = "Eve <script>alert(1)</script>"
TEMPLATE = """\
---
kind: text
channel: sms
log: Holiday note
---
Hi {{ hello }}, happy holidays & see you soon!
"""
FILES = {
    "crm.toml": '[business]\nname = "Lumen"\nregion = "DE"\n',
    "ana.md": (
        "---\nname: Ana García\nfirst_name: Ana\nphone: +49 151 2345 6789\n"
        "email: ana@example.com\ncadence: 30d\nlikes: [oat latte]\n---\n\n"
        "Prefers mornings.\n\n## Log\n- 2026-10-01 call: asked about balayage\n"
    ),
    "eve.md": (
        f"---\nname: '{HOSTILE}'\nfirst_name: Eve\nphone: '0151 9876543'\ncadence: 30d\n"
        "likes: ['\"><img src=x onerror=alert(2)>']\n---\n\n<b>bold</b> & <i>note</i>\n\n"
        "## Log\n- 2026-09-01 visit: <script>alert(3)</script>\n"
    ),
    "templates/messages/holiday.md": TEMPLATE,
}
CAMPAIGN = "holiday-2026-12-01"


class Text(HTMLParser):
    """The visible text of a page, a line per block, and every link's target."""

    BLOCKS = {
        "h1",
        "h2",
        "li",
        "p",
        "div",
        "dt",
        "dd",
        "header",
        "label",
        "button",
        "summary",
        "a",
        "pre",
    }

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = [""]
        self.links: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "title", "select"):
            self.skip += 1
        if tag in self.BLOCKS:
            self.lines.append("")
        if tag == "a":
            self.links.append(dict(attrs)["href"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "title", "select"):
            self.skip -= 1
        if tag in self.BLOCKS:
            self.lines.append("")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.lines[-1] += data

    def text(self) -> list[str]:
        return [" ".join(line.split()) for line in self.lines if line.strip()]


def parsed(body: bytes) -> Text:
    found = Text()
    found.feed(body.decode("utf-8"))
    return found


def post(app: PageApp, page: str, **form: str) -> Response:
    """POST ``form`` to ``/TOKEN/page`` with the csrf field its page carries."""
    return call(app, f"/{TOKEN}/{page}", "POST", {"csrf": csrf_of(TOKEN, page), **form})


@pytest.fixture
def root(write_vault: WriteVault) -> Path:
    """Two customers due on TODAY (one with a hostile name), and a text drafted to both."""
    vault = write_vault(FILES)
    done = CliRunner().invoke(
        main, ["--vault", str(vault), "draft", "holiday", "--today", TODAY.isoformat()]
    )
    assert done.exit_code == 0, done.output
    assert (vault / "outbox" / CAMPAIGN / "ana.md").is_file()
    return vault


def app_of(root: Path, **kw: Any) -> PageApp:
    return PageApp(root, TOKEN, now=wall_clock, fixed_today=TODAY, **kw)


def test_today_lists_each_person_with_one_tap_links_and_a_waiting_drafts_text(root: Path) -> None:
    status, headers, body = call(app_of(root), f"/{TOKEN}/")
    assert status == "200 OK"
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    page = parsed(body)
    assert page.text() == [
        "Lumen",
        "Today",
        "Outbox",
        "Today, Tue 01 Dec 2026",
        "Contact now (2)",
        HOSTILE,
        "61d",
        'likes "><img src=x onerror=alert(2)>',
        "call 0151 9876543",
        "text",
        "a draft waits in",
        CAMPAIGN,
        "2026-09-01 visit: <script>alert(3)</script>",
        "Ana García",
        "31d",
        "likes oat latte",
        "call +49 151 2345 6789",
        "text",
        "email ana@example.com",
        "a draft waits in",
        CAMPAIGN,
        "2026-10-01 call: asked about balayage",
        "Drafts waiting in the outbox (2)",
        CAMPAIGN,
        ": 2 waiting",
    ]
    body_text = "Hi%20Ana%2C%20happy%20holidays%20%26%20see%20you%20soon%21"
    assert page.links == [
        f"/{TOKEN}/",
        f"/{TOKEN}/outbox/",
        f"/{TOKEN}/c/eve",
        "tel:+491519876543",
        "sms:+491519876543?&body=Hi%20Eve%2C%20happy%20holidays%20%26%20see%20you%20soon%21",
        f"/{TOKEN}/outbox/{CAMPAIGN}",
        f"/{TOKEN}/c/ana",
        "tel:+4915123456789",
        f"sms:+4915123456789?&body={body_text}",
        "mailto:ana@example.com",  # an sms draft fills the text, not the email
        f"/{TOKEN}/outbox/{CAMPAIGN}",
        f"/{TOKEN}/outbox/{CAMPAIGN}",
    ]


PAGES = ["", "c/ana", "c/eve", "outbox/", f"outbox/{CAMPAIGN}", "c/nobody", "nothing/here"]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_is_never_cached_leaks_no_referrer_runs_no_script_and_is_never_framed(
    root: Path, page: str
) -> None:
    status, headers, body = call(app_of(root), f"/{TOKEN}/{page}")
    assert status == ("404 Not Found" if page in ("c/nobody", "nothing/here") else "200 OK")
    assert headers["Cache-Control"] == "no-store"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Content-Security-Policy"] == CSP
    assert CSP.startswith("default-src 'none'; style-src 'sha256-")
    assert "script-src" not in CSP and "frame-ancestors 'none'" in CSP
    assert "form-action 'self'" in CSP
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Length"] == str(len(body))
    # The one style the policy allows by its hash is the one the page carries.
    style = re.findall(rb"<style>(.*?)</style>", body, re.S)
    assert style == [CSS.encode()]
    digest = base64.b64encode(hashlib.sha256(style[0]).digest()).decode()
    assert f"style-src 'sha256-{digest}';" in headers["Content-Security-Policy"]
    assert b"<script" not in body


@pytest.mark.parametrize(
    "path",
    ["/", "", "/wrong-token-0123456789/", f"/{TOKEN[:-1]}/", f"/{TOKEN}x/c/ana",
     f"/x/{TOKEN}/", f"/{TOKEN.upper()}/", "/c/ana", f"//{TOKEN}/"],
)  # fmt: skip
def test_a_wrong_or_missing_token_is_the_feeds_bare_404(root: Path, path: str) -> None:
    for method in ("GET", "POST", "HEAD"):
        status, headers, body = call(app_of(root), path, method)
        assert (status, body) == ("404 Not Found", b"Not Found\n")
        assert headers["Content-Type"] == "text/plain; charset=utf-8"
        assert headers["Cache-Control"] == "no-store" and headers["Content-Security-Policy"] == CSP


@pytest.mark.parametrize(
    ("page", "title"),
    [
        ("c/nobody", "No customer 'nobody'"),
        ("c/an", "No customer 'an'"),  # a prefix is no id: the page never guesses
        ("c/ANA", "No customer 'ANA'"),
        ("c/..", "No customer '..'"),
        ("c/ana.md", "No customer 'ana.md'"),
        ("outbox/nope", "No campaign 'nope' in the outbox"),
        ("outbox/..", "No campaign '..' in the outbox"),
        ("outbox/.crm", "No campaign '.crm' in the outbox"),
        ("c/ana/log", "No customer 'ana/log'"),
        ("c/", "Not found"),
        ("crm.toml", "Not found"),
        ("../crm.toml", "Not found"),
        ("outbox/../../crm.toml", "Not found"),
    ],
)
def test_an_unknown_customer_campaign_or_page_is_404_and_reads_no_file(
    root: Path, page: str, title: str
) -> None:
    status, _, body = call(app_of(root), f"/{TOKEN}/{page}")
    assert status == "404 Not Found"
    assert parsed(body).text() == ["Lumen", "Today", "Outbox", title, "Back to today"]


def test_the_customer_page_shows_them_as_crm_show_does(root: Path) -> None:
    status, _, body = call(app_of(root), f"/{TOKEN}/c/ana")
    assert status == "200 OK"
    page = parsed(body)
    assert page.text() == [
        "Lumen",
        "Today",
        "Outbox",
        "Ana García",
        "active",
        "2026-10-01 call: asked about balayage",
        "call +49 151 2345 6789",
        "text",
        "email ana@example.com",
        "a draft waits in",
        CAMPAIGN,
        "Log a contact",
        "Kind",
        "What was said",
        "Date",
        "Log it",
        "Snooze",
        "1 week",
        "2 weeks",
        "1 month",
        "Until",
        "Snooze",
        "Details",
        "first name",
        "Ana",
        "email",
        "ana@example.com",
        "phone",
        "+49 151 2345 6789",
        "likes",
        "oat latte",
        "contact",
        "overdue, every 30d, last 2026-10-01 (call), due 2026-10-31",
        "Log (1)",
        "2026-10-01 call: asked about balayage",
        "Notes",
        "Prefers mornings.",
    ]
    forms = re.findall(rb'<form method="post" action="([^"]+)">', body)
    assert forms == [f"/{TOKEN}/c/ana".encode()] * 5
    csrf = csrf_of(TOKEN, "c/ana")
    assert body.count(f'name="csrf" value="{csrf}"'.encode()) == 5
    assert b'<input type="date" name="date" value="2026-12-01">' in body
    assert b'<input type="hidden" name="until" value="2026-12-15">' in body


def test_logging_a_contact_appends_one_line_and_redirects_back(root: Path) -> None:
    app = app_of(root)
    before = (root / "ana.md").read_text(encoding="utf-8")
    status, headers, body = post(
        app, "c/ana", action="log", kind="visit", text="trim & gloss", date=""
    )
    assert (status, body) == ("303 See Other", b"")
    assert headers["Location"] == f"/{TOKEN}/c/ana?done=logged"
    assert headers["Cache-Control"] == "no-store"
    assert (root / "ana.md").read_text(
        encoding="utf-8"
    ) == before + "- 2026-12-01 visit: trim & gloss\n"
    status, _, body = call(app, f"/{TOKEN}/c/ana?done=logged")
    text = parsed(body).text()
    assert status == "200 OK" and text[3] == "Logged."
    assert text[text.index("Log (2)") + 1 : text.index("Notes")] == [
        "2026-12-01 visit: trim & gloss",
        "2026-10-01 call: asked about balayage",
    ]
    # Contacted today: off the list of people to contact now.
    assert "Ana García" not in parsed(call(app, f"/{TOKEN}/")[2]).text()


def test_a_log_date_reads_as_the_command_line_reads_it(root: Path) -> None:
    app = app_of(root)
    before = (root / "ana.md").read_text(encoding="utf-8")
    assert (
        post(app, "c/ana", action="log", kind="call", text="left a message", date="yesterday")[0]
        == "303 See Other"
    )
    assert (
        post(app, "c/ana", action="log", kind="note", text="likes jazz", date="2026-11-20")[0]
        == "303 See Other"
    )
    assert (root / "ana.md").read_text(encoding="utf-8") == (
        before + "- 2026-11-20 note: likes jazz\n- 2026-11-30 call: left a message\n"
    )


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"kind": "call", "text": "  "}, 'say what happened: crm log NAME "call: asked about the spring offers"'),
        ({"kind": "two words", "text": "hi"}, "'two words' is not a log kind (one word, e.g. call, visit, email)"),
        ({"kind": "", "text": "hi"}, "'' is not a log kind (one word, e.g. call, visit, email)"),
        ({"kind": "call", "text": "one\ntwo"}, "a log entry is one line; put longer notes in the body"),
        ({"kind": "call", "text": "hi", "date": "31.02.2026"}, "day 31 in '31.02.2026' (February 2026 has 28 days) (expected YYYY-MM-DD, today, yesterday, tomorrow, a weekday (friday, fri), 20 Dec, Dec 20, 20 Dec 2026, Dec 20, 2026 or 20.12.2026)"),
    ],
)  # fmt: skip
def test_a_bad_log_form_says_why_as_crm_log_does_and_writes_nothing(
    root: Path, form: dict[str, str], error: str
) -> None:
    before = (root / "ana.md").read_bytes()
    status, _, body = post(app_of(root), "c/ana", action="log", **form)
    assert status == "400 Bad Request"
    assert parsed(body).text()[3] == error
    assert (root / "ana.md").read_bytes() == before


def test_snooze_sets_snooze_until_and_nothing_else(root: Path) -> None:
    app = app_of(root)
    before = (root / "ana.md").read_text(encoding="utf-8")
    status, headers, _ = post(app, "c/ana", action="snooze", until="2026-12-15")
    assert (status, headers["Location"]) == ("303 See Other", f"/{TOKEN}/c/ana?done=snoozed")
    after = before.replace("likes: [oat latte]\n", "likes: [oat latte]\nsnooze_until: 2026-12-15\n")
    assert (root / "ana.md").read_text(encoding="utf-8") == after
    assert "snoozed until" in parsed(call(app, f"/{TOKEN}/c/ana")[2]).text()
    status, _, body = post(app, "c/ana", action="snooze", until="")
    assert status == "400 Bad Request"
    assert parsed(body).text()[3] == "say until when: a day such as 2027-01-10"


def test_mark_as_sent_marks_the_draft_and_logs_it_back_once(root: Path) -> None:
    app = app_of(root)
    page = f"outbox/{CAMPAIGN}"
    status, _, body = call(app, f"/{TOKEN}/{page}")
    assert status == "200 OK"
    shown = parsed(body)
    assert shown.text()[3:] == [
        CAMPAIGN,
        "Ana García",
        "sms · draft",
        "Hi Ana, happy holidays & see you soon!",
        "send by sms to +4915123456789",
        "Mark as sent",
        HOSTILE,
        "sms · draft",
        "Hi Eve, happy holidays & see you soon!",
        "send by sms to +491519876543",
        "Mark as sent",
    ]
    assert (
        "sms:+4915123456789?&body=Hi%20Ana%2C%20happy%20holidays%20%26%20see%20you%20soon%21"
        in shown.links
    )
    status, headers, _ = post(app, page, action="sent", id="ana")
    assert (status, headers["Location"]) == ("303 See Other", f"/{TOKEN}/{page}?done=sent")
    draft = (root / "outbox" / CAMPAIGN / "ana.md").read_text(encoding="utf-8")
    assert re.search(r"^status: sent$", draft, re.M) and re.search(
        r"^sent: \"20\d\d-\d\d-\d\dT", draft, re.M
    )
    log = (root / "ana.md").read_text(encoding="utf-8").splitlines()
    assert log[-1] == f"- 2026-12-01 text: Holiday note [campaign: {CAMPAIGN}]"
    # Marking it again changes nothing: it is sent, and logged once.
    status, headers, _ = post(app, page, action="sent", id="ana")
    assert (status, headers["Location"]) == ("303 See Other", f"/{TOKEN}/{page}?done=already")
    assert parsed(call(app, headers["Location"])[2]).text()[3] == "It was marked as sent already."
    assert (root / "ana.md").read_text(encoding="utf-8").splitlines() == log
    text = parsed(call(app, f"/{TOKEN}/{page}?done=sent")[2]).text()
    assert text[3] == "Marked as sent and logged."
    assert text[5:8] == ["Ana García", "sms · sent", "Hi Ana, happy holidays & see you soon!"]
    assert text.count("Mark as sent") == 1
    status, _, body = post(app, page, action="sent", id="nobody")
    assert status == "404 Not Found"
    assert parsed(body).text()[3] == f"No draft for 'nobody' in {CAMPAIGN}"


def test_the_outbox_lists_its_campaigns(root: Path) -> None:
    status, _, body = call(app_of(root), f"/{TOKEN}/outbox/")
    assert status == "200 OK"
    assert parsed(body).text()[3:] == ["Outbox", CAMPAIGN, "2 waiting of 2"]


@pytest.mark.parametrize(
    ("page", "form"),
    [
        ("c/ana", {"action": "log", "kind": "call", "text": "hi"}),
        ("c/ana", {"action": "snooze", "until": "2026-12-20"}),
        (f"outbox/{CAMPAIGN}", {"action": "sent", "id": "ana"}),
    ],
)
def test_a_post_without_its_pages_csrf_field_is_403_and_changes_nothing(
    root: Path, page: str, form: dict[str, str]
) -> None:
    app = app_of(root)
    files = {p: p.read_bytes() for p in root.rglob("*.md")}
    for csrf in (
        None,
        "",
        "0" * 32,
        csrf_of(TOKEN, "c/eve"),
        csrf_of("another-token-0123456789", page),
    ):
        sent = form if csrf is None else {**form, "csrf": csrf}
        status, headers, body = call(app, f"/{TOKEN}/{page}", "POST", sent)
        assert (status, body) == ("403 Forbidden", b"Forbidden: no valid csrf field\n")
        assert headers["Cache-Control"] == "no-store"
    # A browser says when a form comes from another site: refused even with the field.
    status, _, body = call(
        app, f"/{TOKEN}/{page}", "POST", {**form, "csrf": csrf_of(TOKEN, page)},
        sec_fetch_site="cross-site",
    )  # fmt: skip
    assert (status, body) == ("403 Forbidden", b"Forbidden: a form from another site\n")
    assert {p: p.read_bytes() for p in root.rglob("*.md")} == files


@pytest.mark.parametrize("how", ["crm.toml", "argument"])
def test_read_only_shows_no_form_and_refuses_every_action(root: Path, how: str) -> None:
    if how == "crm.toml":
        (root / "crm.toml").write_text(FILES["crm.toml"] + "\n[serve]\nread_only = true\n")
        app = app_of(root)
    else:
        app = app_of(root, read_only=True)
    files = {p: p.read_bytes() for p in root.rglob("*.md")}
    for page in ("c/ana", f"outbox/{CAMPAIGN}"):
        status, _, body = call(app, f"/{TOKEN}/{page}")
        assert status == "200 OK" and b"<form" not in body and b"Mark as sent" not in body
    text = parsed(call(app, f"/{TOKEN}/c/ana")[2]).text()
    assert "Details" in text and "Log a contact" not in text and "Snooze" not in text
    for page, form in (
        ("c/ana", {"action": "log", "kind": "call", "text": "hi"}),
        ("c/ana", {"action": "snooze", "until": "2026-12-20"}),
        (f"outbox/{CAMPAIGN}", {"action": "sent", "id": "ana"}),
    ):
        assert post(app, page, **form)[:3:2] == ("403 Forbidden", b"Forbidden: read-only\n")
    assert {p: p.read_bytes() for p in root.rglob("*.md")} == files


def test_a_hostile_name_likes_note_and_log_are_text_never_markup(root: Path) -> None:
    app = app_of(root)
    for page in ("", "c/eve", f"outbox/{CAMPAIGN}"):
        _, _, body = call(app, f"/{TOKEN}/{page}")
        assert b"<script" not in body and b"<img" not in body and b"<b>bold" not in body
        assert b"Eve &lt;script&gt;alert(1)&lt;/script&gt;" in body
    _, _, body = call(app, f"/{TOKEN}/c/eve")
    text = parsed(body).text()
    assert text[3] == HOSTILE
    assert b"&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in body
    assert text[-2:] == ["Notes", "<b>bold</b> & <i>note</i>"]
    assert "2026-09-01 visit: <script>alert(3)</script>" in text


def test_the_pages_follow_the_vault_as_it_is_edited(root: Path) -> None:
    app = app_of(root)
    assert "Ana García" in parsed(call(app, f"/{TOKEN}/")[2]).text()
    text = (root / "ana.md").read_text(encoding="utf-8")
    (root / "ana.md").write_text(
        text.replace("name: Ana García", "name: Ana G. Ruiz"), encoding="utf-8"
    )
    (root / "bo.md").write_text(
        "---\nname: Bo Li\nphone: '+49 30 1234567'\ncadence: 30d\n---\n", encoding="utf-8"
    )
    page = parsed(call(app, f"/{TOKEN}/")[2]).text()
    assert page[page.index("Ana G. Ruiz") + 1] == "31d" and "Ana García" not in page
    assert page[page.index("Bo Li") + 1] == "never"
    assert parsed(call(app, f"/{TOKEN}/c/bo")[2]).text()[3] == "Bo Li"


def test_other_methods_head_and_the_bare_token(root: Path) -> None:
    app = app_of(root)
    status, headers, body = call(app, f"/{TOKEN}/c/ana", "HEAD")
    assert (status, body) == ("200 OK", b"") and int(headers["Content-Length"]) > 1000
    status, headers, body = call(app, f"/{TOKEN}/", "PUT")
    assert (status, headers["Allow"]) == ("405 Method Not Allowed", "GET, HEAD, POST")
    status, headers, _ = call(app, f"/{TOKEN}")
    assert (status, headers["Location"]) == ("308 Permanent Redirect", f"/{TOKEN}/")
    status, _, body = post(app, "c/ana", action="delete")
    assert (status, body) == ("400 Bad Request", b"Bad Request: no such action\n")
    status, _, body = call(app, f"/{TOKEN}/c/ana", "POST", {"csrf": "x" * 70_000})
    assert status == "413 Content Too Large"


def test_an_id_with_letters_beyond_ascii_is_found_by_its_url(write_vault: WriteVault) -> None:
    root = write_vault({"zoë-müller.md": "---\nname: Zoë Müller\ncadence: 30d\n---\n"})
    app = app_of(root)
    page = parsed(call(app, f"/{TOKEN}/")[2])
    assert f"/{TOKEN}/c/zo%C3%AB-m%C3%BCller" in page.links
    status, _, body = call(app, f"/{TOKEN}/c/zoë-müller")
    assert status == "200 OK" and parsed(body).text()[3] == "Zoë Müller"
    status, headers, _ = post(app, "c/zoë-müller", action="log", kind="call", text="hi")
    assert headers["Location"] == f"/{TOKEN}/c/zo%C3%AB-m%C3%BCller?done=logged"


def test_read_only_in_crm_toml_must_be_true_or_false(write_vault: WriteVault) -> None:
    root = write_vault({"crm.toml": '[serve]\nread_only = "yes"\n'})
    done = CliRunner().invoke(main, ["--vault", str(root), "check"])
    assert done.exit_code == 1
    assert done.output == (
        f"{root / 'crm.toml'}:2: serve.read_only must be true or false, not 'yes'\n"
    )


def test_crm_serve_read_only_serves_the_page_over_http_without_its_forms(root: Path) -> None:
    command = [sys.executable, "-c", "from crm.cli import main; main()", "--vault", str(root)]
    env = {**os.environ, "CRM_FEED_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [*command, "serve", "--port", "0", "--read-only", "--today", TODAY.isoformat()],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(5)]
        assert lines[0] == "Serving 2 events. Subscribe to:\n" and lines[3] == "On your phone:\n"
        page = lines[4].strip()
        assert re.fullmatch(rf"http://127\.0\.0\.1:\d+/{TOKEN}/", page)
        with urllib.request.urlopen(page + "c/ana", timeout=10) as response:
            assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
            body = response.read()
        assert b"<h1>Ana Garc\xc3\xada</h1>" in body and b"<form" not in body
        form = urlencode(
            {"csrf": csrf_of(TOKEN, "c/ana"), "action": "log", "kind": "call", "text": "hi"}
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(page + "c/ana", data=form.encode(), timeout=10)
        assert refused.value.code == 403 and refused.value.read() == b"Forbidden: read-only\n"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0


@pytest.mark.parametrize(
    ("method", "page", "form", "status"),
    [
        ("GET", "", None, "308 Permanent Redirect"),
        ("PUT", "/", None, "405 Method Not Allowed"),
        ("POST", "/c/ana", {"csrf": csrf_of(TOKEN, "c/ana"), "action": "x"}, "400 Bad Request"),
        ("POST", "/c/ana", {"csrf": "x" * 70_000}, "413 Content Too Large"),
        ("POST", "/c/ana", {}, "403 Forbidden"),
        ("POST", "/c/ana", {"csrf": csrf_of(TOKEN, "c/ana"), "action": "log", "kind": "call", "text": "hi"}, "303 See Other"),
        ("POST", "/c/ana", {"csrf": csrf_of(TOKEN, "c/ana"), "action": "log", "kind": "call", "text": ""}, "400 Bad Request"),
        ("POST", "/c/nobody", {"csrf": csrf_of(TOKEN, "c/nobody"), "action": "log", "kind": "call", "text": "hi"}, "404 Not Found"),
    ],
)  # fmt: skip
def test_every_answer_carries_the_safety_headers(
    root: Path, method: str, page: str, form: dict[str, str] | None, status: str
) -> None:
    got, headers, _ = call(app_of(root), f"/{TOKEN}{page}", method, form)
    assert got == status
    assert [headers.get(k) for k, _ in HEADERS] == [v for _, v in HEADERS]


def test_a_broken_crm_toml_turns_the_actions_off_and_says_so(root: Path) -> None:
    (root / "crm.toml").write_text('[serve]\nread_only = "no"\n', encoding="utf-8")
    app = app_of(root)
    files = {p: p.read_bytes() for p in root.rglob("*.md")}
    status, _, body = call(app, f"/{TOKEN}/c/ana")
    text = parsed(body).text()
    assert status == "200 OK" and b"<form" not in body
    assert text[3] == (
        "crm.toml has errors, so this page changes nothing: "
        "serve.read_only must be true or false, not 'no'"
    )
    status, _, body = post(app, "c/ana", action="log", kind="call", text="hi")
    assert (status, body) == ("403 Forbidden", b"Forbidden: crm.toml has errors\n")
    assert {p: p.read_bytes() for p in root.rglob("*.md")} == files


def test_files_to_fix_are_named_from_the_vault_and_the_rest_still_shows(root: Path) -> None:
    (root / "bad.md").write_text("---\nname: Bad\nbirthday: 1990-13-45\n---\n", encoding="utf-8")
    text = parsed(call(app_of(root), f"/{TOKEN}/")[2]).text()
    fix = text.index("Files to fix (2)")
    assert text[fix + 1 : fix + 3] == [
        "bad.md:2: warning: no first_name: add one so greetings can use it",
        "bad.md:3: birthday: '1990-13-45' is not a real date (month must be in 1..12)",
    ]
    assert str(root) not in " ".join(text) and "Ana García" in text


def test_a_failure_while_writing_is_a_page_that_says_so_not_a_traceback(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import crm.edit.atomic

    def refuse(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(crm.edit.atomic, "replace", refuse)
    logs: list[str] = []
    before = (root / "ana.md").read_bytes()
    status, headers, body = post(
        app_of(root, log=logs.append), "c/ana", action="log", kind="call", text="hi"
    )
    assert status == "500 Internal Server Error" and headers["Cache-Control"] == "no-store"
    assert parsed(body).text()[3] == "log failed: [Errno 28] No space left on device"
    assert logs == ["/c/ana: log failed: [Errno 28] No space left on device"]
    assert (root / "ana.md").read_bytes() == before


def test_a_broken_draft_hides_no_other_and_a_draft_with_a_gap_is_not_offered(root: Path) -> None:
    folder = root / "outbox" / CAMPAIGN
    (folder / "zed.md").write_text("---\n: [unclosed\n---\nhi\n", encoding="utf-8")
    ana = folder / "ana.md"
    ana.write_text(
        ana.read_text(encoding="utf-8").replace("see you soon!", "[...] see you soon!"),
        encoding="utf-8",
    )
    app = app_of(root)
    status, _, body = call(app, f"/{TOKEN}/")
    page = parsed(body)
    assert status == "200 OK"
    assert "sms:+4915123456789" in page.links  # no half-written message in the text
    assert (
        "sms:+491519876543?&body=Hi%20Eve%2C%20happy%20holidays%20%26%20see%20you%20soon%21"
        in page.links
    )
    status, _, body = call(app, f"/{TOKEN}/outbox/{CAMPAIGN}")
    text = parsed(body).text()
    assert status == "200 OK"
    assert text[4].startswith(f"outbox/{CAMPAIGN}/zed.md: the draft's front matter is not YAML")
    assert text[5:10] == ["Ana García", "sms · draft", "Hi Ana, happy holidays & [...] see you soon!", "write the personal line at [...] in the file first", HOSTILE]  # fmt: skip
    assert post(app, f"outbox/{CAMPAIGN}", action="sent", id="ana")[0] == "400 Bad Request"


def test_every_person_of_the_day_can_be_reached_from_the_page(write_vault: WriteVault) -> None:
    root = write_vault(
        {
            "cy.md": (
                "---\nname: Cy Young\nphone: '+49 30 1234567'\nbirthday: 1990-12-05\n"
                "likes: [tea]\n---\n\n## Log\n- 2026-11-02 visit: cut\n"
            ),
            "team.md": "---\nid: team/bo\nname: Bo Team\ncadence: 7d\n---\n",
        }
    )
    app = app_of(root)
    page = parsed(call(app, f"/{TOKEN}/")[2])
    birthday = page.text().index("Next 14 days (1)")
    assert page.text()[birthday + 1 : birthday + 7] == [
        "2026-12-05 (Sat):",
        "Cy Young",
        ", birthday (turns 36)",
        "likes tea",
        "call +49 30 1234567",
        "text",
    ]
    assert "tel:+49301234567" in page.links and f"/{TOKEN}/c/team/bo" in page.links
    status, _, body = call(app, f"/{TOKEN}/c/team/bo")
    assert status == "200 OK" and parsed(body).text()[3] == "Bo Team"


def test_logging_past_the_contact_cap_says_so(write_vault: WriteVault) -> None:
    root = write_vault(
        {"ana.md": "---\nname: Ana\nmax_contacts: 1/30d\n---\n\n## Log\n- 2026-11-20 call: hi\n"}
    )
    status, headers, _ = post(app_of(root), "c/ana", action="log", kind="call", text="again")
    assert (status, headers["Location"]) == ("303 See Other", f"/{TOKEN}/c/ana?done=logged-over")
    text = parsed(call(app_of(root), headers["Location"])[2]).text()
    assert text[3] == "Logged. They are over their contact limit now: give them a rest."


def test_today_puts_replies_owed_first_and_shows_rewards_with_their_links(
    write_vault: WriteVault,
) -> None:
    vault = write_vault(
        {
            "crm.toml": '[[rewards]]\nname = "free trim"\nevery = 2\n',
            "bo.md": "---\nname: Bo Li\nfirst_name: Bo\nphone: +49 151 1112223\n---\n## Log\n"
            "- 2026-11-20 visit: cut\n- 2026-11-29 question: a slot on Saturday?\n",
            "cy.md": "---\nname: Cy Ode\nfirst_name: Cy\nemail: cy@example.com\n---\n## Log\n"
            "- 2026-11-02 visit: cut\n- 2026-11-25 visit: colour\n",
        }
    )
    status, _, body = call(app_of(vault), f"/{TOKEN}/")
    assert status == "200 OK"
    page = parsed(body)
    text = page.text()
    assert text[text.index("Replies you owe (1)") :] == [
        "Replies you owe (1)",
        "Bo Li",
        "· waiting 2 days · reply late today · reach +49 151 1112223",
        "call +49 151 1112223",
        "text",
        "2026-11-29 question: a slot on Saturday?",
        "Rewards (2)",
        "Cy Ode",
        "· reward free trim · standing due · earned every 2 visits · last given never",
        "email cy@example.com",
        "2026-11-25 visit: colour",
        "Bo Li",
        "· reward free trim · standing 1 visit to go · earned every 2 visits · last given never",
        "call +49 151 1112223",
        "text",
        "2026-11-29 question: a slot on Saturday?",
    ]
    assert page.links[2:5] == [f"/{TOKEN}/c/bo", "tel:+491511112223", "sms:+491511112223"]


def test_someone_who_opted_out_of_everything_says_no_contact(root: Path) -> None:
    """Off the day's list, and their page says so (issue 31)."""
    ana = root / "ana.md"
    ana.write_text(ana.read_text("utf-8").replace("cadence: 30d\n", "cadence: 30d\nopt_out: all\n"))
    app = app_of(root)
    assert "Ana García" not in parsed(call(app, f"/{TOKEN}/")[2]).text()
    page = parsed(call(app, f"/{TOKEN}/c/ana")[2]).text()
    assert page[3:5] == ["Ana García", "active, no contact: opted out of every message"]
    assert "everything: no contact" in page
