"""A real browser: Debian's chromium driven by Playwright (its own browser download fails offline)."""

from __future__ import annotations

import shutil

import pytest

from e2e_helpers import screenshot

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    assert executable, "Debian's chromium is missing: `make test` installs it (apt-get install chromium)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, app_url, request):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    pg = context.new_page()
    pg.goto(app_url)
    pg.get_by_text("Transfer-learning studio").first.wait_for()
    yield pg
    screenshot(pg, request)
    context.close()
