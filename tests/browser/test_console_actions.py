"""The staff console's roster actions in a real Chromium at 1366x768: a swap between two guards approved
(and one rejected), leave recorded from the roster page that auto-fill then respects, a guard lent to
another company's compound through the console; screenshots of each state."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from server.extensions import db
from server.models.alliance import Alliance
from server.models.companies import Company
from server.models.compounds import Compound
from server.models.roster_swaps import SwapRequest
from server.models.rosters import ShiftAssignment
from tests.browser.conftest import console_as, screenshot
from tests.factories import make_user

BEIJING = ZoneInfo("Asia/Shanghai")


def next_monday():
    today = datetime.now(BEIJING).date()
    return today + timedelta(days=7 - today.weekday())


def week_of_shifts(staff, gate_id: int, compound_id: int) -> tuple[str, list[dict]]:
    """Next week's shifts of a gate (two of 12 h a day), generated through the API as staff."""
    monday = next_monday().isoformat()
    made = staff.post(f"/api/v1/gates/{gate_id}/shift-templates", json={"start_time": "08:00", "preset": "2x12"})
    assert made.status_code == 201, made.json
    assert staff.post(f"/api/v1/compounds/{compound_id}/shifts/generate", json={"week": monday}).status_code == 201
    return monday, staff.get(f"/api/v1/compounds/{compound_id}/roster?week={monday}").json["shifts"]


@pytest.fixture
def second_guard(app, world):
    """Another guard of company A posted at compound A (id)."""
    with app.app_context():
        guard = make_user(db.session.get(Alliance, world.alliance.id), "guard",
                          company=db.session.get(Company, world.company_a.id),
                          compound=db.session.get(Compound, world.compound_a.id), name="赵大勇")
        db.session.commit()
        return guard


def test_a_swap_accepted_by_another_guard_is_approved_and_another_rejected(app, world, second_guard, open_page,
                                                                          tokens_for, as_user):
    staff = as_user(world.staff_a)
    monday, shifts = week_of_shifts(staff, world.gate_a.id, world.compound_a.id)
    first, second = shifts[0], shifts[2]  # Monday and Tuesday 08:00
    seats = [staff.post(f"/api/v1/shifts/{s['id']}/assignments", json={"guard_id": world.guard_a.id}).json
             for s in (first, second)]
    offered = [as_user(world.guard_a).post(f"/api/v1/shift-assignments/{seat['id']}/swap", json={"note": note})
               for seat, note in zip(seats, ("家里有事", "想调休"), strict=True)]
    assert [o.status_code for o in offered] == [201, 201], [o.json for o in offered]
    for swap in offered:
        taken = as_user(second_guard).post(f"/api/v1/swaps/{swap.json['id']}/accept")
        assert taken.status_code == 200, taken.json
    page = console_as(open_page, tokens_for(world.staff_a), f"/console/roster?week={monday}")
    approve_row = page.locator(f"#swaps li[data-id='{offered[0].json['id']}']")
    reject_row = page.locator(f"#swaps li[data-id='{offered[1].json['id']}']")
    expect(approve_row).to_contain_text("甲保安")
    expect(approve_row).to_contain_text("赵大勇")
    expect(approve_row).to_contain_text("家里有事")
    screenshot(page, "console-roster-swaps")
    approve_row.get_by_role("button", name="批准").click()
    approve_row.wait_for(state="detached")
    expect(page.locator(f"#roster-grid .shift[data-shift='{first['id']}'] .guard")).to_contain_text("赵大勇")
    reject_row.get_by_role("button", name="驳回").click()
    reject_row.wait_for(state="detached")
    expect(page.locator(f"#roster-grid .shift[data-shift='{second['id']}'] .guard")).to_contain_text("甲保安")
    screenshot(page, "console-roster-swapped")
    with app.app_context():
        swaps = {s.id: s for s in db.session.scalars(select(SwapRequest))}
        approved, rejected = swaps[offered[0].json["id"]], swaps[offered[1].json["id"]]
        assert (approved.status, approved.decided_by_id, approved.assignment_id) == ("approved", world.staff_a.id, None)
        assert (rejected.status, rejected.decided_by_id) == ("rejected", world.staff_a.id)
        held = {a.shift_id: (a.guard_id, a.source) for a in db.session.scalars(select(ShiftAssignment))}
        assert held == {first["id"]: (second_guard.id, "swap"), second["id"]: (world.guard_a.id, "manual")}


