"""The staff console in a real Chromium at 1366x768: the delivery queue updates without a reload and
runs a request to delivered, auto-fill fills the roster grid, an incident raised in one company's
console shows its dispatch clock and another company's pledge appears, the gate board draws its chart;
a screenshot of every console page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from server.extensions import db
from server.models.alliance import Alliance
from server.models.checkins import CheckIn
from server.models.compounds import Compound, Household
from server.models.health import QuarantineOrder
from server.models.people import User
from server.plumbing.alerts import raise_alert
from tests.browser.conftest import console_as, screenshot, wait_until
from tests.factories import make_user

BEIJING = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def quarantined(app, world):
    """resident_a's household in home quarantine (so it may ask for deliveries)."""
    with app.app_context():
        now = datetime.now(UTC)
        db.session.add(QuarantineOrder(compound_id=world.compound_a.id, household_id=world.household_a.id,
                                       reason="returned_from_city", starts_at=now - timedelta(days=1),
                                       ends_at=now + timedelta(days=13)))
        db.session.commit()
    return world


def test_a_delivery_appears_without_reload_and_runs_to_delivered(quarantined, open_page, tokens_for, as_user):
    world = quarantined
    page = console_as(open_page, tokens_for(world.staff_a), "/console/deliveries")
    page.get_by_text("队列中没有待处理的送菜请求").wait_for()
    page.evaluate("window.__sameDocument = true")
    asked = as_user(world.resident_a).post("/api/v1/deliveries", json={
        "client_id": "web-1", "items": [{"name": "白菜", "quantity": 2, "unit": "斤"}, {"name": "鸡蛋", "quantity": 10, "unit": "个"}],
        "drop_point": "door", "contactless": True, "urgency": ["elderly"]})
    assert asked.status_code == 201, asked.json
    number = asked.json["number"]
    card = page.locator(f"article.delivery[data-id='{asked.json['id']}']")
    card.wait_for()
    assert number in card.inner_text() and "老人" in card.inner_text()
    screenshot(page, "console-deliveries")
    for button, status in [("认领", "已认领"), ("开始采购", "采购中")]:
        card.get_by_role("button", name=button).click()
        page.locator(f"article.delivery[data-id='{asked.json['id']}'] .status", has_text=status).wait_for()
    # The shop had no eggs: substitute duck eggs.
    card.get_by_label("鸡蛋", exact=True).select_option("substituted")
    card.get_by_label("鸡蛋 替代品").fill("鸭蛋")
    card.get_by_role("button", name="保存商品情况").click()
    page.get_by_text("已保存").wait_for()
    for button, status in [("出发配送", "配送中")]:
        card.get_by_role("button", name=button).click()
        page.locator(f"article.delivery[data-id='{asked.json['id']}'] .status", has_text=status).wait_for()
    card.get_by_role("button", name="已送达").click()
    card.wait_for(state="detached")
    page.locator("#done tr", has_text=number).wait_for()
    assert page.evaluate("window.__sameDocument") is True  # never reloaded
    detail = as_user(world.staff_a).get(f"/api/v1/deliveries/{asked.json['id']}").json
    assert detail["status"] == "delivered"
    assert {i["name"]: (i["outcome"], i["substitute"]) for i in detail["items"]}["鸡蛋"] == ("substituted", "鸭蛋")
    screenshot(page, "console-deliveries-done")


def test_staff_reject_a_delivery_with_a_reason(quarantined, open_page, tokens_for, as_user):
    world = quarantined
    asked = as_user(world.resident_a).post("/api/v1/deliveries", json={
        "client_id": "web-2", "items": [{"name": "牛奶", "quantity": 1, "unit": "箱"}]})
    assert asked.status_code == 201, asked.json
    page = console_as(open_page, tokens_for(world.staff_a), "/console/deliveries")
    card = page.locator(f"article.delivery[data-id='{asked.json['id']}']")
    card.get_by_role("button", name="拒绝").click()  # no reason yet: nothing is sent
    assert card.get_by_label("拒绝原因").evaluate("e => e === document.activeElement")
    card.get_by_label("拒绝原因").fill("超市停业,明天再送")
    card.get_by_role("button", name="拒绝").click()
    card.wait_for(state="detached")
    detail = as_user(world.staff_a).get(f"/api/v1/deliveries/{asked.json['id']}").json
    assert detail["status"] == "rejected" and "超市停业" in detail["close_reason"]


