"""Single reads of health and household data are audited, as bulk reads are: who read what, where."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from server.extensions import db
from server.models.audit import AuditEntry
from server.models.compounds import Compound
from server.models.health import QuarantineOrder
from tests.api.test_deliveries import order


def _entries(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


def _quarantine_household_a(app, world) -> int:
    now = datetime.now(UTC)
    with app.app_context():
        db.session.get(Compound, world.compound_a.id).health_emergency = True
        entry = QuarantineOrder(compound_id=world.compound_a.id, household_id=world.household_a.id,
                                reason="returned_from_city", from_city="武汉",
                                starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=13))
        db.session.add(entry)
        db.session.commit()
        return entry.id


def test_reading_one_quarantine_order_is_audited(app, world, as_user):
    order_id = _quarantine_household_a(app, world)
    response = as_user(world.staff_a).get(f"/api/v1/quarantine-orders/{order_id}")
    assert response.status_code == 200 and response.json["from_city"] == "武汉"
    [entry] = _entries(app, "quarantine.read")
    assert (entry.actor_id, entry.object_type, entry.object_id, entry.compound_id) == (
        world.staff_a.id, "quarantine_order", str(order_id), world.compound_a.id)
    assert entry.reason  # routine work, recorded as such
    # a read refused for scope leaves no trace of the order
    assert as_user(world.staff_b).get(f"/api/v1/quarantine-orders/{order_id}").status_code == 404
    assert len(_entries(app, "quarantine.read")) == 1


def test_reading_household_members_is_audited(app, world, as_user):
    for user in (world.staff_a, world.resident_a):
        assert as_user(user).get(f"/api/v1/households/{world.household_a.id}/members").status_code == 200
    entries = _entries(app, "household.members.read")
    assert sorted(e.actor_id for e in entries) == sorted([world.staff_a.id, world.resident_a.id])
    assert {(e.object_type, e.object_id, e.compound_id) for e in entries} == {
        ("household", str(world.household_a.id), world.compound_a.id)}


def test_staff_reading_a_delivery_request_and_the_queue_is_audited(app, world, as_user):
    _quarantine_household_a(app, world)
    created = as_user(world.resident_a).post("/api/v1/deliveries", json=order(urgency=["medicine"]))
    assert created.status_code == 201
    delivery_id = created.json["id"]
    assert as_user(world.resident_a).get(f"/api/v1/deliveries/{delivery_id}").status_code == 200
    assert _entries(app, "delivery.read") == []  # the household reading its own request
    assert as_user(world.staff_a).get(f"/api/v1/deliveries/{delivery_id}").status_code == 200
    [entry] = _entries(app, "delivery.read")
    assert (entry.actor_id, entry.object_type, entry.object_id, entry.compound_id) == (
        world.staff_a.id, "delivery_request", str(delivery_id), world.compound_a.id)
    assert as_user(world.staff_a).get(f"/api/v1/compounds/{world.compound_a.id}/delivery-queue").status_code == 200
    [queue] = _entries(app, "delivery.queue")
    assert (queue.actor_id, queue.compound_id) == (world.staff_a.id, world.compound_a.id)