def test_leave_recorded_on_the_roster_page_keeps_auto_fill_off_those_days(app, world, second_guard, open_page,
                                                                         tokens_for, as_user):
    staff = as_user(world.staff_a)
    monday, shifts = week_of_shifts(staff, world.gate_a.id, world.compound_a.id)
    wednesday, friday = (next_monday() + timedelta(days=n) for n in (2, 4))
    page = console_as(open_page, tokens_for(world.staff_a), f"/console/roster?week={monday}")
    form = page.locator("#leave-form")
    form.get_by_label("保安").select_option(str(world.guard_a.id))
    expect(page.locator("#leaves")).to_contain_text("暂无请假")
    form.get_by_label("开始").fill(f"{wednesday.isoformat()}T00:00")
    form.get_by_label("结束").fill(f"{friday.isoformat()}T00:00")  # Wednesday and Thursday, Beijing time
    form.get_by_label("备注").fill("回老家")
    form.get_by_role("button", name="登记").click()
    page.get_by_text("已登记请假").wait_for()
    expect(page.locator("#leaves li")).to_have_count(1)
    expect(page.locator("#leaves li")).to_contain_text("回老家")
    leaves = staff.get(f"/api/v1/guards/{world.guard_a.id}/leaves").json["items"]
    assert [(leave["starts_at"], leave["ends_at"], leave["note"]) for leave in leaves] == [
        (f"{(wednesday - timedelta(days=1)).isoformat()}T16:00:00+00:00",
         f"{(friday - timedelta(days=1)).isoformat()}T16:00:00+00:00", "回老家")]
    page.get_by_role("button", name="自动排班").click()
    page.get_by_text("已排").wait_for()
    page.locator("#roster-grid .shift .guard").first.wait_for()
    screenshot(page, "console-roster-leave")
    grid = staff.get(f"/api/v1/compounds/{world.compound_a.id}/roster?week={monday}").json
    by_day = {}
    for shift in grid["shifts"]:
        day = datetime.fromisoformat(shift["starts_at"]).astimezone(BEIJING).date()
        by_day.setdefault(day, set()).update(seat["guard_id"] for seat in shift["guards"])
    assert world.guard_a.id not in by_day[wednesday] | by_day[wednesday + timedelta(days=1)]
    assert world.guard_a.id in set().union(*by_day.values())  # auto-fill did use them on other days
    for column in (3, 4):  # Wednesday and Thursday in the grid as the staff member sees it
        seated = page.locator("#roster-grid tbody tr").first.locator("td").nth(column - 1).locator(".guard")
        assert "甲保安" not in " ".join(seated.all_inner_texts())
    # Withdrawn from the page: the guard is free those days again.
    page.locator("#leaves li").get_by_role("button", name="撤销").click()
    expect(page.locator("#leaves")).to_contain_text("暂无请假")
    assert staff.get(f"/api/v1/guards/{world.guard_a.id}/leaves").json["items"] == []


def test_a_guard_lent_to_another_companys_compound_through_the_console(app, world, open_page, tokens_for, as_user):
    monday, shifts = week_of_shifts(as_user(world.staff_a), world.gate_a.id, world.compound_a.id)
    wanted = shifts[0]  # Monday 08:00 at 甲小区, nobody on it
    borrower = console_as(open_page, tokens_for(world.staff_a), f"/console/roster?week={monday}")
    box = borrower.locator(f"#roster-grid .shift[data-shift='{wanted['id']}']")
    box.get_by_role("button", name="向联盟借人").click()
    post = borrower.locator("#loans li.loan")
    expect(post).to_contain_text("等待其他物业支援")
    # Company B's staff see the post on their own roster page and offer their guard.
    lender = console_as(open_page, tokens_for(world.staff_b), f"/console/roster?week={monday}")
    offer_row = lender.locator("#loans li.loan", has_text="甲小区")
    offer_row.get_by_label("保安").select_option(str(world.guard_b.id))
    offer_row.get_by_role("button", name="派出支援").click()
    lender.get_by_text("已派出,等待对方确认").wait_for()
    expect(lender.locator("#loans li.loan ul.offers")).to_contain_text("乙保安")  # their own guard, unmasked
    screenshot(lender, "console-roster-lending-offered")
    # The borrowing side sees the offer with the guard's name masked, and accepts it.
    borrower.reload()
    offer = borrower.locator("#loans ul.offers li")
    expect(offer).to_contain_text("乙**")
    assert "乙保安" not in offer.inner_text()
    screenshot(borrower, "console-roster-lending-offer")
    offer.get_by_role("button", name="接受").click()
    seat = borrower.locator(f"#roster-grid .shift[data-shift='{wanted['id']}'] .guard")
    expect(seat).to_contain_text("乙保安")
    expect(seat.locator(".lent")).to_have_text("借调")
    expect(borrower.locator("#loans li.loan")).to_contain_text("已借到")
    screenshot(borrower, "console-roster-lent")
    with app.app_context():
        held = db.session.scalars(select(ShiftAssignment).where(ShiftAssignment.shift_id == wanted["id"])).all()
        assert [(a.guard_id, a.compound_id, a.source) for a in held] == [(world.guard_b.id, world.compound_a.id, "loan")]
    mine = as_user(world.guard_b).get("/api/v1/rosters/mine").json["items"]
    assert [(s["shift_id"], s["compound_name"], s["lent"]) for s in mine] == [(wanted["id"], "甲小区", True)]
    lender.reload()
    expect(lender.locator("#loans li.loan ul.offers")).to_contain_text("已接受")
