"""The phone page in a real browser: Debian's Chromium, headless, at a phone's size (390 × 844).

``make test`` installs Chromium and ChromeDriver (Debian's chromium and chromium-driver). With
``CRM_UPDATE_SCREENSHOTS=1`` the test also writes the screenshots docs/phone.md shows.
"""

from __future__ import annotations

import difflib
import os
import shutil
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from crm.feed.server import make_server
from crm.web.app import PageApp
from tests.conftest import wall_clock
from tests.test_server import stop_server

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
EXAMPLE = Path(__file__).resolve().parent.parent / "vault-example"
DOCS = EXAMPLE.parent / "docs"
TOKEN = "phone-browser-token-0123"
WIDTH, HEIGHT = 390, 844
# As the machine's notes say: without the background-networking flags Chromium keeps dialling
# Google's hosts, which this closed network refuses.
FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)  # fmt: skip


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    """Return Chromium, headless, the size of a phone; quit it (and its driver) after."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail("Chromium is not installed: `make test` installs chromium and chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'chromium'}"):
        options.add_argument(flag)
    metrics = {"width": WIDTH, "height": HEIGHT, "pixelRatio": 2}
    options.add_experimental_option("mobileEmulation", {"deviceMetrics": metrics})
    service = Service(str(CHROMEDRIVER))
    driver = webdriver.Chrome(service=service, options=options)
    try:
        yield driver
    finally:
        driver.quit()
        process: Any = service.process
        if process is not None and process.poll() is None:  # quit() missed it: stop it by its PID
            process.kill()
            process.wait(10)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """Serve a copy of vault-example on 127.0.0.1, port 0, on 2026-12-01; stop it after."""
    root = tmp_path / "vault"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".crm", "outbox"))
    app = PageApp(root, TOKEN, now=wall_clock, fixed_today=date(2026, 12, 1))
    server = make_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.effective_port}/{TOKEN}/"
    finally:
        stop_server(server, thread)
        assert not thread.is_alive()


def no_sideways_scroll(driver: webdriver.Chrome) -> None:
    """The page fits the phone's width: nothing sticks out to scroll sideways to."""
    inner, scroll = driver.execute_script(
        "return [window.innerWidth, document.documentElement.scrollWidth]"
    )
    assert (inner, scroll) == (WIDTH, WIDTH)


def keep(driver: webdriver.Chrome, tmp_path: Path, name: str) -> None:
    """Save a screenshot; into docs/ too with CRM_UPDATE_SCREENSHOTS=1."""
    shot = tmp_path / name
    assert driver.save_screenshot(str(shot))
    if os.environ.get("CRM_UPDATE_SCREENSHOTS"):
        shutil.copyfile(shot, DOCS / name)


def test_a_phone_sees_today_opens_a_customer_and_logs_a_contact(
    browser: webdriver.Chrome, served: tuple[Path, str], tmp_path: Path
) -> None:
    root, url = served
    browser.get(url)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Today, Tue 01 Dec 2026"
    people = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "li.person > a > b")]
    assert people[:3] == ["Priya Raman", "Bella Rossi", "Olivia Brown"]
    call = browser.find_element(By.CSS_SELECTOR, "li.person a[href^='tel:']")
    assert call.text == "call +39 333 123 4567"
    assert call.get_attribute("href") == "tel:+393331234567"
    no_sideways_scroll(browser)
    keep(browser, tmp_path, "phone-today.png")

    browser.find_element(By.LINK_TEXT, "Bella Rossi").click()
    WebDriverWait(browser, 10).until(lambda d: d.current_url == url + "c/bella-rossi")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Bella Rossi"
    no_sideways_scroll(browser)
    # The style sheet is applied: the Content-Security-Policy allows it by its hash.
    button = browser.find_element(By.XPATH, "//button[text()='Log it']")
    assert button.value_of_css_property("background-color") == "rgba(11, 87, 208, 1)"
    before = (root / "bella-rossi.md").read_text(encoding="utf-8")
    Select(browser.find_element(By.NAME, "kind")).select_by_visible_text("visit")
    browser.find_element(By.NAME, "text").send_keys("trim, asked about the spring colours")
    browser.find_element(By.XPATH, "//button[text()='Log it']").click()
    WebDriverWait(browser, 10).until(lambda d: d.current_url.endswith("?done=logged"))
    assert browser.find_element(By.CSS_SELECTOR, "p.notice").text == "Logged."
    log = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "ul.log li")]
    assert log[0] == "2026-12-01 visit: trim, asked about the spring colours"
    no_sideways_scroll(browser)
    keep(browser, tmp_path, "phone-customer.png")

    after = (root / "bella-rossi.md").read_text(encoding="utf-8")
    changed = [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]
    assert changed == ["+- 2026-12-01 visit: trim, asked about the spring colours"]
    lines = after.splitlines()
    new = lines.index(changed[0][1:])
    assert "## Log" in lines[:new] and all(not line.startswith("## ") for line in lines[lines.index("## Log") + 1 : new])  # fmt: skip
