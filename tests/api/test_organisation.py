"""The organisation: companies, compounds, gates, buildings, households, residents and guards, by scope."""

from __future__ import annotations

from sqlalchemy import select

from server.extensions import db
from server.models.compounds import Gate
from server.models.people import User


def test_admin_manages_companies_and_compounds(world, as_user):
    admin = as_user(world.admin)
    created = admin.post("/api/v1/companies", json={"name": "丙物业", "contact_phone": "010-1234"})
    assert created.status_code == 201 and created.json["name"] == "丙物业"
    assert admin.post("/api/v1/companies", json={"name": "丙物业"}).status_code == 409
    listing = admin.get("/api/v1/companies?page_size=2")
    assert listing.json["total"] == 3 and len(listing.json["items"]) == 2
    assert listing.headers["X-Total-Count"] == "3"
    compound = admin.post("/api/v1/compounds", json={"name": "黄平路8号院", "company_id": None})
    assert compound.status_code == 201 and compound.json["company_id"] is None
    assert compound.json["timezone"] == "Asia/Shanghai"
    bad = admin.post("/api/v1/compounds", json={"name": "新小区", "company_id": 424242})
    assert bad.status_code == 422 and "company_id" in bad.json["errors"]["json"]
    assert admin.patch(f"/api/v1/compounds/{compound.json['id']}",
                       json={"company_id": created.json["id"]}).json["company_id"] == created.json["id"]
    # a company in use cannot be deleted; an unused one can
    assert admin.delete(f"/api/v1/companies/{world.company_a.id}").status_code == 409
    spare = admin.post("/api/v1/companies", json={"name": "丁物业"}).json
    assert admin.delete(f"/api/v1/companies/{spare['id']}").status_code == 204


def test_staff_see_only_their_company(world, as_user):
    staff = as_user(world.staff_a)
    assert [c["id"] for c in staff.get("/api/v1/compounds").json["items"]] == [world.compound_a.id]
    assert [c["id"] for c in staff.get("/api/v1/companies").json["items"]] == [world.company_a.id]
    for url in (f"/api/v1/compounds/{world.compound_b.id}", f"/api/v1/companies/{world.company_b.id}",
                f"/api/v1/gates/{world.gate_b.id}", f"/api/v1/households/{world.household_b.id}",
                f"/api/v1/compounds/{world.compound_b.id}/gates",
                f"/api/v1/compounds/{world.compound_orphan.id}"):
        response = staff.get(url)
        assert response.status_code == 404, url
        assert response.json["reason"] == "not_found"
    # writes out of scope: 404 and nothing changed
    assert staff.patch(f"/api/v1/gates/{world.gate_b.id}", json={"is_open": False}).status_code == 404
    assert staff.patch(f"/api/v1/compounds/{world.compound_b.id}", json={"lockdown": True}).status_code == 404
    assert as_user(world.staff_b).get(f"/api/v1/gates/{world.gate_b.id}").json["is_open"] is True


def test_staff_cannot_reassign_compound_company(world, as_user):
    response = as_user(world.staff_a).patch(f"/api/v1/compounds/{world.compound_a.id}",
                                           json={"company_id": world.company_b.id})
    assert response.status_code == 422
    lockdown = as_user(world.staff_a).patch(f"/api/v1/compounds/{world.compound_a.id}", json={"lockdown": True})
    assert lockdown.status_code == 200 and lockdown.json["lockdown"] is True


