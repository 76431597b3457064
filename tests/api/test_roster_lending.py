"""Lending across the alliance: the admin posts an old compound's shift, another company offers a guard,
the lent guard's access begins and ends with the shift, and the hours count against their week."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from server.extensions import db
from server.models.roster_lending import LoanOffer, LoanRequest
from server.models.rosters import Shift, ShiftAssignment
from server.services.gate.offline_bounds import UPLOAD_WINDOW
from server.services.roster.rosters import SHIFT_SCANS_UPLOAD_WITHIN
from tests.concurrency import run_together
from tests.factories import make_gate, make_household

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)  # Sunday 20:00 in Shanghai
MONDAY = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)
START, END = MONDAY + timedelta(hours=8), MONDAY + timedelta(hours=20)  # Monday 08:00-20:00 local


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def orphan_shift(app, world):
    """The old compound (no company) with a gate and one uncovered 12 h shift."""
    with app.app_context():
        gate = make_gate(db.session.merge(world.compound_orphan), "正门")
        shift = Shift(compound_id=gate.compound_id, gate_id=gate.id, starts_at=START, ends_at=END)
        db.session.add(shift)
        db.session.commit()
        return {"shift": shift.id, "gate": gate.id, "code": gate.code}


def post_and_offer(world, as_user, orphan_shift):
    admin = as_user(world.admin)
    loan = admin.post(f"/api/v1/shifts/{orphan_shift['shift']}/loan", json={"note": "老旧小区缺保安"})
    assert loan.status_code == 201, loan.json
    offer = as_user(world.staff_b).post(f"/api/v1/loans/{loan.json['id']}/offers", json={"guard_id": world.guard_b.id})
    assert offer.status_code == 201, offer.json
    return loan.json["id"], offer.json["id"]


def test_lent_guard_joins_the_roster_and_acts_there_only_during_the_shift(app, world, as_user, orphan_shift, frozen):
    loan_id, offer_id = post_and_offer(world, as_user, orphan_shift)
    listed = as_user(world.staff_b).get("/api/v1/loans?status=open").json["items"]
    assert [(i["id"], i["compound_name"], i["open_seats"]) for i in listed] == [(loan_id, "老旧小区", 1)]
    assert "offers" not in listed[0]
    assert as_user(world.staff_b).get("/api/v1/loans?status=filled").json["total"] == 0
    accepted = as_user(world.admin).post(f"/api/v1/loan-offers/{offer_id}/accept")
    assert accepted.status_code == 201 and accepted.json["source"] == "loan"
    detail = as_user(world.admin).get(f"/api/v1/loans/{loan_id}").json
    assert detail["status"] == "filled" and [o["status"] for o in detail["offers"]] == ["accepted"]

    grid = as_user(world.admin).get(f"/api/v1/compounds/{world.compound_orphan.id}/roster?week=2026-03-02").json
    assert [(g["guard_id"], g["lent"]) for g in grid["shifts"][0]["guards"]] == [(world.guard_b.id, True)]
    mine = as_user(world.guard_b).get("/api/v1/rosters/mine").json["items"]
    assert [(m["compound_name"], m["lent"]) for m in mine] == [("老旧小区", True)]

    compound_url = f"/api/v1/compounds/{world.compound_orphan.id}"
    board_url = f"/api/v1/gates/{orphan_shift['gate']}/on-duty"
    for moment, expected in ((START - timedelta(seconds=1), 404), (START, 200), (END - timedelta(seconds=1), 200),
                             (END, 404)):
        frozen.move_to(moment)
        guard = as_user(world.guard_b)
        assert guard.get(compound_url).status_code == expected, moment
        assert guard.get(board_url).status_code == expected, moment
        assert guard.get(f"/api/v1/compounds/{world.compound_b.id}").status_code == 200  # home post throughout
    # Gate-level checks: on duty at the borrowing gate only, and only during the shift.
    from server.models.people import User
    from server.services.roster.rosters import on_duty_at_gate

    with app.app_context():
        guard = db.session.get(User, world.guard_b.id)
        assert on_duty_at_gate(guard, orphan_shift["gate"], START) and not on_duty_at_gate(guard, world.gate_b.id, START)
        assert not on_duty_at_gate(guard, orphan_shift["gate"], END)
    # During the shift the lent guard clocks in at the borrowing compound's gate.
    frozen.move_to(START + timedelta(minutes=5))
    r = as_user(world.guard_b).post("/api/v1/rosters/clock-in", json={"code": orphan_shift["code"]})
    assert r.status_code == 201 and r.json["late"] is False


def test_lent_hours_count_against_the_weekly_limit(app, world, as_user, orphan_shift):
    with app.app_context():
        # guard_b already works 40 h at home this week (Tuesday to Saturday, 08-16).
        for d in range(1, 6):
            s = Shift(compound_id=world.compound_b.id, gate_id=world.gate_b.id,
                      starts_at=MONDAY + timedelta(days=d, hours=8), ends_at=MONDAY + timedelta(days=d, hours=16))
            db.session.add(s)
            db.session.flush()
            db.session.add(ShiftAssignment(shift_id=s.id, guard_id=world.guard_b.id, compound_id=s.compound_id,
                                           gate_id=s.gate_id, starts_at=s.starts_at, ends_at=s.ends_at))
        db.session.commit()
    loan = as_user(world.admin).post(f"/api/v1/shifts/{orphan_shift['shift']}/loan", json={}).json
    r = as_user(world.staff_b).post(f"/api/v1/loans/{loan['id']}/offers", json={"guard_id": world.guard_b.id})
    assert (r.status_code, r.json["rule"]) == (409, "roster_week_hours")
    assert r.json["violations"][0]["hours"] == 52


def test_hours_lent_out_are_checked_again_at_acceptance_and_block_home_work(app, world, as_user, orphan_shift):
    loan_id, offer_id = post_and_offer(world, as_user, orphan_shift)
    # Before acceptance, company B rosters guard_b at home Monday 12-20: overlapping the lent shift.
    with app.app_context():
        home = Shift(compound_id=world.compound_b.id, gate_id=world.gate_b.id, starts_at=START + timedelta(hours=4),
                     ends_at=END)
        db.session.add(home)
        db.session.commit()
        home_id = home.id
    assert as_user(world.staff_b).post(f"/api/v1/shifts/{home_id}/assignments",
                                       json={"guard_id": world.guard_b.id}).status_code == 201
    r = as_user(world.admin).post(f"/api/v1/loan-offers/{offer_id}/accept")
    assert (r.status_code, r.json["rule"]) == (409, "roster_overlap")
    # Once taken off at home and lent, the home shift cannot have them back.
    with app.app_context():
        a = db.session.scalar(select(ShiftAssignment).where(ShiftAssignment.shift_id == home_id))
        db.session.delete(a)
        db.session.commit()
    assert as_user(world.admin).post(f"/api/v1/loan-offers/{offer_id}/accept").status_code == 201
    again = as_user(world.staff_b).post(f"/api/v1/shifts/{home_id}/assignments", json={"guard_id": world.guard_b.id})
    assert (again.status_code, again.json["rule"], again.json["shift_ids"][1]) == (409, "roster_overlap",
                                                                                   orphan_shift["shift"])


def test_who_may_post_offer_and_accept(app, world, as_user, orphan_shift):
    with app.app_context():
        own = Shift(compound_id=world.compound_a.id, gate_id=world.gate_a.id, starts_at=START, ends_at=END)
        db.session.add(own)
        db.session.commit()
        own_id = own.id
    # Staff may post their own compound's shift, not the old compound's; the admin the other way round.
    assert as_user(world.staff_a).post(f"/api/v1/shifts/{orphan_shift['shift']}/loan", json={}).status_code == 404
    assert as_user(world.admin).post(f"/api/v1/shifts/{own_id}/loan", json={}).status_code == 404
    loan = as_user(world.staff_a).post(f"/api/v1/shifts/{own_id}/loan", json={}).json
    dup = as_user(world.staff_a).post(f"/api/v1/shifts/{own_id}/loan", json={})
    assert (dup.status_code, dup.json["reason"]) == (409, "duplicate")
    own_company = as_user(world.staff_a).post(f"/api/v1/loans/{loan['id']}/offers", json={"guard_id": world.guard_a.id})
    assert (own_company.status_code, own_company.json["reason"]) == (422, "loan_own_company")
    not_theirs = as_user(world.staff_b).post(f"/api/v1/loans/{loan['id']}/offers", json={"guard_id": world.guard_a.id})
    assert (not_theirs.status_code, not_theirs.json["reason"]) == (422, "guard_not_eligible")
    offer = as_user(world.staff_b).post(f"/api/v1/loans/{loan['id']}/offers", json={"guard_id": world.guard_b.id}).json
    # Company B sees its own offer but cannot accept it; company A accepts or declines.
    assert [o["id"] for o in as_user(world.staff_b).get(f"/api/v1/loans/{loan['id']}").json["offers"]] == [offer["id"]]
    assert as_user(world.staff_b).post(f"/api/v1/loan-offers/{offer['id']}/accept").status_code == 404
    assert as_user(world.staff_a).post(f"/api/v1/loan-offers/{offer['id']}/decline").json["status"] == "declined"
    gone = as_user(world.staff_a).post(f"/api/v1/loan-offers/{offer['id']}/accept")
    assert (gone.status_code, gone.json["reason"]) == (409, "offer_not_open")
    assert as_user(world.staff_a).post(f"/api/v1/loans/{loan['id']}/cancel").json["status"] == "cancelled"
    closed = as_user(world.staff_b).post(f"/api/v1/loans/{loan['id']}/offers", json={"guard_id": world.guard_b.id})
    assert (closed.status_code, closed.json["reason"]) == (409, "loan_not_open")


def test_demo_roster_has_zhang_lent_to_the_old_compound(app):
    from datetime import date

    from server.demo.load import load_demo
    from server.services.roster.roster_views import week_grid

    with app.app_context():
        org = load_demo()
        next_week = week_grid(org.compounds["黄平路8号院"], date(2026, 3, 2))
        seats = [(g["guard_name"], g["lent"]) for s in next_week["shifts"] for g in s["guards"]]
        assert len(next_week["shifts"]) == 7 and seats.count(("张本轩", True)) == 4
        assert all(lent for _, lent in seats) and len(seats) == 7
        wanlong = week_grid(org.compounds["万龙小区"], date(2026, 3, 2))
        closed = org.gates["万龙小区/北门"].id
        assert len(wanlong["shifts"]) == 21 and all(s["gate_id"] != closed for s in wanlong["shifts"])
        assert all(s["open_seats"] == 0 for s in wanlong["shifts"])
        db.session.rollback()


def test_withdraw_and_accept_at_once_only_one_applies(app, world, as_user, orphan_shift):
    loan_id, offer_id = post_and_offer(world, as_user, orphan_shift)
    admin, lender = as_user(world.admin), as_user(world.staff_b)
    accept, withdraw = run_together([lambda: admin.post(f"/api/v1/loan-offers/{offer_id}/accept"),
                                  lambda: lender.post(f"/api/v1/loan-offers/{offer_id}/withdraw")])
    assert sorted([accept.status_code, withdraw.status_code]) in ([201, 409], [200, 409]), (accept.json, withdraw.json)
    with app.app_context():
        offer = db.session.get(LoanOffer, offer_id)
        seated = db.session.scalars(select(ShiftAssignment.guard_id).where(
            ShiftAssignment.shift_id == orphan_shift["shift"])).all()
        loan = db.session.get(LoanRequest, loan_id)
    if accept.status_code == 201:
        assert (withdraw.json["reason"], withdraw.json["status"]) == ("offer_not_open", "accepted")
        assert offer.status == "accepted" and seated == [world.guard_b.id] and loan.status == "filled"
    else:
        assert (accept.json["reason"], accept.json["status"]) == ("offer_not_open", "withdrawn")
        assert offer.status == "withdrawn" and seated == [] and loan.status == "open"


def test_removing_a_lent_guard_reopens_the_loan(app, world, as_user, orphan_shift):
    loan_id, offer_id = post_and_offer(world, as_user, orphan_shift)
    assignment = as_user(world.admin).post(f"/api/v1/loan-offers/{offer_id}/accept").json["id"]
    assert as_user(world.admin).get(f"/api/v1/loans/{loan_id}").json["status"] == "filled"
    assert as_user(world.admin).delete(f"/api/v1/shift-assignments/{assignment}").status_code == 204
    detail = as_user(world.admin).get(f"/api/v1/loans/{loan_id}").json
    assert detail["status"] == "open" and detail["open_seats"] == 1
    assert [o["status"] for o in detail["offers"]] == ["withdrawn"]


def test_lent_guard_acts_at_the_lent_gate_only_during_the_shift(app, world, as_user, orphan_shift, frozen):
    _loan_id, offer_id = post_and_offer(world, as_user, orphan_shift)
    assert as_user(world.admin).post(f"/api/v1/loan-offers/{offer_id}/accept").status_code == 201
    with app.app_context():
        side_gate = make_gate(db.session.merge(world.compound_orphan), "侧门").id
        db.session.commit()

    def scan(gate_id, n):
        # An unreadable pass is still recorded (pass_invalid) where the guard may act; elsewhere 404.
        return as_user(world.guard_b).post("/api/v1/checkins", json={
            "pass_code": "WY1.NOTAPASS", "gate_id": gate_id, "direction": "in", "client_id": f"lent-{n}"})

    frozen.move_to(START + timedelta(hours=1))
    during = scan(orphan_shift["gate"], 1)
    assert during.status_code == 201 and during.json["reason"] == "pass_invalid"
    assert scan(side_gate, 2).status_code == 404  # same compound, not the lent gate
    assert scan(world.gate_b.id, 3).status_code == 201  # the home post, always
    frozen.move_to(END)
    assert scan(orphan_shift["gate"], 4).status_code == 404


def test_a_lent_guard_uploads_the_shifts_offline_scans_after_it_ended(app, world, as_user, orphan_shift, frozen):
    _loan_id, offer_id = post_and_offer(world, as_user, orphan_shift)
    assert as_user(world.admin).post(f"/api/v1/loan-offers/{offer_id}/accept").status_code == 201
    with app.app_context():
        household = make_household(db.session.merge(world.compound_orphan)).id
        db.session.commit()

    def queued(n, at, gate_id=orphan_shift["gate"]):
        return {"kind": "manual", "gate_id": gate_id, "household_id": household, "direction": "out",
                "person_name": "刘奶奶", "reason": "无手机", "client_id": f"queued-{n}", "device_time": at.isoformat()}

    # The network was down for the last hours of the shift; the device uploads once it is back, after it.
    frozen.move_to(END + timedelta(hours=1))
    items = [queued(1, END - timedelta(hours=2)), queued(2, END - timedelta(minutes=1)),
             queued(3, END + timedelta(minutes=30)),  # after the shift: not the guard's gate any more
             queued(4, START - timedelta(minutes=10))]  # before it began
    results = as_user(world.guard_b).post("/api/v1/checkins/batch", json={"items": items}).json["results"]
    assert [r["status"] for r in results] == [201, 201, 404, 409]
    assert [r["checkin"]["reason"] for r in results[:2]] == ["ok", "ok"]
    # A scan made before the shift began: its shift had not started (and says when it starts).
    assert results[3]["error"]["reason"] == "shift_not_started"
    # Online, the same guard no longer acts there.
    online = as_user(world.guard_b).post("/api/v1/checkins/manual", json={
        k: v for k, v in queued(5, END).items() if k not in ("kind", "device_time")})
    assert online.status_code == 404
    # A day after the shift, its device time no longer opens the gate's records to the guard.
    # Within the offline upload window after the shift its scans are taken (marked offline); after it,
    # not any more (the device time is the guard's word: finding 7 of issue #17).
    frozen.move_to(END + UPLOAD_WINDOW - timedelta(minutes=1))
    late = as_user(world.guard_b).post("/api/v1/checkins/batch", json={"items": [
        queued(6, END - timedelta(minutes=5))]}).json["results"]
    assert [(r["status"], r["checkin"]["offline"]) for r in late] == [(201, True)]
    frozen.move_to(END + UPLOAD_WINDOW + timedelta(minutes=1))
    too_late = as_user(world.guard_b).post("/api/v1/checkins/batch", json={"items": [
        queued(7, END - timedelta(minutes=5))]}).json["results"]
    assert [(r["status"], r["error"]["reason"]) for r in too_late] == [(422, "offline_upload_late")]
    # A day after the shift, its device time no longer opens the gate's records to the guard at all.
    frozen.move_to(END + SHIFT_SCANS_UPLOAD_WITHIN + timedelta(minutes=1))
    assert as_user(world.guard_b).get(f"/api/v1/gates/{orphan_shift['gate']}/checkins").status_code == 404


def test_a_lent_guard_scanning_before_the_shift_is_told_when_it_starts(app, world, as_user, orphan_shift, frozen):
    _loan_id, offer_id = post_and_offer(world, as_user, orphan_shift)
    assert as_user(world.admin).post(f"/api/v1/loan-offers/{offer_id}/accept").status_code == 201
    with app.app_context():
        household = make_household(db.session.merge(world.compound_orphan)).id
        db.session.commit()
    body = {"gate_id": orphan_shift["gate"], "household_id": household, "direction": "in",
            "person_name": "刘奶奶", "reason": "无手机"}
    frozen.move_to(START - timedelta(minutes=20))
    early = as_user(world.guard_b).post("/api/v1/checkins/manual", json={**body, "client_id": "early"})
    assert early.status_code == 409 and early.json["reason"] == "shift_not_started"
    assert datetime.fromisoformat(early.json["starts_at"]) == START
    assert early.json["message"] == "您在此门的班次尚未开始"
    frozen.move_to(START + timedelta(minutes=1))
    assert as_user(world.guard_b).post("/api/v1/checkins/manual",
                                       json={**body, "client_id": "on-time"}).status_code == 201
    # Another company's guard with no shift there still finds nothing.
    assert as_user(world.guard_a).post("/api/v1/checkins/manual",
                                       json={**body, "client_id": "x"}).status_code == 404


def test_loan_offers_show_the_guards_masked_name(app, world, as_user, orphan_shift):
    loan_id, _offer_id = post_and_offer(world, as_user, orphan_shift)
    offers = as_user(world.admin).get(f"/api/v1/loans/{loan_id}").json["offers"]
    assert [o["guard_name"] for o in offers] == ["乙**"]  # 乙保安


def test_the_lending_company_sees_its_own_guard_by_name(app, world, as_user, orphan_shift):
    """The console showed the lender their own guard as 乙**: their staff manage that guard (by name in
    /guards), only the other companies get the masked name."""
    loan = as_user(world.admin).post(f"/api/v1/shifts/{orphan_shift['shift']}/loan", json={})
    lender = as_user(world.staff_b)
    offered = lender.post(f"/api/v1/loans/{loan.json['id']}/offers", json={"guard_id": world.guard_b.id})
    assert (offered.status_code, offered.json["guard_name"]) == (201, "乙保安")
    assert [o["guard_name"] for o in lender.get(f"/api/v1/loans/{loan.json['id']}").json["offers"]] == ["乙保安"]
    assert as_user(world.staff_a).get(f"/api/v1/loans/{loan.json['id']}").json["offers"] == []  # not theirs
    assert [o["guard_name"] for o in as_user(world.admin).get(f"/api/v1/loans/{loan.json['id']}").json["offers"]] == ["乙**"]
    withdrawn = lender.post(f"/api/v1/loan-offers/{offered.json['id']}/withdraw")
    assert (withdrawn.status_code, withdrawn.json["guard_name"]) == (200, "乙保安")
