"""Browser fixtures: one live server and one Chromium per session, a fresh context (cookies) per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.server import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    PHONE,
    LiveServer,
    chromium_missing,
)


@pytest.fixture(scope="package")
def chromium_ok() -> None:
    reason = chromium_missing()
    if reason:
        if os.environ.get("ADSTUDIO_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests are required here (ADSTUDIO_REQUIRE_BROWSER=1) but {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="package")
def live_site(chromium_ok: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path_factory.mktemp("live-site"))
    server.prepare()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="package")
def playwright(chromium_ok: None) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="package")
def browser(playwright) -> Iterator[object]:
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


def _context(browser, live_site: LiveServer, options: dict):
    context = browser.new_context(base_url=live_site.url, **options)
    context.set_default_timeout(30_000)
    return context


@pytest.fixture
def phone(browser, live_site: LiveServer) -> Iterator[object]:
    """A page in a fresh phone-sized context: a fan on their own phone, with their own session."""
    context = _context(browser, live_site, PHONE)
    yield context.new_page()
    context.close()


@pytest.fixture
def desktop(browser, live_site: LiveServer) -> Iterator[object]:
    context = _context(browser, live_site, DESKTOP)
    yield context.new_page()
    context.close()


@pytest.fixture
def admin_page(browser, live_site: LiveServer) -> Iterator[object]:
    """A desktop page logged in as staff through the admin's own login form."""
    context = _context(browser, live_site, DESKTOP)
    page = context.new_page()
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", ADMIN_USER)
    page.fill("#id_password", ADMIN_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    yield page
    context.close()


@pytest.fixture(scope="package")
def selfie_jpg(astronaut_jpg: Path) -> Path:
    return astronaut_jpg
