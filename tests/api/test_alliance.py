"""The alliance is visible: its summary (aggregates only), and the membership of companies (invited,
active, suspended), every read scoped to the caller's alliance."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from server.extensions import db
from server.models.alliance import Alliance
from server.models.audit import AuditEntry
from server.models.companies import Company
from server.models.compounds import Household
from server.models.people import User
from tests.factories import make_company, make_compound, make_household, make_user

PERSONAL_FIELDS = {"phone", "display_name", "username", "openid", "contact_phone", "household_id", "name_masked"}


def _keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | set().union(*(_keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_keys(v) for v in value)) if value else set()
    return set()


def test_the_admin_sees_every_company_with_counts_equal_to_the_rows(app, world, as_user):
    with app.app_context():
        make_household(world.compound_a)
        make_household(world.compound_orphan)
        make_user(world.alliance, "guard", company=world.company_a, compound=world.compound_a, is_active=False)
        db.session.commit()
        households = dict(db.session.execute(select(Household.compound_id, func.count())
                                             .group_by(Household.compound_id)).all())
        active = dict(db.session.execute(select(User.role, func.count()).where(User.is_active.is_(True))
                                         .group_by(User.role)).all())
    summary = as_user(world.admin).get("/api/v1/alliance")
    assert summary.status_code == 200
    body = summary.json
    assert (body["id"], body["name"]) == (world.alliance.id, "测试联盟")
    by_name = {c["name"]: c for c in body["companies"]}
    a = by_name["甲物业"]
    assert a["membership"] == "active"
    assert a["compounds"] == [{"id": world.compound_a.id, "name": "甲小区", "households": households[world.compound_a.id]}]
    assert (a["households"], a["staff"], a["guards"]) == (2, 1, 1)  # the inactive guard is not counted
    assert body["compounds_without_company"] == [{"id": world.compound_orphan.id, "name": "老旧小区", "households": 1,
                                                  "run_by": "alliance", "caretaker_company_id": None}]
    assert body["totals"] == {"member_companies": 2, "compounds": 3, "households": sum(households.values()),
                              "staff": active["staff"], "guards": active["guard"]}
    assert not _keys(body) & PERSONAL_FIELDS


def test_staff_read_their_alliance_without_personal_data(world, as_user):
    as_user(world.admin).post(f"/api/v1/alliance/compounds/{world.compound_orphan.id}/caretaking",
                              json={"company_id": world.company_b.id})
    body = as_user(world.staff_a).get("/api/v1/alliance").json
    assert {c["name"] for c in body["companies"]} == {"甲物业", "乙物业"}
    b = next(c for c in body["companies"] if c["name"] == "乙物业")
    assert [c["id"] for c in b["caretaken_compounds"]] == [world.compound_orphan.id]
    assert body["compounds_without_company"][0]["run_by"] == "company"
    assert not _keys(body) & (PERSONAL_FIELDS | {"invited_at", "suspended_at"})
    assert "王秀兰" not in json.dumps(body, ensure_ascii=False)
    assert as_user(world.guard_a).get("/api/v1/alliance").status_code == 403
    assert as_user(world.resident_a).get("/api/v1/alliance").status_code == 403


def test_invited_company_joins_when_its_staff_accept(app, world, as_user):
    admin = as_user(world.admin)
    invited = admin.post("/api/v1/alliance/members", json={"name": "新城物业", "contact_phone": "01088886666"})
    assert invited.status_code == 201 and invited.json["membership"] == "invited" and invited.json["invited_at"]
    staff = admin.post(f"/api/v1/companies/{invited.json['id']}/staff",
                       json={"username": "xincheng", "password": "a strong password 1", "display_name": "新城客服"})
    assert staff.status_code == 201
    with app.app_context():
        newcomer = db.session.get(User, staff.json["id"])
    client = as_user(newcomer)
    refused = client.get("/api/v1/alliance")
    assert (refused.status_code, refused.json["reason"]) == (403, "membership_not_active")
    joined = client.post("/api/v1/alliance/membership/accept")
    assert joined.status_code == 200 and joined.json["membership"] == "active" and joined.json["joined_at"]
    assert client.get("/api/v1/alliance").status_code == 200
    again = client.post("/api/v1/alliance/membership/accept")
    assert (again.status_code, again.json["reason"], again.json["membership"]) == (409, "membership_changed", "active")
    assert as_user(world.staff_a).post("/api/v1/alliance/membership/accept").status_code == 409
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "company")).all()
    assert actions == ["alliance.invite", "alliance.join"]


def test_suspension_takes_the_alliance_away_but_not_the_companys_compounds(app, world, as_user):
    admin, staff_b = as_user(world.admin), as_user(world.staff_b)
    care = admin.post(f"/api/v1/alliance/compounds/{world.compound_orphan.id}/caretaking",
                      json={"company_id": world.company_b.id}).json
    orphan_households = f"/api/v1/compounds/{world.compound_orphan.id}/households"
    assert staff_b.get(orphan_households).status_code == 200
    suspended = admin.post(f"/api/v1/alliance/members/{world.company_b.id}/suspend", json={"reason": "多次未履行互助承诺"})
    assert suspended.status_code == 200
    assert (suspended.json["membership"], suspended.json["suspended_reason"]) == ("suspended", "多次未履行互助承诺")
    refused = staff_b.get("/api/v1/alliance")
    assert (refused.status_code, refused.json["reason"]) == (403, "membership_not_active")
    # The compound entrusted to it returns to the admin at once; its own compound stays its own.
    assert staff_b.get(orphan_households).status_code == 404
    assert admin.get(orphan_households).status_code == 200
    assert staff_b.get(f"/api/v1/compounds/{world.compound_b.id}/households").status_code == 200
    history = admin.get(f"/api/v1/alliance/compounds/{world.compound_orphan.id}/caretaking").json["items"]
    assert history[0]["id"] == care["id"] and history[0]["active"] is False and history[0]["ended_by_id"] == world.admin.id
    names = {c["name"] for c in as_user(world.staff_a).get("/api/v1/alliance").json["companies"]}
    assert names == {"甲物业"}
    twice = admin.post(f"/api/v1/alliance/members/{world.company_b.id}/suspend", json={"reason": "x"})
    assert (twice.status_code, twice.json["reason"]) == (409, "membership_changed")
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "alliance.suspend"))
        assert entry.detail["ended_caretaking_ids"] == [care["id"]] and entry.reason == "多次未履行互助承诺"
    back = admin.post(f"/api/v1/alliance/members/{world.company_b.id}/reinstate")
    assert back.status_code == 200 and back.json["membership"] == "active" and back.json["suspended_at"] is None
    assert staff_b.get("/api/v1/alliance").status_code == 200
    assert staff_b.get(orphan_households).status_code == 404  # caretaking is not restored by itself
    assert admin.post(f"/api/v1/alliance/members/{world.company_b.id}/suspend", json={}).status_code == 422


def test_another_alliance_sees_nothing_of_ours(app, world, as_user):
    with app.app_context():
        other = Alliance(name="别的联盟")
        db.session.add(other)
        db.session.flush()
        their_company = make_company(other, "外联物业")
        make_compound(other, their_company, "外联小区")
        their_admin = make_user(other, "alliance_admin")
        their_staff = make_user(other, "staff", company=their_company)
        db.session.commit()
    theirs = as_user(their_admin).get("/api/v1/alliance").json
    assert theirs["name"] == "别的联盟" and [c["name"] for c in theirs["companies"]] == ["外联物业"]
    assert "甲物业" not in json.dumps(theirs, ensure_ascii=False)
    assert as_user(their_staff).get("/api/v1/alliance").json["id"] == theirs["id"]
    client = as_user(their_admin)
    for path in (f"/api/v1/alliance/members/{world.company_a.id}/suspend",
                 f"/api/v1/alliance/members/{world.company_a.id}/reinstate"):
        assert client.post(path, json={"reason": "x"}).status_code == 404
    assert client.get(f"/api/v1/companies/{world.company_a.id}").status_code == 404
    assert as_user(their_staff).get(f"/api/v1/companies/{world.company_a.id}").status_code == 404
    assert as_user(world.admin).post(f"/api/v1/alliance/members/{their_company.id}/suspend",
                                     json={"reason": "x"}).status_code == 404
    with app.app_context():
        assert db.session.get(Company, world.company_a.id).membership == "active"


def test_a_suspended_company_offers_no_guards_for_loans(app, world, as_user):
    from datetime import UTC, datetime, timedelta

    from tests.factories import make_gate

    with app.app_context():
        from server.models.compounds import Compound
        gate = make_gate(db.session.get(Compound, world.compound_orphan.id), "正门")
        db.session.commit()
    admin = as_user(world.admin)
    start = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    shift = admin.post(f"/api/v1/gates/{gate.id}/shifts", json={"starts_at": start.isoformat(),
                                                                 "ends_at": (start + timedelta(hours=8)).isoformat()})
    loan = admin.post(f"/api/v1/shifts/{shift.json['id']}/loan", json={"note": "请联盟协调保安"})
    assert loan.status_code == 201, loan.json
    assert admin.post(f"/api/v1/alliance/members/{world.company_b.id}/suspend", json={"reason": "暂停"}).status_code == 200
    refused = as_user(world.staff_b).post(f"/api/v1/loans/{loan.json['id']}/offers", json={"guard_id": world.guard_b.id})
    assert (refused.status_code, refused.json["reason"]) == (403, "membership_not_active")
    offered = as_user(world.staff_a).post(f"/api/v1/loans/{loan.json['id']}/offers", json={"guard_id": world.guard_a.id})
    assert offered.status_code == 201, offered.json
