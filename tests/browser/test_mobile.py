"""The mobile pages in a real Chromium: a pass shown on the resident's page is read by the guard's
camera (a fake stream made from that pass) and allowed; a quarantined resident's exit is red with
the reason; a scan made offline is queued in IndexedDB and synced when the network returns."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from server.extensions import db
from server.models.checkins import CheckIn
from server.models.health import QuarantineOrder
from server.plumbing.clock import utcnow
from tests.browser.conftest import screenshot, sign_in, wait_until
from tests.browser.fake_camera import write_y4m

FAKE_CAMERA = ("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream")


def checkins_of(app, user_id: int) -> list[CheckIn]:
    """The user's stored check-ins, oldest first."""
    with app.app_context():
        rows = db.session.scalars(select(CheckIn).where(CheckIn.subject_user_id == user_id).order_by(CheckIn.id)).all()
        db.session.expunge_all()
        return rows


def pass_code(app, tokens_for, resident) -> str:
    """A fresh pass code through the API (what the pass page would show)."""
    client = app.test_client()
    response = client.get("/api/v1/me/pass?qr=none",
                          headers={"Authorization": f"Bearer {tokens_for(resident)['access_token']}"})
    assert response.status_code == 200, response.json
    return response.json["code"]


def open_guard(open_page, tokens_for, guard, viewport="phone", **options):
    """The guard's scanner, signed in, its gates loaded and its queue synced."""
    page = open_page(viewport, **options)
    sign_in(page, tokens_for(guard))
    page.goto("/m/guard")
    page.locator("#gate option").first.wait_for(state="attached")
    page.locator("#sync[data-state='synced']").wait_for()
    return page


def test_the_pass_on_the_resident_page_is_scanned_by_the_guard_camera_and_allowed(
        app, world, open_page, tokens_for, launch_browser, tmp_path):
    resident_page = open_page("phone")
    sign_in(resident_page, tokens_for(world.resident_a))
    resident_page.goto("/m/pass")
    qr = resident_page.locator("#qr")
    qr.wait_for()
    wait_until(resident_page, "() => document.querySelector('#qr').naturalWidth > 0")
    expect(resident_page.locator("#pass-name")).to_have_text("王**")  # filled once /me answers
    assert "秒后刷新" in resident_page.locator("#countdown").inner_text()
    screenshot(resident_page, "m-pass")
    video = write_y4m(tmp_path / "pass.y4m", qr.screenshot())

    camera_browser = launch_browser(*FAKE_CAMERA, f"--use-file-for-fake-video-capture={video}")
    guard_page = open_guard(open_page, tokens_for, world.guard_a, browser=camera_browser, permissions=["camera"])
    answer = guard_page.locator(".answer")
    answer.wait_for(timeout=20_000)
    assert answer.get_attribute("data-color") == "green", answer.inner_text()
    assert guard_page.locator(".answer-status").inner_text() == "可通行"
    assert "王" in guard_page.locator(".answer-subject").inner_text()
    screenshot(guard_page, "m-guard-allowed", full_page=False)

    [checkin] = checkins_of(app, world.resident_a.id)
    assert (checkin.decision, checkin.method, checkin.gate_id, checkin.direction) == (
        "allowed", "guard_scan", world.gate_a.id, "in")


def test_a_quarantined_resident_leaving_is_shown_red_with_the_reason(app, world, open_page, tokens_for):
    with app.app_context():
        now = utcnow()
        db.session.add(QuarantineOrder(compound_id=world.compound_a.id, household_id=world.household_a.id,
                                       reason="returned_from_city", starts_at=now - timedelta(days=1),
                                       ends_at=now + timedelta(days=13)))
        db.session.commit()
    page = open_guard(open_page, tokens_for, world.guard_a)
    page.get_by_role("button", name="出", exact=True).click()
    page.get_by_label("手动输入通行码").fill(pass_code(app, tokens_for, world.resident_a))
    page.get_by_role("button", name="提交").click()
    answer = page.locator(".answer")
    answer.wait_for()
    assert answer.get_attribute("data-color") == "red"
    assert answer.get_attribute("data-reason") == "quarantined"
    assert page.locator(".answer-status").inner_text() == "禁止通行"
    assert page.locator(".answer-reason").inner_text() == "居家隔离期间禁止外出"
    screenshot(page, "m-guard-quarantined", full_page=False)
    [checkin] = checkins_of(app, world.resident_a.id)
    assert (checkin.decision, checkin.reason, checkin.direction) == ("denied", "quarantined", "out")


