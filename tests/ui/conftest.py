"""Browser tests of the review UI: Playwright driving the system Chromium against a real server.

Chromium is Debian's (``/usr/bin/chromium``; ``.ci/run`` installs it when missing). Playwright
never downloads a browser here: without the system one, these tests skip and say why.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.e2e.conftest import Deployment, KeySpec, deploy

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

if not CHROMIUM.exists():
    pytest.skip(
        f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")


@pytest.fixture(scope="module")
def browser() -> Iterator[sync_api.Browser]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def review(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deployed_aside(tmp_path_factory.mktemp("review")) as deployment:
        yield deployment


@pytest.fixture
def page(browser: sync_api.Browser) -> Iterator[sync_api.Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    try:
        yield context.new_page()
    finally:
        context.close()


def sign_in(page: sync_api.Page, d: Deployment, role: str = "operator") -> None:
    page.goto(d.server.url + "/review")
    # Not signed in: the queue sends the browser to the sign-in form.
    page.wait_for_url(re.compile(r"/review/login$"))
    page.fill("input[name=key]", d.keys[role])
    page.click("form[action='/review/login'] button[type=submit]")
    page.wait_for_url(re.compile(r"/review$"))


@contextmanager
def deployed_aside(tmp_path: Path, keys: KeySpec | None = None, **env: str) -> Iterator[Deployment]:
    """``deploy`` for a test that already has a browser: Playwright's sync API holds this
    thread's event loop, and setting up a deployment runs one of its own, so it goes aside."""
    with ThreadPoolExecutor(1) as pool:
        manager = deploy(tmp_path, keys, **env)
        deployment = pool.submit(manager.__enter__).result()
        try:
            yield deployment
        finally:
            pool.submit(manager.__exit__, None, None, None).result()
