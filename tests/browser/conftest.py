"""Playwright driving Debian's Chromium against the live test server.

The browser is never downloaded: without /usr/bin/chromium the tests are skipped
with the reason, unless REQUIRE_BROWSER=1 (CI), where a missing browser fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.db import connections

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page
    from pytest_django.live_server_helper import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
# Playwright's synchronous API runs an event loop in this thread; the tests only
# use the ORM between browser calls, never concurrently with them.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium, for one test module at a time.

    While Playwright's event loop runs in this thread, Django keeps the thread's database
    connections apart from the usual ones (asgiref's Local behaves as a context variable
    under a running loop). The loop therefore runs only for the browser tests, and the
    connections opened under it are closed before it stops: one left open would keep the
    test database from being dropped at the end of the run.
    """
    if not CHROMIUM.exists():
        message = (
            f"Chromium is not installed at {CHROMIUM} (Debian package 'chromium'); "
            "the browser tests need it."
        )
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(message + " REQUIRE_BROWSER=1 is set, so this is a failure.")
        pytest.skip(message)
    from playwright.sync_api import expect, sync_playwright

    # Assertions wait as long as actions: the suite keeps both cores busy.
    expect.set_options(timeout=20_000)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
            connections.close_all()


@pytest.fixture
def page(browser: Browser, live_server: LiveServer, transactional_db: None) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    # Generous: the media element loads a file and seeks while the test suite loads both cores.
    context.set_default_timeout(20_000)
    page = context.new_page()
    yield page
    # Leaving a labeling page sends its active seconds; drain them first, so no
    # request reaches the server while the test database is being emptied.
    for open_page in context.pages:
        open_page.evaluate("window.labeling && window.labeling.takeActiveSeconds()")
    context.close()


def log_in(page: Page, username: str, password: str) -> None:
    """Log in with the keyboard only: the user name field has the focus on arrival."""
    from playwright.sync_api import expect

    page.goto("/accounts/login/")
    # Typing before the autofocus lands would lose the first keys on a loaded machine.
    expect(page.locator("input[name=username]")).to_be_focused()
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
