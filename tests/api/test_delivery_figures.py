"""Delivery service figures: time to claim and to deliver, per compound and per company, no personal data."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import time_machine

from server.extensions import db
from server.models.compounds import Compound, Household
from server.models.health import QuarantineOrder
from server.models.people import User
from server.services.delivery import delivery_lifecycle as lifecycle
from server.services.delivery.deliveries import create_delivery, get_delivery, rate_delivery
from tests.factories import make_compound, make_household, make_user

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
PERIOD = "since=2026-03-01T00:00:00%2B00:00&until=2026-03-03T00:00:00%2B00:00"


def _at(minutes: float):
    return time_machine.travel(T0 + timedelta(minutes=minutes), tick=False)


def _submit(user_id: int, client_id: str, minutes: float) -> int:
    with _at(minutes):
        request = create_delivery(db.session.get(User, user_id), {
            "client_id": client_id, "items": [{"name": "土豆", "quantity": 3, "unit": "斤"}]})
        db.session.commit()
        return request.id


def _do(action, user_id: int, request_id: int, minutes: float, *args) -> None:
    with _at(minutes):
        user = db.session.get(User, user_id)
        action(user, get_delivery(user, request_id), *args)
        db.session.commit()


def _quarantine(*households) -> None:
    for h in households:
        db.session.add(QuarantineOrder(compound_id=h.compound_id, household_id=h.id, reason="returned_from_city",
                                       starts_at=T0 - timedelta(days=2), ends_at=T0 + timedelta(days=12)))
    db.session.commit()


def _story(world) -> dict:
    """Company A: claimed after 10 and 30 minutes, one delivered after 70; B: 20 and 120, one cancelled."""
    orphan = db.session.get(Compound, world.compound_orphan.id)
    orphan.lockdown = True
    extra_a = make_compound(world.alliance, world.company_a, "甲二小区")
    second_a = make_household(db.session.get(Compound, world.compound_a.id), room="902")
    second_b = make_household(db.session.get(Compound, world.compound_b.id), room="903")
    orphan_household = make_household(orphan, room="101")
    people = {
        "a2": make_user(world.alliance, "resident", household=second_a, name="赵六"),
        "b2": make_user(world.alliance, "resident", household=second_b, name="钱七"),
        "orphan": make_user(world.alliance, "resident", household=orphan_household, name="孙八"),
    }
    _quarantine(db.session.get(Household, world.household_a.id), second_a,
                db.session.get(Household, world.household_b.id), second_b)
    ids = {key: user.id for key, user in people.items()}
    staff_a, staff_b = world.staff_a.id, world.staff_b.id

    r1 = _submit(world.resident_a.id, "r1", 0)
    r2 = _submit(ids["a2"], "r2", 5)
    _do(lifecycle.claim_delivery, staff_a, r1, 10)
    _do(lifecycle.claim_delivery, staff_a, r2, 35)
    for action, minutes in ((lifecycle.start_purchasing, 20), (lifecycle.dispatch_delivery, 50),
                            (lifecycle.mark_delivered, 70)):
        _do(action, staff_a, r1, minutes)
    _do(lifecycle.confirm_delivery, world.resident_a.id, r1, 80)
    _do(rate_delivery, world.resident_a.id, r1, 90, 4, "很好")

    r3 = _submit(world.resident_b.id, "r3", 0)
    r4 = _submit(ids["b2"], "r4", 0)
    _do(lifecycle.claim_delivery, staff_b, r3, 20)
    for action, minutes in ((lifecycle.start_purchasing, 30), (lifecycle.dispatch_delivery, 60),
                            (lifecycle.mark_delivered, 120)):
        _do(action, staff_b, r3, minutes)
    _do(lifecycle.confirm_delivery, world.resident_b.id, r3, 130)
    _do(rate_delivery, world.resident_b.id, r3, 140, 2, "太慢了")
    _do(lifecycle.cancel_delivery, ids["b2"], r4, 15, "不需要了")

    _submit(ids["orphan"], "r5", 0)
    _submit(world.resident_a.id, "too-late", 60 * 48)  # outside the period asked for
    return {"extra_a": extra_a.id}


def test_staff_see_their_company_figures(app, world, as_user):
    with app.app_context():
        story = _story(world)
    figures = as_user(world.staff_a).get(f"/api/v1/deliveries/figures?{PERIOD}")
    assert figures.status_code == 200, figures.json
    body = figures.json
    by_compound = {c["compound_id"]: c for c in body["compounds"]}
    assert set(by_compound) == {world.compound_a.id, story["extra_a"]}
    a = by_compound[world.compound_a.id]
    assert (a["requests"], a["claimed"], a["delivered"], a["confirmed"], a["open"]) == (2, 2, 1, 1, 1)
    assert (a["claim_minutes_avg"], a["claim_minutes_median"]) == (20.0, 20.0)
    assert (a["deliver_minutes_avg"], a["rating_avg"], a["ratings"]) == (70.0, 4.0, 1)
    empty = by_compound[story["extra_a"]]
    assert empty["requests"] == 0 and empty["claim_minutes_avg"] is None and empty["rating_avg"] is None
    assert [c["company_id"] for c in body["companies"]] == [world.company_a.id]
    assert body["companies"][0]["requests"] == 2 and body["companies"][0]["company_name"] == "甲物业"


def test_alliance_sees_every_company_without_personal_data(app, world, as_user):
    with app.app_context():
        _story(world)
    response = as_user(world.admin).get(f"/api/v1/deliveries/figures?{PERIOD}")
    assert response.status_code == 200
    companies = {c["company_id"]: c for c in response.json["companies"]}
    assert set(companies) == {world.company_a.id, world.company_b.id, None}
    b = companies[world.company_b.id]
    assert (b["requests"], b["claimed"], b["delivered"], b["cancelled"]) == (2, 1, 1, 1)
    assert (b["claim_minutes_avg"], b["deliver_minutes_median"], b["rating_avg"]) == (20.0, 120.0, 2.0)
    assert companies[None]["requests"] == 1 and companies[None]["open"] == 1
    assert companies[world.company_a.id]["requests"] == 2
    text = json.dumps(response.json, ensure_ascii=False)
    for personal in ("王秀兰", "李建国", "赵六", "钱七", "孙八", "很好", "太慢了", "1380013"):
        assert personal not in text
    allowed = {"compound_id", "compound_name", "company_id", "company_name", "requests", "claimed", "delivered",
               "confirmed", "cancelled", "rejected", "open", "claim_minutes_avg", "claim_minutes_median",
               "deliver_minutes_avg", "deliver_minutes_median", "ratings", "rating_avg"}
    assert all(set(row) <= allowed for row in response.json["compounds"] + response.json["companies"])


def test_period_filter_and_roles(app, world, as_user):
    with app.app_context():
        _story(world)
    admin = as_user(world.admin)
    later = admin.get("/api/v1/deliveries/figures?since=2026-03-03T00:00:00%2B00:00&"
                      "until=2026-03-05T00:00:00%2B00:00").json
    assert sum(c["requests"] for c in later["companies"]) == 1
    backwards = admin.get("/api/v1/deliveries/figures?since=2026-03-03T00:00:00%2B00:00&"
                          "until=2026-03-01T00:00:00%2B00:00")
    assert backwards.status_code == 422
    assert admin.get("/api/v1/deliveries/figures?since=yesterday").status_code == 422
    assert as_user(world.resident_a).get("/api/v1/deliveries/figures").status_code == 403
    assert as_user(world.guard_a).get("/api/v1/deliveries/figures").status_code == 403


def test_default_period_is_the_last_30_days(app, world, as_user):
    with app.app_context():
        _story(world)
    with time_machine.travel(T0 + timedelta(days=10), tick=False):
        recent = as_user(world.admin).get("/api/v1/deliveries/figures").json
    assert sum(c["requests"] for c in recent["companies"]) == 6
    with time_machine.travel(T0 + timedelta(days=40), tick=False):
        old = as_user(world.admin).get("/api/v1/deliveries/figures").json
    assert sum(c["requests"] for c in old["companies"]) == 0


def test_the_period_is_at_most_366_days(app, world, as_user):
    admin = as_user(world.admin)
    year = admin.get("/api/v1/deliveries/figures?since=2025-03-01T00:00:00%2B00:00&until=2026-03-02T00:00:00%2B00:00")
    assert year.status_code == 200
    long = admin.get("/api/v1/deliveries/figures?since=2024-01-01T00:00:00%2B00:00&until=2026-03-02T00:00:00%2B00:00")
    assert long.status_code == 422 and "until" in long.json["errors"]["query"]
    since_only = admin.get("/api/v1/deliveries/figures?since=2001-01-01T00:00:00%2B00:00")
    assert since_only.status_code == 422
    assert admin.get("/api/v1/deliveries/figures?since=0001-01-01T00:00:00%2B00:00").status_code == 422