def test_roster_auto_fill_from_the_console_fills_the_grid(world, open_page, tokens_for, as_user):
    staff = as_user(world.staff_a)
    made = staff.post(f"/api/v1/gates/{world.gate_a.id}/shift-templates",
                      json={"start_time": "08:00", "preset": "2x12", "guards_needed": 1})
    assert made.status_code == 201, made.json
    next_monday = datetime.now(BEIJING).date() + timedelta(days=7 - datetime.now(BEIJING).weekday())
    page = console_as(open_page, tokens_for(world.staff_a), f"/console/roster?week={next_monday.isoformat()}")
    page.locator("#roster-grid").wait_for()
    assert page.locator("#roster-grid .shift").count() == 0
    page.get_by_role("button", name="按模板生成班次").click()
    page.locator("#roster-grid .shift.gap").first.wait_for()
    gaps_before = page.locator("#roster-grid .shift.gap").count()
    assert gaps_before == 14
    page.get_by_role("button", name="自动排班").click()
    page.locator("#roster-grid .shift .guard").first.wait_for()
    grid = staff.get(f"/api/v1/compounds/{world.compound_a.id}/roster?week={next_monday.isoformat()}").json
    seated = sum(len(s["guards"]) for s in grid["shifts"])
    assert seated > 0
    assert page.locator("#roster-grid .shift .guard").count() == seated
    assert page.locator("#roster-grid .shift.gap").count() == gaps_before - seated
    assert world.guard_a.display_name in page.locator("#roster-grid").inner_text()
    screenshot(page, "console-roster")


def test_incident_clock_and_a_pledge_from_another_company(world, open_page, tokens_for, as_user):
    raiser = console_as(open_page, tokens_for(world.staff_a), "/console/incidents")
    form = raiser.locator("#raise-form")
    form.get_by_label("地点").fill("3号楼地下车库")
    form.get_by_label("类型").select_option("flood")
    form.locator("textarea").fill("水泵 2\n人员 4")  # typed in Chinese, sent as codes
    form.get_by_role("button", name="发起").click()
    raiser.locator("#incident").wait_for()
    clock = raiser.locator("#dispatch-clock")
    first = clock.inner_text()
    assert first.count(":") >= 1
    wait_until(raiser, "t => document.querySelector('#dispatch-clock').textContent !== t", first, timeout=5)
    helper = console_as(open_page, tokens_for(world.staff_b), "/console/incidents")
    helper.locator("#pledge-form").wait_for()
    helper.get_by_label("水泵", exact=True).fill("1")
    helper.get_by_label("备注").fill("一台大功率水泵")
    helper.get_by_role("button", name="提交承诺").click()
    helper.locator("#pledges li.pledge").wait_for()
    screenshot(helper, "console-incident-helper")
    pledge = raiser.locator("#pledges li.pledge", has_text="乙物业")
    pledge.wait_for(timeout=8000)
    assert "水泵×1" in pledge.inner_text() and "pump" not in pledge.inner_text()
    expect(raiser.locator("#needs tbody tr", has_text="水泵").locator("td").nth(2)).to_have_text("1")
    expect(raiser.locator("#needs tbody tr", has_text="人员").locator("td").nth(1)).to_have_text("4")
    incident = as_user(world.staff_a).get(f"/api/v1/incidents/{raiser.locator('#incident').get_attribute('data-id')}").json
    assert [(n["item"], n["requested"]) for n in incident["needs"]] == [("pump", 2), ("people", 4)]
    screenshot(raiser, "console-incidents")


def test_home_and_gate_board(app, world, open_page, tokens_for):
    now = datetime.now(UTC)
    since_midnight = now.astimezone(BEIJING) - now.astimezone(BEIJING).replace(hour=0, minute=0, second=0,
                                                                              microsecond=0)
    with app.app_context():
        for i in range(6):
            back = min(timedelta(minutes=50 * i), since_midnight - timedelta(seconds=1))
            db.session.add(CheckIn(compound_id=world.compound_a.id, gate_id=world.gate_a.id, direction="in",
                                   method="manual", decision="allowed" if i else "denied", reason="ok",
                                   author_id=world.guard_a.id, guard_id=world.guard_a.id, client_id=f"b{i}",
                                   fingerprint=f"f{i}", lawful_basis="necessary_for_entry",
                                   occurred_at=now - back, person_name="访客"))
        raise_alert(world.compound_a.id, "fever", subject_user_id=world.resident_a.id, detail={"temperature": 38.2})
        db.session.commit()
    page = console_as(open_page, tokens_for(world.staff_a), "/console/")
    page.locator("#home-links a").first.wait_for()
    page.get_by_role("button", name="获取绑定码").click()
    page.locator("#bind-code").wait_for()
    assert len(page.locator("#bind-code").inner_text().strip()) >= 4
    screenshot(page, "console-home-bind")
    page.get_by_role("link", name="门岗看板").first.click()
    page.locator("#hourly-chart canvas").wait_for()
    page.get_by_text("今日出入 6 人次,其中拒绝 1").wait_for()
    assert "正门" in page.locator("#duty").inner_text()
    page.locator("#alerts li", has_text="体温异常").wait_for()
    screenshot(page, "console-board")
    page.locator("#alerts li").get_by_role("button", name="确认处理").click()
    page.locator("#alerts li").wait_for(state="detached")
    expect(page.locator("#alerts")).to_contain_text("待处理告警 (0)")
    page.get_by_role("button", name="English").click()
    page.get_by_text("6 check-ins today, 1 refused").wait_for()
    screenshot(page, "console-board-en")


