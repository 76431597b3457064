"""The base pages in a real Chromium: they load under the CSP without console errors, switch
language, and sign in."""

from __future__ import annotations

import pytest
from werkzeug.security import generate_password_hash

from server.extensions import db
from server.models.people import User
from tests.browser.conftest import screenshot


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_console_signs_in_with_a_password_and_switches_language(app, world, open_page, console_errors, viewport):
    console_errors.allow("status of 401")
    with app.app_context():
        staff = db.session.get(User, world.staff_a.id)
        staff.password_hash = generate_password_hash("correct horse")
        username = staff.username
        db.session.commit()
    page = open_page(viewport)
    page.goto("/console/")
    assert page.locator("h1").inner_text() == "物业防疫 · 管理台"
    screenshot(page, "console-signin")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("wrong")
    page.get_by_role("button", name="登录").last.click()
    page.get_by_role("alert").wait_for()
    assert "登录失败" in page.get_by_role("alert").inner_text()
    page.get_by_label("密码").fill("correct horse")
    page.get_by_role("button", name="登录").last.click()
    page.locator("#home").wait_for()
    page.get_by_role("button", name="English").click()
    assert page.locator("h1").inner_text() == "Wuye · Staff console"
    assert page.evaluate("document.documentElement.lang") == "en"
    screenshot(page, "console-home")


def test_mobile_start_page_signs_in_and_shows_the_role_menu(world, open_page, tokens_for):
    from tests.browser.conftest import sign_in

    page = open_page("phone")
    page.goto("/m/")
    screenshot(page, "m-signin")
    sign_in(page, tokens_for(world.guard_a))
    page.goto("/m/")
    page.locator("#guard-menu").wait_for()
    assert page.locator("#resident-menu").is_hidden()
    screenshot(page, "m-menu-guard")