def test_gates_buildings_households(app, world, as_user):
    staff = as_user(world.staff_a)
    gate = staff.post(f"/api/v1/compounds/{world.compound_a.id}/gates",
                      json={"name": "西侧门", "kind": "side", "is_open": False})
    assert gate.status_code == 201
    code = gate.json["code"]
    assert 1 <= len(code) <= 32 and code.isalnum()
    assert staff.post(f"/api/v1/compounds/{world.compound_a.id}/gates", json={"name": "西侧门"}).status_code == 409
    assert staff.post(f"/api/v1/compounds/{world.compound_a.id}/gates",
                      json={"name": "东门", "kind": "back"}).status_code == 422
    renewed = staff.post(f"/api/v1/gates/{gate.json['id']}/code")
    assert renewed.json["code"] != code
    with app.app_context():
        assert db.session.scalar(select(Gate.code).where(Gate.id == gate.json["id"])) == renewed.json["code"]

    building = staff.post(f"/api/v1/compounds/{world.compound_a.id}/buildings", json={"name": "3号楼"})
    assert building.status_code == 201
    household = staff.post(f"/api/v1/compounds/{world.compound_a.id}/households",
                           json={"building_id": building.json["id"], "unit": "2", "room": "101"})
    assert household.status_code == 201 and household.json["label"] == "3号楼2单元101"
    again = staff.post(f"/api/v1/compounds/{world.compound_a.id}/households",
                       json={"building_id": building.json["id"], "unit": "2", "room": "101"})
    assert again.status_code == 409
    # a building of another company's compound cannot be used
    foreign = as_user(world.staff_b).post(f"/api/v1/compounds/{world.compound_b.id}/households",
                                          json={"building_id": building.json["id"], "room": "1"})
    assert foreign.status_code == 422
    listed = staff.get(f"/api/v1/compounds/{world.compound_a.id}/households?building_id={building.json['id']}")
    assert [h["label"] for h in listed.json["items"]] == ["3号楼2单元101"]


def test_resident_binds_with_invite_and_staff_approve(app, world, as_user, client):
    staff = as_user(world.staff_a)
    invite = staff.post(f"/api/v1/households/{world.household_a.id}/invites")
    assert invite.status_code == 201
    code = invite.json["code"]
    with app.app_context():
        newcomer = User(role="resident", alliance_id=world.alliance.id, openid="newcomer", display_name="赵大妈",
                        phone="13912345678")
        db.session.add(newcomer)
        db.session.commit()
    resident = as_user(newcomer)
    bound = resident.post("/api/v1/me/invite", json={"code": code.lower()})
    assert bound.status_code == 200 and bound.json["residency"] == "pending"
    # pending: no scope yet
    assert bound.json["scope"]["household_id"] is None
    assert resident.get(f"/api/v1/households/{world.household_a.id}").status_code == 404
    # single use
    assert as_user(world.resident_b).post("/api/v1/me/invite", json={"code": code}).status_code in (409, 422)
    pending = staff.get(f"/api/v1/compounds/{world.compound_a.id}/residents?residency=pending").json["items"]
    assert [p["id"] for p in pending] == [newcomer.id]
    assert pending[0]["phone"] == "139****5678"
    assert as_user(world.staff_b).post(f"/api/v1/residents/{newcomer.id}/approve").status_code == 404
    assert staff.post(f"/api/v1/residents/{newcomer.id}/approve").json["residency"] == "approved"
    assert resident.get(f"/api/v1/households/{world.household_a.id}").status_code == 200
    members = resident.get(f"/api/v1/households/{world.household_a.id}/members").json
    assert {m["id"] for m in members} == {world.resident_a.id, newcomer.id}
    assert staff.post(f"/api/v1/residents/{newcomer.id}/remove").json["residency"] == "removed"
    assert resident.get(f"/api/v1/households/{world.household_a.id}").status_code == 404


def test_invalid_invite(world, as_user):
    response = as_user(world.resident_a).post("/api/v1/me/invite", json={"code": "NOPE1234"})
    assert response.status_code == 422 and response.json["reason"] == "invite_invalid"


