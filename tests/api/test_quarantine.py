"""Quarantine API: staff place, extend, lift and list orders; a resident sees their own."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from server.extensions import db
from server.models.alliance import Alliance
from server.models.audit import AuditEntry
from server.models.companies import Company
from server.models.compounds import Compound
from server.models.health import QuarantineOrder
from tests.concurrency import run_together
from tests.factories import make_household, make_user

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest.fixture
def w(app, world):
    """The standard world with an emergency declared at compound A."""
    with app.app_context():
        db.session.get(Compound, world.compound_a.id).health_emergency = True
        db.session.commit()
    return world


def _place(as_user, w, **body):
    return as_user(w.staff_a).post(f"/api/v1/compounds/{w.compound_a.id}/quarantine-orders",
                                   json={"user_id": w.resident_a.id, "reason": "returned_from_city",
                                         "from_city": "武汉", **body})


def test_place_defaults_to_14_days_and_the_resident_sees_it(w, as_user):
    with time_machine.travel(T0, tick=False):
        response = _place(as_user, w)
        assert response.status_code == 201
        order = response.json
        assert order["status"] == "active" and order["lawful_basis"] == "public_health_emergency"
        assert datetime.fromisoformat(order["ends_at"]) == T0 + timedelta(days=14)
        mine = as_user(w.resident_a).get("/api/v1/me/quarantine").json
    assert mine["active"]["id"] == order["id"] and mine["reports_required_per_day"] == 2
    assert mine["reports_today"] == 0 and mine["current_slot_reported"] is False
    with time_machine.travel(T0 + timedelta(days=14), tick=False):
        after = as_user(w.resident_a).get("/api/v1/me/quarantine").json
    assert after["active"] is None and after["orders"][0]["status"] == "ended"
    assert as_user(w.resident_b).get("/api/v1/me/quarantine").json["orders"] == []


def test_a_self_report_shows_in_the_residents_view(w, as_user):
    with time_machine.travel(T0, tick=False):
        _place(as_user, w)
        as_user(w.resident_a).post("/api/v1/me/temperatures", json={"celsius": 36.6})
        mine = as_user(w.resident_a).get("/api/v1/me/quarantine").json
    assert mine["reports_today"] == 1 and mine["current_slot_reported"] is True


@pytest.mark.parametrize("body, status, reason", [
    ({"reason": "holiday"}, 422, "validation_failed"),
    ({"household_id": 1}, 422, "quarantine_subject"),
    ({"days": 0}, 422, "validation_failed"),
    ({"ends_at": "2026-03-01T00:00:00+08:00"}, 422, "quarantine_period"),
    ({"ends_at": "2026-03-20T00:00:00"}, 422, "validation_failed"),
])
def test_bad_orders_are_refused(w, as_user, body, status, reason):
    with time_machine.travel(T0, tick=False):
        response = _place(as_user, w, **body)
    assert response.status_code == status and response.json["reason"] == reason


def test_a_second_overlapping_order_is_409(w, as_user):
    _place(as_user, w)
    response = _place(as_user, w)
    assert response.status_code == 409 and response.json["reason"] == "quarantine_exists"


def test_other_companies_staff_cannot_see_or_touch_it(w, as_user):
    order = _place(as_user, w).json
    other = as_user(w.staff_b)
    assert other.get(f"/api/v1/quarantine-orders/{order['id']}").status_code == 404
    assert other.post(f"/api/v1/quarantine-orders/{order['id']}/lift", json={"reason": "x"}).status_code == 404
    response = other.post(f"/api/v1/compounds/{w.compound_a.id}/quarantine-orders",
                          json={"user_id": w.resident_a.id, "reason": "other"})
    assert response.status_code == 404


def test_extend_then_lift(w, as_user):
    with time_machine.travel(T0, tick=False):
        order = _place(as_user, w).json
    with time_machine.travel(T0 + timedelta(days=12), tick=False):
        staff = as_user(w.staff_a)  # signed in now: access tokens last minutes
        extended = staff.post(f"/api/v1/quarantine-orders/{order['id']}/extend", json={"days": 7, "reason": "复查"})
        assert extended.status_code == 200
        assert datetime.fromisoformat(extended.json["ends_at"]) == T0 + timedelta(days=21)
        assert extended.json["extensions"][0]["reason"] == "复查"
        assert staff.post(f"/api/v1/quarantine-orders/{order['id']}/lift", json={}).status_code == 422
        lifted = staff.post(f"/api/v1/quarantine-orders/{order['id']}/lift", json={"reason": "核酸阴性"})
        assert lifted.status_code == 200 and lifted.json["status"] == "lifted"
        again = staff.post(f"/api/v1/quarantine-orders/{order['id']}/lift", json={"reason": "核酸阴性"})
        assert again.status_code == 409 and again.json["reason"] == "quarantine_not_current"
        assert as_user(w.resident_a).get("/api/v1/me/quarantine").json["active"] is None


def test_household_orders_and_the_list_by_status_is_audited(w, as_user, app):
    with time_machine.travel(T0, tick=False):
        household = as_user(w.staff_a).post(f"/api/v1/compounds/{w.compound_a.id}/quarantine-orders",
                                             json={"household_id": w.household_a.id, "reason": "close_contact"})
        assert household.status_code == 201 and household.json["user_id"] is None
        active = as_user(w.staff_a).get(f"/api/v1/compounds/{w.compound_a.id}/quarantine-orders?status=active")
        ended = as_user(w.staff_a).get(f"/api/v1/compounds/{w.compound_a.id}/quarantine-orders?status=ended")
        assert as_user(w.resident_a).get("/api/v1/me/quarantine").json["active"]["id"] == household.json["id"]
        admin = as_user(w.admin).get(f"/api/v1/compounds/{w.compound_a.id}/quarantine-orders")
    assert active.json["total"] == 1 and ended.json["total"] == 0
    assert admin.status_code == 422 and admin.json["reason"] == "purpose_required"
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "quarantine.list")).all()
    assert [e.detail["status"] for e in entries] == ["active", "ended"]


@pytest.mark.parametrize("body, field", [
    ({"user_id": 2**64}, "user_id"), ({"user_id": None, "household_id": 2**64}, "household_id"),
    ({"user_id": 0}, "user_id"), ({"starts_at": "0001-01-01T00:00:00+00:00"}, "starts_at"),
    ({"ends_at": "0001-01-01T00:00:00+00:00"}, "ends_at"), ({"ends_at": "9999-12-31T23:59:59+00:00"}, "ends_at"),
])
def test_out_of_range_ids_and_times_are_422(w, as_user, body, field):
    body = {k: v for k, v in body.items() if v is not None}
    response = as_user(w.staff_a).post(f"/api/v1/compounds/{w.compound_a.id}/quarantine-orders",
                                       json={"reason": "returned_from_city", **({"user_id": w.resident_a.id}
                                             if "household_id" not in body else {}), **body})
    assert response.status_code == 422 and field in str(response.json["errors"])


def test_an_extension_to_year_0001_or_9999_is_422(w, as_user):
    order_id = _place(as_user, w).json["id"]
    for end in ("0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+00:00"):
        response = as_user(w.staff_a).post(f"/api/v1/quarantine-orders/{order_id}/extend", json={"ends_at": end})
        assert response.status_code == 422 and "ends_at" in str(response.json["errors"])



RACES = 4


def _place_together(clients, url, bodies) -> list[int]:
    return [r.status_code for r in run_together([lambda c=c, b=b: c.post(url, json=b)
                                                 for c, b in zip(clients, bodies, strict=True)])]


@pytest.mark.parametrize("subject", ["user", "household"])
def test_two_staff_placing_at_once_give_one_201_and_one_409(w, as_user, app, subject):
    """Real threads with their own sessions: the household's lock makes the second see the first's order."""
    with app.app_context():
        compound = db.session.get(Compound, w.compound_a.id)
        alliance = db.session.get(Alliance, w.alliance.id)
        other_staff = make_user(alliance, "staff", company=db.session.get(Company, w.company_a.id), name="丙客服")
        targets = []
        for n in range(RACES):
            household = make_household(compound, room=f"90{n}")
            resident = make_user(alliance, "resident", household=household, name=f"居民{n}")
            targets.append({"user_id": resident.id} if subject == "user" else {"household_id": household.id})
        db.session.commit()
        clients = [as_user(w.staff_a), as_user(other_staff)]
    url = f"/api/v1/compounds/{w.compound_a.id}/quarantine-orders"
    for target in targets:
        # Different periods that overlap: neither request is a replay of the other.
        bodies = [{"reason": "returned_from_city", "days": 14, **target},
                  {"reason": "close_contact", "days": 10, **target}]
        statuses = _place_together(clients, url, bodies)
        assert sorted(statuses) == [201, 409], statuses
        with app.app_context():
            column = QuarantineOrder.user_id if subject == "user" else QuarantineOrder.household_id
            assert db.session.scalar(select(func.count()).select_from(QuarantineOrder)
                                     .where(column == next(iter(target.values())))) == 1
