"""Returnees who live here (issue 13): a resident declares a trip or staff record one, the gate flags the
resident while it is recent, and staff turn it into a home-quarantine order in one step."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import select

from server.extensions import db
from server.models.alerts import Alert
from server.models.audit import AuditEntry
from server.models.compounds import Compound
from server.models.health import QuarantineOrder
from server.services.gate import passes

T0 = datetime(2020, 2, 3, 0, 30, tzinfo=UTC)  # Monday 08:30 in Beijing


@pytest.fixture(autouse=True)
def _fresh_key_cache():
    passes.forget_cached_keys()
    yield
    passes.forget_cached_keys()


def scan(as_user, world, direction="in"):
    code = as_user(world.resident_a).get("/api/v1/me/pass?qr=none").json["code"]
    response = as_user(world.guard_a).post("/api/v1/checkins", json={
        "pass_code": code, "gate_id": world.gate_a.id, "direction": direction, "client_id": uuid.uuid4().hex})
    assert response.status_code == 201, response.json
    return response.json


@time_machine.travel(T0, tick=False)
def test_a_resident_declares_a_trip_and_is_flagged_at_the_gate(app, world, as_user):
    assert scan(as_user, world)["reason"] == "ok"
    resident = as_user(world.resident_a)
    declared = resident.post("/api/v1/me/trips", json={"from_city": "武汉", "returned_on": "2020-02-02"})
    assert declared.status_code == 201, declared.json
    trip = declared.json
    assert (trip["from_city"], trip["source"], trip["status"]) == ("武汉", "self", "attention")
    assert trip["returned_at"] == "2020-02-01T16:00:00+00:00"  # local midnight of 2 February
    assert trip["attention_until"] == "2020-02-15T16:00:00+00:00"
    # The same declaration sent again (a retry) is the same trip.
    again = resident.post("/api/v1/me/trips", json={"from_city": "武汉", "returned_on": "2020-02-02"})
    assert again.json["id"] == trip["id"]
    assert [t["id"] for t in resident.get("/api/v1/me/trips").json["items"]] == [trip["id"]]

    flagged = scan(as_user, world)
    assert (flagged["decision"], flagged["reason"], flagged["color"]) == ("allowed", "returnee_attention", "yellow")
    assert "returnee" in flagged["flags"]
    with app.app_context():
        alert = db.session.scalar(select(Alert).where(Alert.kind == "returnee"))
        assert alert.subject_user_id == world.resident_a.id and alert.detail["returned_from"] == "武汉"
    # Fourteen days after the return the gate no longer flags them.
    with time_machine.travel(datetime(2020, 2, 15, 16, 1, tzinfo=UTC), tick=False):
        assert scan(as_user, world)["reason"] == "ok"


@time_machine.travel(T0, tick=False)
def test_a_trip_declared_ahead_flags_only_from_the_return(app, world, as_user):
    resident = as_user(world.resident_a)
    ahead = resident.post("/api/v1/me/trips", json={"from_city": "上海", "returned_on": "2020-02-05"}).json
    assert ahead["status"] == "upcoming"
    assert scan(as_user, world)["reason"] == "ok"
    with time_machine.travel(datetime(2020, 2, 5, 1, 0, tzinfo=UTC), tick=False):
        assert scan(as_user, world)["reason"] == "returnee_attention"
    too_far = resident.post("/api/v1/me/trips", json={"from_city": "上海", "returned_on": "2020-04-01"})
    assert too_far.status_code == 422 and too_far.json["reason"] == "trip_return_out_of_range"
    blank = resident.post("/api/v1/me/trips", json={"from_city": " ", "returned_on": "2020-02-02"})
    assert blank.status_code == 422 and blank.json["errors"]["json"]["from_city"] == ["不能为空"]


@time_machine.travel(T0, tick=False)
def test_staff_record_a_trip_and_turn_it_into_home_quarantine(app, world, as_user):
    staff = as_user(world.staff_a)
    recorded = staff.post(f"/api/v1/residents/{world.resident_a.id}/trips",
                          json={"from_city": "武汉", "returned_on": "2020-02-01", "note": "门岗告知"})
    assert recorded.status_code == 201 and recorded.json["source"] == "staff"
    trip_id = recorded.json["id"]
    # Out of scope: another company's staff, or a resident of another company's compound.
    assert as_user(world.staff_b).post(f"/api/v1/residents/{world.resident_a.id}/trips",
                                       json={"from_city": "武汉", "returned_on": "2020-02-01"}).status_code == 404
    assert staff.post(f"/api/v1/residents/{world.resident_b.id}/trips",
                      json={"from_city": "武汉", "returned_on": "2020-02-01"}).status_code == 404
    assert as_user(world.staff_b).post(f"/api/v1/trips/{trip_id}/quarantine", json={}).status_code == 404
    listed = staff.get(f"/api/v1/compounds/{world.compound_a.id}/trips?status=attention").json
    assert [t["id"] for t in listed["items"]] == [trip_id]

    refused = staff.post(f"/api/v1/trips/{trip_id}/quarantine", json={})
    assert refused.status_code == 409 and refused.json["reason"] == "quarantine_consent_required"
    with app.app_context():
        db.session.get(Compound, world.compound_a.id).health_emergency = True
        db.session.commit()
    order = staff.post(f"/api/v1/trips/{trip_id}/quarantine", json={})
    assert order.status_code == 201, order.json
    assert (order.json["user_id"], order.json["reason"], order.json["from_city"], order.json["status"]) == (
        world.resident_a.id, "returned_from_city", "武汉", "active")
    assert order.json["ends_at"] == recorded.json["attention_until"]
    assert staff.get(f"/api/v1/compounds/{world.compound_a.id}/trips").json["items"][0][
        "quarantine_order_id"] == order.json["id"]
    twice = staff.post(f"/api/v1/trips/{trip_id}/quarantine", json={})
    assert twice.status_code == 409 and twice.json["reason"] == "trip_already_quarantined"
    # The order is a real one: the resident may come home but not leave.
    out = scan(as_user, world, "out")
    assert (out["decision"], out["reason"]) == ("denied", "quarantined")
    with app.app_context():
        assert db.session.scalar(select(QuarantineOrder.id).where(QuarantineOrder.user_id == world.resident_a.id))
        assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.action == "trip.list"))


@time_machine.travel(T0, tick=False)
def test_only_an_approved_resident_declares_a_trip(app, world, as_user):
    assert as_user(world.guard_a).post("/api/v1/me/trips", json={"from_city": "武汉",
                                                                 "returned_on": "2020-02-02"}).status_code == 403
    from tests.factories import make_user

    with app.app_context():
        from server.models.alliance import Alliance

        loner = make_user(db.session.get(Alliance, world.alliance.id), "resident")
        db.session.commit()
        loner_id = loner.id
    with app.app_context():
        from server.models.people import User

        loner = db.session.get(User, loner_id)
        db.session.expunge(loner)
    refused = as_user(loner).post("/api/v1/me/trips", json={"from_city": "武汉", "returned_on": "2020-02-02"})
    assert refused.status_code == 409 and refused.json["reason"] == "not_registered"
