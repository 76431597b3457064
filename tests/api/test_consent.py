"""Consent API: a resident sees, gives and withdraws consent; withdrawal deletes consent-based records."""

from sqlalchemy import func, select

from server.extensions import db
from server.models.compounds import Compound
from server.models.health import TemperatureReading


def _readings(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(TemperatureReading))


def test_give_see_and_withdraw(world, as_user, app):
    resident = as_user(world.resident_a)
    state = resident.get("/api/v1/me/consent").json
    assert state["consented"] is False and state["lawful_basis"] is None and state["history"] == []
    given = resident.post("/api/v1/me/consent", json={"text_version": "v2"})
    assert given.status_code == 201 and given.json["consented"] is True
    assert given.json["current"]["text_version"] == "v2" and given.json["current"]["given_at"]
    assert resident.post("/api/v1/me/consent", json={}).json["history"][0]["id"] == given.json["current"]["id"]
    assert resident.post("/api/v1/me/temperatures", json={"celsius": 36.5}).status_code == 201
    assert _readings(app) == 1

    withdrawn = resident.delete("/api/v1/me/consent")
    assert withdrawn.status_code == 200 and withdrawn.json["consented"] is False
    assert withdrawn.json["deleted"]["readings"] == 1 and withdrawn.json["deleted"]["consents"] == 1
    assert withdrawn.json["history"][0]["withdrawn_at"] is not None
    assert _readings(app) == 0
    refused = resident.post("/api/v1/me/temperatures", json={"celsius": 36.5})
    assert refused.status_code == 409 and refused.json["reason"] == "consent_required"


def test_emergency_records_survive_withdrawal(world, as_user, app):
    with app.app_context():
        db.session.get(Compound, world.compound_a.id).health_emergency = True
        db.session.commit()
    resident = as_user(world.resident_a)
    assert resident.get("/api/v1/me/consent").json["lawful_basis"] == "public_health_emergency"
    resident.post("/api/v1/me/consent", json={})
    resident.post("/api/v1/me/temperatures", json={"celsius": 36.5})
    assert resident.delete("/api/v1/me/consent").json["deleted"]["readings"] == 0
    assert _readings(app) == 1


def test_english_message(world, as_user):
    response = as_user(world.resident_a).post("/api/v1/me/temperatures", json={"celsius": 36.5},
                                              headers={"Accept-Language": "en"})
    assert response.status_code == 409 and "Consent" in response.json["message"]
