"""Check-ins and health: temperatures at the gate, fever, returnees, the lawful basis of each row, alerts to staff."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from server.extensions import db
from server.models.alerts import Alert
from server.models.checkins import CheckIn
from server.models.health import TemperatureReading
from server.models.notifications import Notification
from server.models.rosters import Shift, ShiftAssignment
from tests.api.checkin_helpers import (
    T0,
    _fresh_key_cache,  # noqa: F401 - an autouse fixture
    count,
    give_consent,
    pass_of,
    scan,
    set_emergency,
    set_user,
)


@time_machine.travel(T0, tick=False)
def test_fever_needs_a_remeasure_then_refuses(app, world, as_user):
    with app.app_context():
        db.session.get(type(world.compound_a), world.compound_a.id).health_emergency = True
        db.session.commit()
    guard = as_user(world.guard_a)
    first = scan(guard, pass_of(as_user, world.resident_a), world.gate_a.id, temperature=38.0).json
    assert (first["decision"], first["reason"], first["action"], first["color"]) == (
        "denied", "fever_remeasure", "remeasure", "orange")
    with time_machine.travel(T0 + timedelta(minutes=3), tick=False):
        second = scan(guard, pass_of(as_user, world.resident_a), world.gate_a.id, temperature=38.2).json
    assert (second["decision"], second["reason"]) == ("denied", "fever")
    assert count(app, Alert, Alert.kind == "fever", Alert.subject_user_id == world.resident_a.id) == 1
    with app.app_context():
        from server.models.health import TemperatureReading

        readings = db.session.scalars(select(TemperatureReading).order_by(TemperatureReading.id)).all()
        assert [(str(r.celsius), r.outcome, r.gate_id) for r in readings] == [
            ("38.0", "remeasure", world.gate_a.id), ("38.2", "fever", world.gate_a.id)]
        assert db.session.scalar(select(CheckIn.lawful_basis).limit(1)) == "public_health_emergency"


@time_machine.travel(T0, tick=False)
def test_fever_without_consent_is_decided_from_the_checkins(app, world, as_user):
    guard = as_user(world.guard_a)
    first = scan(guard, pass_of(as_user, world.resident_a), world.gate_a.id, temperature=37.6).json
    assert first["reason"] == "fever_remeasure" and "temperature_not_recorded" in first["flags"]
    second = scan(guard, pass_of(as_user, world.resident_a), world.gate_a.id, temperature=37.5).json
    assert second["reason"] == "fever"
    assert count(app, Alert, Alert.kind == "fever") == 1


@time_machine.travel(T0, tick=False)
def test_fever_threshold_and_range(app, world, as_user):
    guard = as_user(world.guard_a)
    assert scan(guard, pass_of(as_user, world.resident_a), world.gate_a.id, temperature=37.2).json["reason"] == "ok"
    assert scan(guard, pass_of(as_user, world.resident_a), world.gate_a.id,
                temperature=37.3).json["reason"] == "fever_remeasure"
    for bad in (33.9, 43.1, 36.55, "hot", True):
        response = scan(guard, pass_of(as_user, world.resident_a), world.gate_a.id, temperature=bad)
        assert response.status_code == 422, (bad, response.json)


@time_machine.travel(T0, tick=False)
def test_returnee_is_let_through_flagged_and_staff_alerted(app, world, as_user):
    guard, resident = as_user(world.guard_a), as_user(world.resident_a)
    set_user(app, world.resident_a.id, returned_from="武汉")
    first = scan(guard, resident.get("/api/v1/me/pass").json["code"], world.gate_a.id).json
    assert (first["decision"], first["reason"], first["color"]) == ("allowed", "returnee_attention", "yellow")
    scan(guard, resident.get("/api/v1/me/pass").json["code"], world.gate_a.id, "out")
    with app.app_context():
        alerts = db.session.scalars(select(Alert).where(Alert.kind == "returnee")).all()
        assert len(alerts) == 1 and alerts[0].subject_user_id == world.resident_a.id
        assert alerts[0].detail["returned_from"] == "武汉"


@time_machine.travel(T0, tick=False)
def test_lawful_basis_is_checked_and_no_temperature_is_kept_without_one(app, world, as_user):
    guard = as_user(world.guard_a)
    # No consent, no emergency: the passage is recorded (the gate works), the temperature is not kept.
    bare = scan(guard, pass_of(as_user, world.resident_a), world.gate_a.id, temperature=36.6)
    assert bare.status_code == 201 and bare.json["decision"] == "allowed"
    assert bare.json["temperature"] is None and "temperature_not_recorded" in bare.json["flags"]
    no_reading = scan(guard, pass_of(as_user, world.resident_a), world.gate_a.id, "out").json
    give_consent(as_user, world.resident_a)
    consented = scan(guard, pass_of(as_user, world.resident_a), world.gate_a.id, temperature=36.7).json
    assert consented["temperature"] == "36.7" and "temperature_not_recorded" not in consented["flags"]
    as_user(world.resident_a).delete("/api/v1/me/consent")
    set_emergency(app, world.compound_a.id)
    emergency = scan(guard, pass_of(as_user, world.resident_a), world.gate_a.id, temperature=36.8).json
    with app.app_context():
        rows = {row.id: (row.lawful_basis, None if row.temperature is None else str(row.temperature))
                for row in db.session.scalars(select(CheckIn))}
        assert rows[bare.json["id"]] == ("necessary_for_entry", None)
        assert rows[no_reading["id"]] == ("necessary_for_entry", None)
        # Withdrawing consent deleted the consent-based check-in (and its reading).
        assert len(rows) == 3 and ("consent", "36.7") not in rows.values()
        assert rows[emergency["id"]] == ("public_health_emergency", "36.8")
        readings = db.session.scalars(select(TemperatureReading.lawful_basis)).all()
        assert readings == ["public_health_emergency"]
        # The database refuses a temperature kept without a basis.
        row = db.session.get(CheckIn, bare.json["id"])
        values = {c.key: getattr(row, c.key) for c in CheckIn.__table__.columns if c.key != "id"}
        with pytest.raises(IntegrityError):
            db.session.execute(insert(CheckIn).values(**{**values, "client_id": "forged", "temperature": 36.6}))
        db.session.rollback()


@time_machine.travel(T0, tick=False)
def test_consent_basis_is_stored_while_consent_is_in_force(app, world, as_user):
    give_consent(as_user, world.resident_a)
    body = scan(as_user(world.guard_a), pass_of(as_user, world.resident_a), world.gate_a.id).json
    with app.app_context():
        assert db.session.get(CheckIn, body["id"]).lawful_basis == "consent"


def test_offline_reading_keeps_the_device_time_of_the_checkin(app, world, as_user):
    give_consent(as_user, world.resident_a)
    with time_machine.travel(T0, tick=False):
        code = pass_of(as_user, world.resident_a)
    item = {"kind": "scan", "pass_code": code, "gate_id": world.gate_a.id, "direction": "in", "temperature": 36.9,
            "client_id": "offline-t", "device_time": T0.isoformat()}
    with app.app_context():  # a day-long shift at the gate: its scans upload until 6 h after its end
        shift = Shift(compound_id=world.compound_a.id, gate_id=world.gate_a.id, starts_at=T0 - timedelta(minutes=1),
                      ends_at=T0 + timedelta(hours=24))
        db.session.add(shift)
        db.session.flush()
        db.session.add(ShiftAssignment(shift_id=shift.id, guard_id=world.guard_a.id, compound_id=world.compound_a.id,
                                       gate_id=world.gate_a.id, starts_at=shift.starts_at, ends_at=shift.ends_at))
        db.session.commit()
    with time_machine.travel(T0 + timedelta(hours=26), tick=False):  # older than a reading's own 24 h
        result = as_user(world.guard_a).post("/api/v1/checkins/batch", json={"items": [item]}).json["results"][0]
    assert result["status"] == 201, result
    with app.app_context():
        reading = db.session.scalar(select(TemperatureReading))
        assert reading.measured_at == T0 and str(reading.celsius) == "36.9"
        assert db.session.get(CheckIn, result["checkin"]["id"]).occurred_at == T0


def _alert_messages(app, kind: str) -> list[int]:
    """The users messaged about the alerts of a kind."""
    with app.app_context():
        alert_ids = db.session.scalars(select(Alert.id).where(Alert.kind == kind)).all()
        assert alert_ids, kind
        return sorted(n.user_id for n in db.session.scalars(select(Notification).where(Notification.kind == "alert"))
                      if any(n.page.endswith(f"id={alert_id}") for alert_id in alert_ids))


@time_machine.travel(T0, tick=False)
def test_alerts_raised_at_the_gate_notify_staff(app, world, as_user):
    set_user(app, world.staff_a.id, openid="openid-staff-a")
    set_user(app, world.staff_b.id, openid="openid-staff-b")
    guard = as_user(world.guard_a)
    # Fever known only from the check-ins (no consent: no reading is kept).
    scan(guard, pass_of(as_user, world.resident_a), world.gate_a.id, temperature=38.1)
    second = scan(guard, pass_of(as_user, world.resident_a), world.gate_a.id, temperature=38.0).json
    assert second["reason"] == "fever"
    assert _alert_messages(app, "fever") == [world.staff_a.id]
    # A returnee.
    set_user(app, world.resident_a.id, returned_from="武汉")
    assert scan(guard, pass_of(as_user, world.resident_a), world.gate_a.id, "out").json["reason"] == \
        "returnee_attention"
    scan(guard, pass_of(as_user, world.resident_a), world.gate_a.id, "in")  # the same day: one alert, one message
    assert _alert_messages(app, "returnee") == [world.staff_a.id]
    # A pass seen twice.
    code = pass_of(as_user, world.resident_a)
    scan(guard, code, world.gate_a.id, "out")
    assert "pass_reused" in scan(guard, code, world.gate_a.id, "out").json["flags"]
    assert _alert_messages(app, "pass_reuse") == [world.staff_a.id]

