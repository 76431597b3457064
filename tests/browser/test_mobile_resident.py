"""The resident's mobile pages in a real Chromium: self check-in from the gate's /g/<code> page,
temperature self-report in quarantine, a delivery requested, delivered, confirmed and rated; and a
screenshot of every page at phone and desktop size."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from server.extensions import db
from server.models.checkins import CheckIn
from server.models.deliveries import DeliveryRating, DeliveryRequest
from server.models.health import QuarantineOrder, TemperatureReading
from server.plumbing.clock import utcnow
from tests.browser.conftest import screenshot, sign_in


def quarantine_household(app, world) -> None:
    """resident_a's household in home quarantine, from yesterday for 14 days."""
    with app.app_context():
        now = utcnow()
        db.session.add(QuarantineOrder(compound_id=world.compound_a.id, household_id=world.household_a.id,
                                       reason="returned_from_city", starts_at=now - timedelta(days=1),
                                       ends_at=now + timedelta(days=13)))
        db.session.commit()


def test_self_check_in_from_the_gate_page(app, world, open_page, tokens_for):
    page = open_page("phone")
    sign_in(page, tokens_for(world.resident_a))
    page.goto(f"/g/{world.gate_a.code}")
    page.get_by_role("link", name="没有小程序?在网页上登记").click()
    page.wait_for_url("**/m/checkin?code=*")
    assert page.get_by_label("门禁码(场所码)").input_value() == world.gate_a.code
    screenshot(page, "m-checkin")
    page.get_by_role("button", name="离开小区").click()
    answer = page.locator(".answer")
    answer.wait_for()
    assert answer.get_attribute("data-color") == "green"
    assert page.locator(".answer-status").inner_text() == "可通行"
    screenshot(page, "m-checkin-answer", full_page=False)
    with app.app_context():
        checkin = db.session.scalars(select(CheckIn)).one()
        assert (checkin.subject_user_id, checkin.method, checkin.direction) == (world.resident_a.id, "self_scan", "out")


def test_quarantined_resident_reports_temperature_and_gets_a_delivery_to_rate(app, world, open_page, tokens_for,
                                                                              as_user):
    quarantine_household(app, world)
    page = open_page("phone")
    sign_in(page, tokens_for(world.resident_a))
    page.goto("/m/temperature")
    page.locator("#status.red").wait_for()
    assert "居家隔离中" in page.locator("#status").inner_text()
    page.get_by_role("button", name="同意并继续").click()
    page.get_by_label("体温(℃)").fill("36.6")
    page.get_by_role("button", name="提交体温").click()
    page.locator("#report-result.green").wait_for()
    page.locator("#history li", has_text="36.6℃").wait_for()
    screenshot(page, "m-temperature")
    with app.app_context():
        reading = db.session.scalars(select(TemperatureReading)).one()
        assert (reading.subject_user_id, float(reading.celsius), reading.source) == (world.resident_a.id, 36.6, "self")

    page.goto("/m/delivery")
    page.get_by_label("物品").fill("白菜")
    page.get_by_label("数量").fill("2")
    page.get_by_label("单位").fill("斤")
    page.get_by_text("药品").click()
    page.get_by_role("button", name="提交请求").click()
    page.locator("#detail .badge[data-status='submitted']").wait_for()
    screenshot(page, "m-delivery")
    with app.app_context():
        delivery_id = db.session.scalars(select(DeliveryRequest.id)).one()
    stored = as_user(world.resident_a).get(f"/api/v1/deliveries/{delivery_id}").json
    assert (stored["urgency"], stored["contactless"], stored["status"]) == (["medicine"], True, "submitted")
    assert [(i["name"], i["quantity"], i["unit"]) for i in stored["items"]] == [("白菜", 2, "斤")]

    staff = as_user(world.staff_a)
    for action in ("claim", "start", "dispatch", "deliver"):
        assert staff.post(f"/api/v1/deliveries/{delivery_id}/{action}", json={}).status_code == 200, action
    page.reload()
    page.locator(f"#deliveries button[data-id='{delivery_id}']").click()
    page.get_by_role("button", name="确认收货").click()
    page.get_by_role("button", name="4 星").click()
    page.get_by_label("评价内容(可选)").fill("很及时,谢谢")
    page.get_by_role("button", name="评价", exact=True).click()
    page.get_by_text("已评价:4 星").wait_for()
    screenshot(page, "m-delivery-rated")
    with app.app_context():
        rating = db.session.scalars(select(DeliveryRating)).one()
        assert (rating.score, rating.comment) == (4, "很及时,谢谢")
        assert db.session.get(DeliveryRequest, delivery_id).status == "confirmed"


