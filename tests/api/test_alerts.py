"""Alerts API: staff see their compounds' alerts and acknowledge each once."""

import pytest

from server.extensions import db
from server.plumbing.alerts import raise_alert


@pytest.fixture
def alerts(app, world):
    """A fever alert in compound A and a welfare one in compound B."""
    with app.app_context():
        fever = raise_alert(world.compound_a.id, "fever", subject_user_id=world.resident_a.id,
                            detail={"celsius": "37.6"}, dedupe_key="t-fever")
        welfare = raise_alert(world.compound_b.id, "welfare", subject_user_id=world.resident_b.id)
        again = raise_alert(world.compound_a.id, "fever", dedupe_key="t-fever")
        assert again.id == fever.id
        db.session.commit()
        return fever.id, welfare.id


def test_staff_see_only_their_compounds(world, as_user, alerts):
    fever_id, welfare_id = alerts
    mine = as_user(world.staff_a).get("/api/v1/alerts").json
    assert [a["id"] for a in mine["items"]] == [fever_id] and mine["items"][0]["detail"]["celsius"] == "37.6"
    assert [a["id"] for a in as_user(world.staff_b).get("/api/v1/alerts").json["items"]] == [welfare_id]
    assert as_user(world.staff_a).get("/api/v1/alerts?kind=welfare").json["total"] == 0
    assert as_user(world.staff_a).get("/api/v1/alerts?kind=nonsense").status_code == 422


def test_acknowledge_once(world, as_user, alerts):
    fever_id, welfare_id = alerts
    staff = as_user(world.staff_a)
    done = staff.post(f"/api/v1/alerts/{fever_id}/acknowledge", json={"note": "已送医"})
    assert done.status_code == 200 and done.json["acknowledged_by_id"] == world.staff_a.id
    assert done.json["detail"]["note"] == "已送医"
    again = staff.post(f"/api/v1/alerts/{fever_id}/acknowledge", json={})
    assert again.status_code == 409 and again.json["reason"] == "alert_acknowledged"
    assert staff.get("/api/v1/alerts?open=true").json["total"] == 0
    assert staff.post(f"/api/v1/alerts/{welfare_id}/acknowledge", json={}).status_code == 404


def test_listing_alerts_is_an_audited_bulk_read(world, as_user, alerts, app):
    from sqlalchemy import select

    from server.models.audit import AuditEntry

    fever_id, _ = alerts
    assert as_user(world.staff_a).get(f"/api/v1/alerts?compound_id={world.compound_a.id}&open=true").status_code == 200
    with app.app_context():
        [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "alert.list")).all()
        assert (entry.actor_id, entry.actor_role, entry.compound_id) == (world.staff_a.id, "staff", world.compound_a.id)
        assert entry.detail["rows"] == 1 and entry.detail["alert_ids"] == [fever_id] and entry.detail["open"] is True
        assert entry.reason  # routine work is recorded as such


@pytest.mark.parametrize("query", ["compound_id=18446744073709551616", "compound_id=0", "compound_id=x"])
def test_out_of_range_filters_are_422(world, as_user, query):
    response = as_user(world.staff_a).get(f"/api/v1/alerts?{query}")
    assert response.status_code == 422 and "compound_id" in str(response.json["errors"])
