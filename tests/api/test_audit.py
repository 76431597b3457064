"""Audit API: the alliance admin reads who read which personal data, when and why."""

from server.extensions import db
from server.models.compounds import Compound


def test_bulk_reads_leave_rows_the_admin_can_filter(world, as_user, app):
    with app.app_context():
        db.session.get(Compound, world.compound_a.id).health_emergency = True
        db.session.commit()
    as_user(world.staff_a).get(f"/api/v1/compounds/{world.compound_a.id}/temperatures")
    as_user(world.staff_a).get(f"/api/v1/compounds/{world.compound_a.id}/quarantine-orders?purpose=周报")
    admin = as_user(world.admin)
    log = admin.get("/api/v1/audit").json
    assert log["total"] == 2
    newest = log["items"][0]
    assert (newest["action"], newest["actor_id"], newest["reason"]) == ("quarantine.list", world.staff_a.id, "周报")
    assert newest["compound_id"] == world.compound_a.id and newest["at"]
    only = admin.get("/api/v1/audit?action=temperature.list").json["items"]
    assert [e["reason"] for e in only] == ["日常防疫管理"]
    assert admin.get(f"/api/v1/audit?actor_id={world.staff_b.id}").json["total"] == 0
    assert admin.get("/api/v1/audit?since=2000-01-01T00:00:00").status_code == 422


def test_only_the_alliance_admin_reads_it(world, as_user):
    for user in (world.staff_a, world.guard_a, world.resident_a):
        assert as_user(user).get("/api/v1/audit").status_code == 403


def test_out_of_range_filters_are_422(world, as_user):
    admin = as_user(world.admin)
    for query, field in [("actor_id=18446744073709551616", "actor_id"), ("compound_id=18446744073709551616", "compound_id"),
                         ("actor_id=0", "actor_id"), ("since=0001-01-01T00:00:00%2B00:00", "since"),
                         ("until=9999-12-31T23:59:59%2B00:00", "until")]:
        response = admin.get(f"/api/v1/audit?{query}")
        assert response.status_code == 422 and field in str(response.json["errors"]), query
    assert admin.get("/api/v1/audit?since=2026-01-01T00:00:00%2B08:00").status_code == 200