def test_a_scan_made_offline_is_queued_and_synced_when_the_network_returns(app, world, open_page, tokens_for):
    page = open_guard(open_page, tokens_for, world.guard_a)
    code = pass_code(app, tokens_for, world.resident_a)
    page.context.set_offline(True)
    page.locator("#sync[data-state='offline']").wait_for()
    page.get_by_label("手动输入通行码").fill(code)
    page.get_by_role("button", name="提交").click()
    answer = page.locator(".answer[data-reason='queued_offline']")
    answer.wait_for()
    assert page.locator(".answer-status").inner_text() == "已离线记录"
    page.locator("#sync[data-pending='1']").wait_for()
    assert page.locator("#sync").inner_text() == "离线 · 待同步 1 条"
    screenshot(page, "m-guard-offline", full_page=False)
    assert checkins_of(app, world.resident_a.id) == []
    page.get_by_role("button", name="继续(点击关闭)").click()

    page.context.set_offline(False)
    page.locator("#sync[data-state='synced'][data-pending='0']").wait_for()
    assert page.evaluate("""() => new Promise((resolve) => {
        const open = indexedDB.open('wuye-guard', 1);
        open.onsuccess = () => { const r = open.result.transaction('scans').objectStore('scans').count();
                                 r.onsuccess = () => resolve(r.result); };
    })""") == 0
    [checkin] = checkins_of(app, world.resident_a.id)
    assert (checkin.decision, checkin.direction, checkin.gate_id) == ("allowed", "in", world.gate_a.id)
    assert checkin.device_time is not None
    assert "离线补传" in page.locator("#log").inner_text()
    screenshot(page, "m-guard-synced")


def test_the_temperature_post_asks_for_a_remeasure_and_the_guard_clocks_in(app, world, open_page, tokens_for,
                                                                            as_user):
    from server.models.rosters import ClockEvent, Shift, ShiftAssignment

    assert as_user(world.resident_a).post("/api/v1/me/consent", json={}).status_code == 201
    with app.app_context():
        start = utcnow() - timedelta(minutes=5)
        shift = Shift(compound_id=world.compound_a.id, gate_id=world.gate_a.id, starts_at=start,
                      ends_at=start + timedelta(hours=8), guards_needed=1)
        db.session.add(shift)
        db.session.flush()
        db.session.add(ShiftAssignment(shift_id=shift.id, guard_id=world.guard_a.id, compound_id=shift.compound_id,
                                       gate_id=shift.gate_id, starts_at=shift.starts_at, ends_at=shift.ends_at))
        db.session.commit()
    page = open_guard(open_page, tokens_for, world.guard_a)

    page.get_by_role("button", name="上下班打卡").click()
    page.get_by_label("门岗码(扫描或输入)").fill(world.gate_a.code)
    page.get_by_role("button", name="上班打卡").click()
    page.locator(".answer[data-reason='clock_in']").wait_for()
    assert page.locator(".answer-status").inner_text() == "已上班打卡"
    assert page.locator(".answer").get_attribute("data-color") == "green"
    screenshot(page, "m-guard-clock-in", full_page=False)
    page.keyboard.press("Escape")
    with app.app_context():
        event = db.session.scalars(select(ClockEvent)).one()
        assert (event.kind, event.late, event.gate_id) == ("in", False, world.gate_a.id)

    page.get_by_role("button", name="测温岗").click()
    page.get_by_label("手动输入通行码").fill(pass_code(app, tokens_for, world.resident_a))
    page.get_by_role("button", name="提交").click()
    assert page.get_by_role("alert").inner_text() == "请先输入体温"
    page.get_by_label("体温(℃)").fill("37.6")
    page.get_by_role("button", name="提交").click()
    answer = page.locator(".answer")
    answer.wait_for()
    assert (answer.get_attribute("data-color"), answer.get_attribute("data-reason")) == ("orange", "fever_remeasure")
    assert page.locator(".answer-status").inner_text() == "请复测体温"
    screenshot(page, "m-guard-remeasure", full_page=False)
    [checkin] = checkins_of(app, world.resident_a.id)
    assert (checkin.decision, checkin.reason, str(checkin.temperature)) == ("denied", "fever_remeasure", "37.6")