PAGES = {"resident": ["/m/", "/m/pass", "/m/checkin", "/m/temperature", "/m/delivery"], "guard": ["/m/guard"]}


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_every_mobile_page_renders_at_phone_and_desktop_size(world, open_page, tokens_for, viewport):
    page = open_page(viewport)
    page.goto("/m/")
    page.locator("form.signin").wait_for()
    screenshot(page, "m-signin")
    for role, urls in PAGES.items():
        sign_in(page, tokens_for(getattr(world, f"{role}_a")))
        for url in urls:
            page.goto(url)
            page.wait_for_load_state("networkidle")
            assert page.locator("h1").first.inner_text()
            name = "m-" + (url.strip("/").split("/")[-1] if url != "/m/" else f"menu-{role}")
            screenshot(page, f"{name}-page")
    page.get_by_role("button", name="English").click()
    assert page.locator("h1").inner_text() == "Gate scanner"
    screenshot(page, "m-guard-en")


def test_the_pass_refreshes_before_it_expires(world, open_page, tokens_for):
    page = open_page("phone")
    sign_in(page, tokens_for(world.resident_a))
    now = datetime.now(UTC)
    page.clock.install(time=now)
    page.clock.pause_at(now + timedelta(seconds=1))  # the page's time moves only when the test says
    page.goto("/m/pass")
    expect(page.locator("#qr")).to_have_attribute("data-expires-at", re.compile("."))
    first = page.locator("#qr").get_attribute("src")
    assert page.locator("#countdown").inner_text() == "45 秒后刷新"
    page.clock.run_for(41_000)
    assert page.locator("#countdown").inner_text() == "4 秒后刷新"
    assert page.locator("#countdown").get_attribute("data-low") == "true"
    with page.expect_response(re.compile(r"/api/v1/me/pass(\?|$)")) as refreshed:
        page.clock.run_for(6_000)
    assert refreshed.value.status == 200
    expect(page.locator("#qr")).not_to_have_attribute("src", first)  # a new image from the new answer
    assert page.locator("#qr").is_visible()
    assert page.locator("#countdown").inner_text() == "45 秒后刷新"


def test_the_resident_scans_the_gate_poster_with_the_camera(app, world, open_page, tokens_for, launch_browser,
                                                            tmp_path):
    from server.services.gate.qr_images import qr_png
    from tests.browser.fake_camera import write_y4m

    video = write_y4m(tmp_path / "poster.y4m", qr_png(f"https://wuye.example.cn/g/{world.gate_a.code}"))
    browser = launch_browser("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                             f"--use-file-for-fake-video-capture={video}")
    page = open_page("phone", browser=browser, permissions=["camera"])
    sign_in(page, tokens_for(world.resident_a))
    page.goto("/m/checkin")
    page.get_by_role("button", name="扫描门岗二维码").click()
    expect(page.get_by_label("门禁码(场所码)")).to_have_value(world.gate_a.code, timeout=20_000)
    assert page.locator("#camera-state").inner_text() == "已识别门禁码,请选择进入或离开"
    page.get_by_role("button", name="进入小区").click()
    page.locator(".answer[data-color='green']").wait_for()
    with app.app_context():
        checkin = db.session.scalars(select(CheckIn)).one()
        assert (checkin.method, checkin.direction, checkin.gate_id) == ("self_scan", "in", world.gate_a.id)
