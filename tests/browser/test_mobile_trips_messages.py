"""A resident declares a trip on the mobile page, the gate then flags them, and the alert's message
reaches staff in their inbox page; a resident reads their own messages."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from server.extensions import db
from server.models.trips import Trip
from server.plumbing.clock import local_today, utcnow
from server.plumbing.notifications import enqueue
from tests.browser.conftest import screenshot, sign_in


def test_a_resident_declares_a_trip_and_the_gate_flags_them(app, world, open_page, tokens_for, as_user):
    page = open_page("phone")
    sign_in(page, tokens_for(world.resident_a))
    page.goto("/m/")
    page.get_by_role("link", name="返回登记").click()
    page.wait_for_url("**/m/trips")
    page.get_by_label("从哪座城市返回").fill("武汉")
    yesterday = local_today("Asia/Shanghai", utcnow()) - timedelta(days=1)
    page.get_by_label("返回日期").fill(yesterday.isoformat())
    page.get_by_role("button", name="提交登记").click()
    page.get_by_text("已登记:武汉").wait_for()
    listed = page.locator("#trips li").first  # the list is fetched again after the answer is shown
    expect(listed).to_contain_text("武汉")
    expect(listed).to_contain_text("留意期内")
    screenshot(page, "m-trips")
    with app.app_context():
        trip = db.session.scalars(select(Trip)).one()
        assert (trip.user_id, trip.from_city, trip.source) == (world.resident_a.id, "武汉", "self")


def test_the_inbox_page_shows_unread_messages_and_marks_them_read(app, world, open_page, tokens_for):
    with app.app_context():
        enqueue(world.resident_a.id, "delivery_status", {"thing1": "蔬菜 等3件", "phrase2": "已送达"},
                dedupe_key="browser-inbox-1")
        enqueue(world.resident_a.id, "quarantine_lifted", {"thing1": "甲小区"}, dedupe_key="browser-inbox-2")
        db.session.commit()
    page = open_page("phone")
    sign_in(page, tokens_for(world.resident_a))
    page.goto("/m/")
    page.get_by_role("link", name="消息").click()
    page.wait_for_url("**/m/messages")
    page.get_by_text("未读 2 条").wait_for()
    assert page.locator("#messages li.unread").count() == 2
    assert "送菜进度" in page.locator("#messages").inner_text()
    screenshot(page, "m-messages")
    page.locator("#messages li.unread").first.get_by_role("button", name="标为已读").click()
    page.get_by_text("未读 1 条").wait_for()
    page.get_by_role("button", name="全部标为已读").click()
    page.get_by_text("未读 0 条").wait_for()
    assert page.locator("#messages li.unread").count() == 0
