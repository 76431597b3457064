"""Browser tests: the app served on a free localhost port from a thread, Debian's Chromium driven by
Playwright (never a downloaded browser), one page per viewport, screenshots, and a console-error
collector that fails the test on any console error, page error or CSP violation."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from server.auth import start_session
from server.extensions import db

CHROMIUM = os.environ.get("WUYE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}
VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP}
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
# On PostgreSQL the browser runs the issue's end-to-end flows (the pass scanned by the guard's camera,
# the red quarantine exit, the offline queue, a delivery to its rating, auto-fill, an incident's
# pledge); every page runs on SQLite. The pages call the same API, which tests/api runs on both
# databases; running each page twice would take `make test` past its 15 minutes on 2 cores.
POSTGRES_FLOWS = {"test_mobile.py", "test_mobile_resident.py", "test_console.py"}


def pytest_collection_modifyitems(config, items):
    """On PostgreSQL, skip the browser tests outside POSTGRES_FLOWS (they run on SQLite)."""
    if not os.environ.get("WUYE_TEST_DATABASE_URL", "").startswith("postgresql"):
        return
    here = Path(__file__).resolve().parent
    skip = pytest.mark.skip(reason="page tests run on SQLite; PostgreSQL runs the end-to-end flows")
    for item in items:
        path = Path(str(item.path)).resolve()
        if path.parent == here and path.name not in POSTGRES_FLOWS:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def live_server(app):
    """The test app served on 127.0.0.1:<free port> from a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="session")
def playwright_instance():
    """Playwright's driver for the session."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/system-packages.sh (Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture
def launch_browser(playwright_instance):
    """launch_browser(*extra_args) -> a headless Debian Chromium, closed after the test."""
    browsers = []

    def launch(*extra_args: str):
        browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                      args=CHROMIUM_ARGS + list(extra_args))
        browsers.append(browser)
        return browser

    yield launch
    for browser in browsers:
        browser.close()


@pytest.fixture(scope="session")
def shared_browser(playwright_instance):
    """One browser for the tests that need no special launch flags."""
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


class ConsoleErrors(list):
    """Console errors (CSP violations among them) and page errors seen on the pages it watches."""

    def __init__(self):
        super().__init__()
        self.allowed: list[str] = []

    def allow(self, text: str) -> None:
        """Expect console errors containing text (a 4xx the test provokes logs "Failed to load resource")."""
        self.allowed.append(text)

    def _console(self, label: str, msg) -> None:
        if msg.type == "error" and not any(text in msg.text for text in self.allowed):
            self.append(f"[{label}] console: {msg.text}")

    def watch(self, page, label: str) -> None:
        page.on("console", lambda msg: self._console(label, msg))
        page.on("pageerror", lambda exc: self.append(f"[{label}] page error: {exc}"))


@pytest.fixture
def console_errors():
    """Collects console errors of every page opened with `open_page`; the test fails if any were seen."""
    errors = ConsoleErrors()
    yield errors
    assert list(errors) == [], "console errors:\n" + "\n".join(errors)


@pytest.fixture
def open_page(shared_browser, live_server, console_errors):
    """open_page(viewport='phone'|'desktop', browser=None, **context_options) -> a new page in its own
    context (own storage), watched for console errors. `page.base_url` is the live server."""
    contexts = []

    def open_(viewport: str = "phone", browser=None, **options):
        context = (browser or shared_browser).new_context(
            viewport=VIEWPORTS[viewport], base_url=live_server, locale="zh-CN", timezone_id="Asia/Shanghai",
            is_mobile=viewport == "phone", has_touch=viewport == "phone", **options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        console_errors.watch(page, viewport)
        page.viewport_name = viewport
        return page

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def tokens_for(app):
    """tokens_for(user) -> {'access_token', 'refresh_token'}: a real session, as tests/conftest.py issues."""
    def issue(user) -> dict:
        with app.app_context():
            pair = start_session(db.session.merge(user))
            db.session.commit()
        return {"access_token": pair.access_token, "refresh_token": pair.refresh_token}
    return issue


def wait_until(page, expression: str, arg=None, timeout: float = 10.0) -> None:
    """Poll a page expression (a function of `arg`) until it is truthy. Playwright's wait_for_function
    compiles its predicate with eval in the page, which the pages' CSP rightly refuses; an evaluate
    call does not."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression, arg):
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {expression}")
        page.wait_for_timeout(100)


def sign_in(page, tokens: dict) -> None:
    """Hand a token pair to the pages (localStorage 'wuye.tokens', as static/js/api.js keeps it)."""
    page.goto("/m/")
    page.evaluate("t => localStorage.setItem('wuye.tokens', JSON.stringify(t))", tokens)


def console_as(open_page, tokens: dict, path: str):
    """A desktop page signed in with tokens, opened at path."""
    page = open_page("desktop")
    sign_in(page, tokens)
    page.goto(path)
    return page


def screenshot(page, name: str, full_page: bool = True) -> Path:
    """Save tests/browser/screenshots/<name>-<viewport>.png (the folder is git-ignored); full_page=False
    for a full-screen overlay (fixed elements cover the viewport only)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}-{getattr(page, 'viewport_name', 'page')}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


@pytest.fixture(autouse=True)
def _fresh_pass_keys():
    """Pass signing keys live in the tables cleaned after each test: forget the process's cache."""
    from server.services.gate import passes

    passes.forget_cached_keys()
    yield
    passes.forget_cached_keys()
