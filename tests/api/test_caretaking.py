"""Caretaking (托管): the alliance admin entrusts a compound without a company to a member company for a
period; the hand-over and its end are recorded and audited; at most one is active per compound."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server.extensions import db
from server.models.audit import AuditEntry
from server.models.caretaking import Caretaking
from server.models.compounds import Compound
from tests.concurrency import run_together
from tests.factories import make_company, make_user

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def _url(world, suffix: str = "") -> str:
    return f"/api/v1/alliance/compounds/{world.compound_orphan.id}/caretaking{suffix}"


def _households(client, world):
    return client.get(f"/api/v1/compounds/{world.compound_orphan.id}/households")


def _audit(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


def test_hand_over_then_end_is_recorded_and_audited(app, world, as_user):
    admin, staff_b = as_user(world.admin), as_user(world.staff_b)
    assert _households(staff_b, world).status_code == 404
    given = admin.post(_url(world), json={"company_id": world.company_b.id, "note": "疫情期间托管"})
    assert given.status_code == 201, given.json
    body = given.json
    assert (body["company_id"], body["handed_over_by_id"], body["ends_at"], body["active"]) == \
        (world.company_b.id, world.admin.id, None, True)
    assert _households(staff_b, world).status_code == 200
    assert world.compound_orphan.id in as_user(world.staff_b).get("/api/v1/me").json["scope"]["compound_ids"]
    assert _households(as_user(world.staff_a), world).status_code == 404
    [entry] = _audit(app, "caretaking.hand_over")
    assert (entry.actor_id, entry.compound_id, entry.object_id, entry.reason) == \
        (world.admin.id, world.compound_orphan.id, str(body["id"]), "疫情期间托管")
    assert entry.detail["company_id"] == world.company_b.id

    ended = admin.post(_url(world, f"/{body['id']}/end"), json={"note": "已找到物业公司"})
    assert ended.status_code == 200
    assert (ended.json["active"], ended.json["ended_by_id"], ended.json["end_note"]) == (False, world.admin.id, "已找到物业公司")
    assert ended.json["ends_at"] is not None
    assert _households(staff_b, world).status_code == 404
    assert _households(admin, world).status_code == 200  # the admin runs it again
    [end_entry] = _audit(app, "caretaking.end")
    assert (end_entry.actor_id, end_entry.object_id) == (world.admin.id, str(body["id"]))
    again = admin.post(_url(world, f"/{body['id']}/end"), json={})
    assert (again.status_code, again.json["reason"]) == (409, "caretaking_ended")

    history = admin.get(_url(world)).json
    assert history["total"] == 1 and history["items"][0]["id"] == body["id"]


def test_only_compounds_without_a_company_and_only_active_members(app, world, as_user):
    admin = as_user(world.admin)
    own = admin.post(f"/api/v1/alliance/compounds/{world.compound_a.id}/caretaking", json={"company_id": world.company_b.id})
    assert (own.status_code, own.json["reason"]) == (409, "compound_has_company")
    with app.app_context():
        from server.models.companies import Company
        db.session.get(Company, world.company_b.id).membership = "suspended"
        db.session.commit()
    refused = admin.post(_url(world), json={"company_id": world.company_b.id})
    assert (refused.status_code, refused.json["reason"]) == (409, "company_not_member")
    assert admin.post(_url(world), json={"company_id": 999999}).status_code == 404
    assert admin.post(_url(world), json={}).status_code == 422
    for who in (world.staff_a, world.guard_a, world.resident_a):
        assert as_user(who).post(_url(world), json={"company_id": world.company_a.id}).status_code == 403
        assert as_user(who).get(_url(world)).status_code == 403


@pytest.mark.parametrize("body, field", [
    ({"starts_at": "2026-03-01T00:00:00+00:00"}, "starts_at"),
    ({"starts_at": "2026-03-05T00:00:00+00:00", "ends_at": "2026-03-04T00:00:00+00:00"}, "ends_at"),
    ({"ends_at": "2026-03-02T02:00:00+00:00"}, "ends_at"),
    ({"starts_at": "2026-03-05T00:00:00"}, "starts_at"),
])
def test_bad_periods_are_422(world, as_user, body, field):
    with time_machine.travel(T0, tick=False):
        response = as_user(world.admin).post(_url(world), json={"company_id": world.company_b.id, **body})
    assert response.status_code == 422 and field in response.json["errors"]["json"]


def test_periods_may_follow_each_other_but_not_overlap(app, world, as_user):
    def clients():
        return as_user(world.admin), as_user(world.staff_a), as_user(world.staff_b)

    with time_machine.travel(T0, tick=False):
        admin, staff_a, staff_b = clients()
        later = admin.post(_url(world), json={"company_id": world.company_b.id,
                                              "starts_at": (T0 + timedelta(days=2)).isoformat(),
                                              "ends_at": (T0 + timedelta(days=5)).isoformat()})
        assert later.status_code == 201 and later.json["active"] is False
        first = admin.post(_url(world), json={"company_id": world.company_a.id,
                                              "ends_at": (T0 + timedelta(days=2)).isoformat()})
        assert first.status_code == 201 and first.json["active"] is True
        clash = admin.post(_url(world), json={"company_id": world.company_a.id,
                                              "starts_at": (T0 + timedelta(days=4)).isoformat()})
        assert (clash.status_code, clash.json["reason"]) == (409, "caretaking_overlaps")
        assert clash.json["caretaking_id"] == later.json["id"]
        assert _households(staff_a, world).status_code == 200 and _households(staff_b, world).status_code == 404
        assert _households(admin, world).status_code == 404
    with time_machine.travel(T0 + timedelta(days=3), tick=False):
        admin, staff_a, staff_b = clients()
        assert _households(staff_a, world).status_code == 404 and _households(staff_b, world).status_code == 200
    with time_machine.travel(T0 + timedelta(days=6), tick=False):
        admin, staff_a, staff_b = clients()
        assert _households(staff_b, world).status_code == 404 and _households(admin, world).status_code == 200
        # A hand-over withdrawn before it began leaves an empty period that blocks nothing.
        upcoming = admin.post(_url(world), json={"company_id": world.company_b.id,
                                                 "starts_at": (T0 + timedelta(days=8)).isoformat()})
        withdrawn = admin.post(_url(world, f"/{upcoming.json['id']}/end"), json={"note": "取消"})
        assert withdrawn.status_code == 200 and withdrawn.json["ends_at"] == withdrawn.json["starts_at"]
        assert admin.post(_url(world), json={"company_id": world.company_a.id}).status_code == 201


def test_a_compound_in_care_gets_no_company_until_the_care_ends(world, as_user):
    admin = as_user(world.admin)
    care = admin.post(_url(world), json={"company_id": world.company_b.id}).json
    patch = admin.patch(f"/api/v1/compounds/{world.compound_orphan.id}", json={"company_id": world.company_a.id})
    assert (patch.status_code, patch.json["reason"]) == (409, "compound_entrusted")
    assert admin.post(_url(world, f"/{care['id']}/end"), json={}).status_code == 200
    assert admin.patch(f"/api/v1/compounds/{world.compound_orphan.id}",
                       json={"company_id": world.company_a.id}).status_code == 200


def test_another_alliance_sees_nothing(app, world, as_user):
    from server.models.alliance import Alliance

    with app.app_context():
        other = Alliance(name="别的联盟")
        db.session.add(other)
        db.session.flush()
        stranger = make_user(other, "alliance_admin")
        their_company = make_company(other, "外联物业")
        db.session.commit()
    given = as_user(world.admin).post(_url(world), json={"company_id": world.company_b.id}).json
    client = as_user(stranger)
    assert client.get(_url(world)).status_code == 404
    assert client.post(_url(world), json={"company_id": their_company.id}).status_code == 404
    assert client.post(_url(world, f"/{given['id']}/end"), json={}).status_code == 404
    assert as_user(world.admin).post(_url(world), json={"company_id": their_company.id}).status_code == 404


def test_two_hand_overs_at_once_one_wins(app, world, as_user):
    admin_1, admin_2 = as_user(world.admin), as_user(world.admin)
    results = run_together([
        lambda: admin_1.post(_url(world), json={"company_id": world.company_a.id}),
        lambda: admin_2.post(_url(world), json={"company_id": world.company_b.id}),
    ])
    assert sorted(r.status_code for r in results) == [201, 409]
    with app.app_context():
        assert len(db.session.scalars(select(Caretaking)).all()) == 1


def test_postgresql_itself_refuses_overlapping_periods(app, world):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the EXCLUDE constraint is PostgreSQL's; SQLite relies on the locked service check")
        compound = db.session.get(Compound, world.compound_orphan.id)
        db.session.add(Caretaking(compound_id=compound.id, company_id=world.company_a.id, starts_at=T0,
                                  ends_at=T0 + timedelta(days=3)))
        db.session.flush()
        db.session.add(Caretaking(compound_id=compound.id, company_id=world.company_b.id,
                                  starts_at=T0 + timedelta(days=2), ends_at=None))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_the_caretaker_posts_guards_there(app, world, as_user):
    admin = as_user(world.admin)
    invites = f"/api/v1/compounds/{world.compound_orphan.id}/guard-invites"
    missing = admin.post(invites, json={})
    assert missing.status_code == 422 and "company_id" in missing.json["errors"]["json"]
    invite = admin.post(invites, json={"company_id": world.company_b.id})
    assert invite.status_code == 201
    with app.app_context():
        from server.models.people import Invite
        stored = db.session.scalar(select(Invite).where(Invite.code == invite.json["code"]))
        assert (stored.kind, stored.company_id, stored.compound_id) == ("guard", world.company_b.id, world.compound_orphan.id)
        posted = make_user(world.alliance, "guard", company=world.company_b, compound=db.session.get(
            Compound, world.compound_orphan.id), name="张本轩")
        db.session.commit()
    assert [g["id"] for g in admin.get("/api/v1/guards").json["items"]] == [posted.id]
    assert as_user(world.staff_a).post(f"/api/v1/compounds/{world.compound_a.id}/guard-invites",
                                       json={"company_id": world.company_b.id}).status_code == 422

    # Entrusted to company B: its staff roster B's guards there without a loan.
    assert admin.post(_url(world), json={"company_id": world.company_b.id}).status_code == 201
    staff_b = as_user(world.staff_b)
    assert admin.get("/api/v1/guards").json["total"] == 0  # handed over
    with app.app_context():
        from tests.factories import make_gate
        gate = make_gate(db.session.get(Compound, world.compound_orphan.id), "正门")
        db.session.commit()
    start = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    shift = staff_b.post(f"/api/v1/gates/{gate.id}/shifts", json={"starts_at": start.isoformat(),
                                                                   "ends_at": (start + timedelta(hours=8)).isoformat()})
    assert shift.status_code == 201, shift.json
    seated = staff_b.post(f"/api/v1/shifts/{shift.json['id']}/assignments", json={"guard_id": world.guard_b.id})
    assert seated.status_code == 201, seated.json
    refused = staff_b.post(f"/api/v1/shifts/{shift.json['id']}/assignments", json={"guard_id": world.guard_a.id})
    assert refused.status_code in (404, 422)
