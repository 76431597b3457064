"""Swaps: offer, accept, approve; the rules are checked at acceptance and again at approval."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from server.extensions import db
from server.models.roster_swaps import SwapRequest
from server.models.rosters import Shift, ShiftAssignment
from tests.concurrency import run_together
from tests.factories import make_user

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MONDAY = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def setup(app, world):
    """guard_a holds Monday 08-16; a colleague (guard_c) of company A; two more shifts to play with."""
    with app.app_context():
        guard_c = make_user(db.session.merge(world.alliance), "guard", company=db.session.merge(world.company_a),
                            compound=db.session.merge(world.compound_a), name="丙保安")
        shifts = []
        for start, hours in ((8, 8), (20, 8), (28, 8)):
            s = Shift(compound_id=world.compound_a.id, gate_id=world.gate_a.id, starts_at=MONDAY + timedelta(hours=start),
                      ends_at=MONDAY + timedelta(hours=start + hours))
            db.session.add(s)
            shifts.append(s)
        db.session.flush()
        held = ShiftAssignment(shift_id=shifts[0].id, guard_id=world.guard_a.id, compound_id=world.compound_a.id,
                               gate_id=world.gate_a.id, starts_at=shifts[0].starts_at, ends_at=shifts[0].ends_at)
        db.session.add(held)
        db.session.commit()
        return {"guard_c": guard_c, "assignment": held.id, "shifts": [s.id for s in shifts]}


def holders(app, shift_id):
    with app.app_context():
        return db.session.scalars(select(ShiftAssignment.guard_id).where(ShiftAssignment.shift_id == shift_id)).all()


def test_offer_accept_approve_hands_the_shift_over(app, world, as_user, setup):
    offer = as_user(world.guard_a).post(f"/api/v1/shift-assignments/{setup['assignment']}/swap", json={"note": "家里有事"})
    assert offer.status_code == 201 and offer.json["status"] == "offered"
    swap = offer.json["id"]
    colleague = as_user(setup["guard_c"])
    assert [s["id"] for s in colleague.get("/api/v1/swaps?status=offered").json["items"]] == [swap]
    own = as_user(world.guard_a).post(f"/api/v1/swaps/{swap}/accept")
    assert (own.status_code, own.json["reason"]) == (409, "swap_own_shift")
    assert as_user(world.guard_b).post(f"/api/v1/swaps/{swap}/accept").status_code == 404
    accepted = colleague.post(f"/api/v1/swaps/{swap}/accept")
    assert accepted.status_code == 200 and accepted.json["accepted_by_id"] == setup["guard_c"].id
    assert holders(app, setup["shifts"][0]) == [world.guard_a.id]  # nothing moves before approval
    assert as_user(world.staff_b).post(f"/api/v1/swaps/{swap}/approve").status_code == 404
    approved = as_user(world.staff_a).post(f"/api/v1/swaps/{swap}/approve")
    assert approved.status_code == 200 and approved.json["status"] == "approved"
    assert holders(app, setup["shifts"][0]) == [setup["guard_c"].id]
    again = as_user(world.staff_a).post(f"/api/v1/swaps/{swap}/approve")
    assert (again.status_code, again.json["reason"]) == (409, "swap_not_open")


def test_rules_are_checked_again_at_approval(app, world, as_user, setup):
    swap = as_user(world.guard_a).post(f"/api/v1/shift-assignments/{setup['assignment']}/swap", json={}).json["id"]
    assert as_user(setup["guard_c"]).post(f"/api/v1/swaps/{swap}/accept").status_code == 200
    # Meanwhile guard_c is given Monday 20-04: only 4 h after the swapped shift ends.
    assert as_user(world.staff_a).post(f"/api/v1/shifts/{setup['shifts'][1]}/assignments",
                                       json={"guard_id": setup["guard_c"].id}).status_code == 201
    r = as_user(world.staff_a).post(f"/api/v1/swaps/{swap}/approve")
    assert (r.status_code, r.json["rule"], r.json["shift_ids"]) == (409, "roster_min_rest",
                                                                    [setup["shifts"][0], setup["shifts"][1]])
    assert holders(app, setup["shifts"][0]) == [world.guard_a.id]


def test_accepting_checks_the_rules_at_once(app, world, as_user, setup):
    assert as_user(world.staff_a).post(f"/api/v1/shifts/{setup['shifts'][1]}/assignments",
                                       json={"guard_id": setup["guard_c"].id}).status_code == 201
    swap = as_user(world.guard_a).post(f"/api/v1/shift-assignments/{setup['assignment']}/swap", json={}).json["id"]
    r = as_user(setup["guard_c"]).post(f"/api/v1/swaps/{swap}/accept")
    assert (r.status_code, r.json["rule"]) == (409, "roster_min_rest")


def test_reject_cancel_and_started_shifts(app, world, as_user, setup, frozen):
    guard = as_user(world.guard_a)
    swap = guard.post(f"/api/v1/shift-assignments/{setup['assignment']}/swap", json={}).json["id"]
    dup = guard.post(f"/api/v1/shift-assignments/{setup['assignment']}/swap", json={})
    assert (dup.status_code, dup.json["reason"]) == (409, "swap_already_offered")
    assert as_user(setup["guard_c"]).post(f"/api/v1/swaps/{swap}/cancel").status_code == 404
    assert guard.post(f"/api/v1/swaps/{swap}/cancel").json["status"] == "cancelled"
    second = guard.post(f"/api/v1/shift-assignments/{setup['assignment']}/swap", json={}).json["id"]
    assert as_user(world.staff_a).post(f"/api/v1/swaps/{second}/reject").json["status"] == "rejected"
    assert as_user(world.guard_b).post(f"/api/v1/shift-assignments/{setup['assignment']}/swap",
                                       json={}).status_code == 404
    frozen.move_to(MONDAY + timedelta(hours=9))
    late = as_user(world.guard_a).post(f"/api/v1/shift-assignments/{setup['assignment']}/swap", json={})
    assert (late.status_code, late.json["reason"]) == (409, "shift_started")


def test_two_guards_accepting_one_swap_at_once_have_one_winner(app, world, as_user, setup):
    with app.app_context():
        guard_d = make_user(db.session.merge(world.alliance), "guard", company=db.session.merge(world.company_a),
                            compound=db.session.merge(world.compound_a), name="丁保安")
        db.session.commit()
    swap = as_user(world.guard_a).post(f"/api/v1/shift-assignments/{setup['assignment']}/swap", json={}).json["id"]
    takers = [as_user(setup["guard_c"]), as_user(guard_d)]
    answers = run_together([lambda c=c: c.post(f"/api/v1/swaps/{swap}/accept") for c in takers])
    assert sorted(a.status_code for a in answers) == [200, 409], [a.json for a in answers]
    winner = next(a for a in answers if a.status_code == 200)
    loser = next(a for a in answers if a.status_code == 409)
    assert (loser.json["reason"], loser.json["status"]) == ("swap_not_open", "accepted")
    with app.app_context():
        row = db.session.get(SwapRequest, swap)
        assert row.status == "accepted" and row.accepted_by_id == winner.json["accepted_by_id"]


def test_approve_and_cancel_at_once_only_one_applies(app, world, as_user, setup):
    swap = as_user(world.guard_a).post(f"/api/v1/shift-assignments/{setup['assignment']}/swap", json={}).json["id"]
    assert as_user(setup["guard_c"]).post(f"/api/v1/swaps/{swap}/accept").status_code == 200
    staff, guard = as_user(world.staff_a), as_user(world.guard_a)
    approve, cancel = run_together([lambda: staff.post(f"/api/v1/swaps/{swap}/approve"),
                                 lambda: guard.post(f"/api/v1/swaps/{swap}/cancel")])
    assert sorted([approve.status_code, cancel.status_code]) == [200, 409], (approve.json, cancel.json)
    with app.app_context():
        status = db.session.get(SwapRequest, swap).status
    if approve.status_code == 200:
        assert status == "approved" and holders(app, setup["shifts"][0]) == [setup["guard_c"].id]
        assert cancel.json["status"] == "approved"
    else:
        assert status == "cancelled" and holders(app, setup["shifts"][0]) == [world.guard_a.id]
        assert approve.json["status"] == "cancelled"


def test_removing_an_offered_assignment_cancels_its_swap(app, world, as_user, setup):
    swap = as_user(world.guard_a).post(f"/api/v1/shift-assignments/{setup['assignment']}/swap", json={}).json["id"]
    assert as_user(setup["guard_c"]).post(f"/api/v1/swaps/{swap}/accept").status_code == 200
    assert as_user(world.staff_a).delete(f"/api/v1/shift-assignments/{setup['assignment']}").status_code == 204
    with app.app_context():
        row = db.session.get(SwapRequest, swap)
        assert (row.status, row.assignment_id) == ("cancelled", None)
    r = as_user(world.staff_a).post(f"/api/v1/swaps/{swap}/approve")
    assert (r.status_code, r.json["reason"]) == (409, "swap_not_open")
    assert holders(app, setup["shifts"][0]) == []
