"""Headless system Chromium driven by Playwright, against the real `server` fixture."""

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright

from app.config import Settings
from tests.conftest import LiveServer, live_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
LOOPBACK = {"127.0.0.1", "localhost"}


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def server_without_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server with no Node.js to typeset formulas: MathJax typesets them all in the browser."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("without-node"), node="")
    with live_server(settings, "without-node") as running:
        yield running


@pytest.fixture
def outside_requests() -> list[str]:
    """URLs the page tried to fetch from anywhere but this machine (all were blocked)."""
    return []


@pytest.fixture
def page(browser: Browser, outside_requests: list[str]) -> Iterator[Page]:
    context = browser.new_context()

    def only_loopback(route: Route) -> None:
        if urlparse(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            outside_requests.append(route.request.url)
            route.abort()

    context.route("**/*", only_loopback)
    page = context.new_page()
    policy_violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            policy_violations.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    yield page
    context.close()
    assert policy_violations == [], "our pages must run under their own CSP"


def wait_until_ready(page: Page) -> None:
    """Until the formulas in view are drawn, and then htmx has started (as a learner would)."""
    html = page.locator("html")
    expect(html).to_have_attribute("data-mathjax", "ready", timeout=30_000)
    expect(html).to_have_attribute("data-htmx", "ready", timeout=30_000)