def test_quarantine_place_extend_lift(app, world, open_page, tokens_for, as_user):
    with app.app_context():  # the lawful basis for an order without the resident's consent
        db.session.get(Compound, world.compound_a.id).health_emergency = True
        db.session.commit()
    page = console_as(open_page, tokens_for(world.staff_a), "/console/quarantine")
    form = page.locator("#place-form")
    form.get_by_label("来自城市").fill("武汉")
    form.get_by_role("button", name="登记").click()
    row = page.locator("#orders tbody tr").first
    row.wait_for()
    assert "武汉" in row.inner_text() and "隔离中" in row.inner_text()
    orders = as_user(world.staff_a).get(f"/api/v1/compounds/{world.compound_a.id}/quarantine-orders?status=active").json
    first_end = orders["items"][0]["ends_at"]
    row.get_by_role("button", name="延长 7 天").click()
    page.get_by_text("已延长").wait_for()
    extended = as_user(world.staff_a).get(f"/api/v1/quarantine-orders/{orders['items'][0]['id']}").json
    assert extended["ends_at"] > first_end and len(extended["extensions"]) == 1
    screenshot(page, "console-quarantine")
    page.locator("#orders tbody tr").first.get_by_label("解除原因").fill("核酸阴性")
    page.locator("#orders tbody tr").first.get_by_role("button", name="解除").click()
    page.locator("#orders").wait_for(state="detached")
    assert as_user(world.staff_a).get(f"/api/v1/quarantine-orders/{orders['items'][0]['id']}").json["status"] == "lifted"


def test_print_page_downloads_the_gate_posters(world, open_page, tokens_for):
    page = console_as(open_page, tokens_for(world.staff_a), "/console/print")
    page.locator("#posters").wait_for()
    screenshot(page, "console-print")
    with page.expect_download() as info:
        page.locator("#posters").click()
    path = info.value.path()
    assert info.value.suggested_filename == f"posters-{world.compound_a.id}.pdf"
    with open(path, "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"


def test_households_approve_a_resident_and_issue_an_invite(app, world, open_page, tokens_for):
    with app.app_context():
        pending = make_user(db.session.get(Alliance, world.alliance.id), "resident", name="李四",
                            household=db.session.get(Household, world.household_a.id), residency="pending")
        db.session.commit()
        pending_id = pending.id
    page = console_as(open_page, tokens_for(world.staff_a), "/console/households")
    row = page.locator(f"#pending tr[data-id='{pending_id}']")
    row.wait_for()
    screenshot(page, "console-households")
    row.get_by_role("button", name="通过").click()
    page.locator(f"#residents tr[data-id='{pending_id}']", has_text="已通过").wait_for()
    page.locator("#household-list li").first.get_by_role("button", name="生成邀请码").click()
    page.locator("#household-list li", has_text="邀请码").first.wait_for()
    with app.app_context():
        assert db.session.get(User, pending_id).residency == "approved"


def test_supplies_receipt_and_use_show_in_the_ledger(world, open_page, tokens_for, as_user):
    items = as_user(world.staff_a).get("/api/v1/supplies/items").json
    assert "masks" in {i["code"] for i in items}  # the alliance's standard catalogue
    page = console_as(open_page, tokens_for(world.staff_a), "/console/supplies")
    form = page.locator("#record-form")
    form.get_by_label("物资").select_option("masks")
    form.get_by_label("数量").fill("100")
    form.get_by_label("来源 / 备注").fill("街道办")
    form.get_by_role("button", name="登记").click()
    page.get_by_text("已登记,结余 100").wait_for()
    form = page.locator("#record-form")
    form.get_by_label("类型").select_option("uses")
    form.get_by_label("物资").select_option("masks")
    form.get_by_label("数量").fill("30")
    form.get_by_role("button", name="登记").click()
    page.get_by_text("已登记,结余 70").wait_for()
    page.locator("#ledger tbody tr").nth(1).wait_for()
    expect(page.locator("#stock")).to_contain_text("70")
    screenshot(page, "console-supplies")


def test_alliance_admin_hands_a_compound_without_a_company_to_a_member(world, open_page, tokens_for, as_user):
    page = console_as(open_page, tokens_for(world.admin), "/console/alliance")
    row = page.locator(f"#orphans tr[data-id='{world.compound_orphan.id}']")
    row.wait_for()
    assert "联盟直管" in row.inner_text()
    row.get_by_role("combobox").select_option(str(world.company_a.id))
    row.get_by_role("button", name="交由托管").click()
    page.locator(f"#orphans tr[data-id='{world.compound_orphan.id}'] .runby", has_text="甲物业").wait_for()
    history = as_user(world.admin).get(f"/api/v1/alliance/compounds/{world.compound_orphan.id}/caretaking").json
    assert [(h["company_id"], h["active"]) for h in history["items"]] == [(world.company_a.id, True)]
    screenshot(page, "console-alliance")
