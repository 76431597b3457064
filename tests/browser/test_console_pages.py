"""Every console page, as staff and as the alliance admin, at desktop and phone size: it renders its
heading and menu without a console error, fits the phone's width, and leaves a screenshot."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot, sign_in

STATIC = Path(__file__).resolve().parents[2] / "static"
# The menu shell.js draws (PAGES / ROLE_PAGES), read from the module so a new page is walked too.
SHELL = (STATIC / "js" / "console" / "shell.js").read_text()
STAFF_PAGES = re.findall(r"'([a-z-]+)'", re.search(r"export const PAGES = \[(.*?)\];", SHELL, re.S).group(1))
ADMIN_PAGES = re.findall(r"'([a-z-]+)'", re.search(r"alliance_admin: \[(.*?)\]", SHELL, re.S).group(1))


def test_the_walk_covers_every_console_page_file():
    files = {path.stem for path in (STATIC / "console").glob("*.html")} - {"index"}
    assert set(STAFF_PAGES) == files
    assert set(ADMIN_PAGES) <= files


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize("role", ["staff", "alliance_admin"])
def test_every_console_page_renders_for_its_role(world, open_page, tokens_for, viewport, role):
    user, pages = (world.staff_a, STAFF_PAGES) if role == "staff" else (world.admin, ADMIN_PAGES)
    page = open_page(viewport)
    sign_in(page, tokens_for(user))
    width = page.viewport_size["width"]
    for name in pages:
        page.goto(f"/console/{name}")
        menu = page.locator("#nav a[aria-current='page']")
        expect(menu).to_have_attribute("href", f"/console/{name}")
        expect(page.locator(".page-head h2")).not_to_be_empty()
        page.wait_for_load_state("networkidle")
        # Usable on a phone: nothing wider than the screen (wide tables scroll inside their card).
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width + 1, name
        screenshot(page, f"console-page-{name}-{role}")
    assert page.locator("#nav a").count() == len(pages) + 1  # the home page too
