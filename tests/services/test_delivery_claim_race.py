"""Claims at the same moment, on real threads with their own sessions: exactly one wins, the rest get 409."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from server.extensions import db
from server.models.deliveries import DeliveryEvent, DeliveryRequest
from server.models.health import QuarantineOrder
from tests.concurrency import run_together
from tests.factories import make_user

RACES = 6
RUNNERS = 3


def _post_together(clients, bodies) -> list:
    """Each client submits its body at the same moment; the responses in order."""
    return run_together([lambda c=c, b=b: c.post("/api/v1/deliveries", json=b) for c, b in zip(clients, bodies,
                                                                                              strict=True)])


def test_concurrent_claims_have_exactly_one_winner(app, world, as_user, monkeypatch):
    with app.app_context():
        now = datetime.now(UTC)
        db.session.add(QuarantineOrder(compound_id=world.compound_a.id, household_id=world.household_a.id,
                                       reason="returned_from_city", starts_at=now - timedelta(hours=1),
                                       ends_at=now + timedelta(days=14)))
        staff = [world.staff_a] + [make_user(world.alliance, "staff", company=world.company_a, name=f"客服{i}")
                                   for i in range(RUNNERS - 1)]
        db.session.commit()
    monkeypatch.setitem(app.config, "MAX_OPEN_DELIVERIES", RACES)
    resident = as_user(world.resident_a)
    clients = [as_user(user) for user in staff]
    staff_ids = {user.id for user in staff}
    for race in range(RACES):
        delivery_id = resident.post("/api/v1/deliveries", json={
            "client_id": f"race-{race}", "items": [{"name": "大米", "quantity": 1, "unit": "袋"}]}).json["id"]
        statuses = [r.status_code for r in run_together(
            [lambda c=c, d=delivery_id: c.post(f"/api/v1/deliveries/{d}/claim") for c in clients])]
        assert sorted(statuses) == [200] + [409] * (RUNNERS - 1), statuses
        with app.app_context():
            row = db.session.get(DeliveryRequest, delivery_id)
            assert row.status == "claimed" and row.claimed_by_id in staff_ids
            claims = db.session.scalar(select(func.count()).where(DeliveryEvent.request_id == delivery_id,
                                                                  DeliveryEvent.action == "claim"))
            assert claims == 1


def test_concurrent_submissions_respect_the_open_limit(app, world, as_user, monkeypatch):
    with app.app_context():
        now = datetime.now(UTC)
        db.session.add(QuarantineOrder(compound_id=world.compound_a.id, household_id=world.household_a.id,
                                       reason="returned_from_city", starts_at=now - timedelta(hours=1),
                                       ends_at=now + timedelta(days=14)))
        members = [world.resident_a] + [make_user(world.alliance, "resident", household=world.household_a,
                                                  name=f"家人{i}") for i in range(RUNNERS - 1)]
        db.session.commit()
    monkeypatch.setitem(app.config, "MAX_OPEN_DELIVERIES", 1)
    clients = [as_user(user) for user in members]
    item = [{"name": "牛奶", "quantity": 2, "unit": "盒"}]
    statuses = [r.status_code for r in _post_together(clients, [{"client_id": f"m{i}", "items": item}
                                                                for i in range(RUNNERS)])]
    assert sorted(statuses) == [201] + [409] * (RUNNERS - 1), statuses
    # the same retry sent twice at once by one device is stored once
    resident = [as_user(world.resident_b)] * 2
    with app.app_context():
        db.session.add(QuarantineOrder(compound_id=world.compound_b.id, household_id=world.household_b.id,
                                       reason="returned_from_city", starts_at=now - timedelta(hours=1),
                                       ends_at=now + timedelta(days=14)))
        db.session.commit()
    answers = _post_together(resident, [{"client_id": "same", "items": item}] * 2)
    assert sorted(a.status_code for a in answers) == [200, 201], [a.json for a in answers]
    assert answers[0].json["id"] == answers[1].json["id"]
    with app.app_context():
        counts = [db.session.scalar(select(func.count()).where(DeliveryRequest.household_id == h))
                  for h in (world.household_a.id, world.household_b.id)]
    assert counts == [1, 1]


def test_the_same_retry_sent_at_once_is_replayed(app, world, as_user, monkeypatch):
    """A retry racing its first attempt waits for it and answers 200 with the stored request, many times over."""
    with app.app_context():
        now = datetime.now(UTC)
        db.session.add(QuarantineOrder(compound_id=world.compound_a.id, household_id=world.household_a.id,
                                       reason="returned_from_city", starts_at=now - timedelta(hours=1),
                                       ends_at=now + timedelta(days=14)))
        db.session.commit()
    monkeypatch.setitem(app.config, "MAX_OPEN_DELIVERIES", RACES)
    clients = [as_user(world.resident_a)] * 2
    item = [{"name": "牛奶", "quantity": 2, "unit": "盒"}]
    for race in range(RACES):
        answers = _post_together(clients, [{"client_id": f"retry-{race}", "items": item}] * 2)
        assert sorted(a.status_code for a in answers) == [200, 201], [a.json for a in answers]
        assert answers[0].json["id"] == answers[1].json["id"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(
            DeliveryRequest.household_id == world.household_a.id)) == RACES