def test_guard_invite_and_moves(app, world, as_user):
    staff = as_user(world.staff_a)
    code = staff.post(f"/api/v1/compounds/{world.compound_a.id}/guard-invites").json["code"]
    with app.app_context():
        person = User(role="resident", alliance_id=world.alliance.id, openid="future-guard")
        db.session.add(person)
        db.session.commit()
    became = as_user(person).post("/api/v1/me/invite", json={"code": code}).json
    assert became["role"] == "guard" and became["company_id"] == world.company_a.id
    assert became["scope"]["compound_ids"] == [world.compound_a.id]
    guards = staff.get("/api/v1/guards").json["items"]
    assert {g["id"] for g in guards} == {world.guard_a.id, person.id}
    moved = staff.patch(f"/api/v1/guards/{person.id}", json={"compound_id": world.compound_b.id})
    assert moved.status_code == 422  # not a compound of this company
    assert as_user(world.staff_b).patch(f"/api/v1/guards/{person.id}", json={"is_active": False}).status_code == 404


def test_guard_and_resident_read_only_their_compound(world, as_user):
    guard = as_user(world.guard_a)
    assert guard.get(f"/api/v1/compounds/{world.compound_a.id}/gates").status_code == 200
    assert guard.get(f"/api/v1/compounds/{world.compound_b.id}/gates").status_code == 404
    assert guard.patch(f"/api/v1/gates/{world.gate_a.id}", json={"is_open": False}).status_code == 403
    resident = as_user(world.resident_a)
    assert resident.get(f"/api/v1/households/{world.household_a.id}").status_code == 200
    assert resident.get(f"/api/v1/households/{world.household_b.id}").status_code == 404


def test_staff_account_creation(world, as_user, client):
    staff = as_user(world.admin).post(f"/api/v1/companies/{world.company_b.id}/staff",
                                      json={"username": "yi-clerk", "password": "a long password", "display_name": "乙"})
    assert staff.status_code == 201
    assert "password" not in staff.json and "password_hash" not in staff.json
    weak = as_user(world.staff_a).post(f"/api/v1/companies/{world.company_a.id}/staff",
                                       json={"username": "jia2", "password": "short", "display_name": "甲"})
    assert weak.status_code == 422 and "password" in weak.json["errors"]["json"]
    cross = as_user(world.staff_a).post(f"/api/v1/companies/{world.company_b.id}/staff",
                                        json={"username": "evil", "password": "a long password", "display_name": "x"})
    assert cross.status_code == 404
    login = client.post("/api/v1/auth/password", json={"username": "yi-clerk", "password": "a long password"})
    assert login.status_code == 200


def test_chinese_round_trips(world, as_user):
    name = "回龙观·万龙小区（二期）"
    created = as_user(world.admin).post("/api/v1/compounds", json={"name": name, "address": "北京市昌平区"})
    assert created.json["name"] == name
    assert name in created.get_data(as_text=True)  # not \u-escaped
    assert as_user(world.admin).get(f"/api/v1/compounds/{created.json['id']}").json["name"] == name


def test_the_compounds_i_run_are_what_the_console_picker_offers(world, as_user):
    admin, staff_b = as_user(world.admin), as_user(world.staff_b)
    every = {c["id"] for c in admin.get("/api/v1/compounds?page_size=100").json["items"]}
    assert {world.compound_a.id, world.compound_b.id, world.compound_orphan.id} <= every
    assert [c["id"] for c in admin.get("/api/v1/compounds?runs=true").json["items"]] == [world.compound_orphan.id]
    assert [c["id"] for c in staff_b.get("/api/v1/compounds?runs=true").json["items"]] == [world.compound_b.id]
    # entrusted to company B: B's staff run it now, and the admin no longer does
    assert admin.post(f"/api/v1/alliance/compounds/{world.compound_orphan.id}/caretaking",
                      json={"company_id": world.company_b.id}).status_code == 201
    assert admin.get("/api/v1/compounds?runs=true").json["items"] == []
    assert {c["id"] for c in staff_b.get("/api/v1/compounds?runs=true").json["items"]} == {
        world.compound_b.id, world.compound_orphan.id}
    assert admin.get("/api/v1/compounds?runs=maybe").status_code == 422
