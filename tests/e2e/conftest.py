"""Browser tests: headless Debian Chromium driven by Playwright's sync API against live_server.

Playwright's sync API runs an event loop in the test thread, which makes Django refuse ORM
calls from it unless DJANGO_ALLOW_ASYNC_UNSAFE is set; these tests only set data up and read it
back around the browser, so that is safe here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1366, "height": 768}  # the laptop screen the pages are designed for
PASSWORD = "pass-12345"  # UserFactory's password


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium to run the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def artifacts() -> Path:
    path = Path(os.environ.get("LEADPACT_TEST_ARTIFACTS") or "test-artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def page_as(browser, live_server) -> Iterator[Callable]:
    """``page_as(user)`` → a fresh browser page, logged in through the login form."""
    contexts = []

    def make(user):
        context = browser.new_context(viewport=VIEWPORT, base_url=live_server.url)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.goto("/accounts/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/leads/**")
        return page

    yield make
    for context in contexts:
        context.close()
