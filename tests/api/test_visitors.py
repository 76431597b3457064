"""Visitors: pre-registration with a one-day pass, walk-ins with a travel declaration, who is still inside."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import insert, select, update

from server.extensions import db
from server.models.alerts import Alert
from server.models.audit import AuditEntry
from server.models.checkins import CheckIn, Visitor
from server.models.compounds import Compound
from tests.api.checkin_helpers import _fresh_key_cache, cid  # noqa: F401 - an autouse fixture
from tests.qr_reading import read_qr_texts

T0 = datetime(2020, 2, 3, 2, 0, tzinfo=UTC)  # 10:00 in Beijing, 2020-02-03


def set_address(app, compound_id: int, address: str) -> None:
    """Give a compound an address (its city decides who is a returnee)."""
    with app.app_context():
        db.session.get(Compound, compound_id).address = address
        db.session.commit()


def pre_register(client, **extra):
    """A resident announces a visitor for today."""
    return client.post("/api/v1/visitors", json={"name": "王建华", "phone": "13900001111",
                                                 "expected_date": "2020-02-03", "from_city": "北京",
                                                 "purpose": "探望父母", **extra})


def scan_visitor(guard, code, gate_id, direction="in"):
    """A guard scans a visitor pass."""
    return guard.post("/api/v1/checkins", json={"pass_code": code, "gate_id": gate_id, "direction": direction,
                                                "client_id": cid()})


@time_machine.travel(T0, tick=False)
def test_pre_registered_visitor_comes_in_and_leaves(app, world, as_user):
    set_address(app, world.compound_a.id, "北京市昌平区回龙观")
    resident, guard, staff = as_user(world.resident_a), as_user(world.guard_a), as_user(world.staff_a)
    created = pre_register(resident)
    assert created.status_code == 201
    visitor = created.json
    assert visitor["pass_code"].startswith("WYV.") and visitor["returnee"] is False
    qr = resident.get(f"/api/v1/visitors/{visitor['id']}/pass.png")
    assert read_qr_texts(qr.data) == [visitor["pass_code"]]
    assert resident.get(f"/api/v1/visitors/{visitor['id']}/pass").json["code"] == visitor["pass_code"]
    entry = scan_visitor(guard, visitor["pass_code"], world.gate_a.id).json
    assert (entry["decision"], entry["reason"], entry["subject"]["kind"]) == ("allowed", "ok", "visitor")
    assert entry["subject"]["name"] == "王**" and entry["visitor_id"] == visitor["id"]
    inside = staff.get(f"/api/v1/compounds/{world.compound_a.id}/visitors/inside").json
    assert [v["id"] for v in inside["items"]] == [visitor["id"]]
    assert inside["items"][0]["name"] == "王建华" and inside["items"][0]["phone"] == "139****1111"
    assert inside["items"][0]["pass_code"] is None
    guard_view = guard.get(f"/api/v1/compounds/{world.compound_a.id}/visitors/inside").json["items"][0]
    assert guard_view["name"] == "王**"
    scan_visitor(guard, visitor["pass_code"], world.gate_a.id, "out")
    assert staff.get(f"/api/v1/compounds/{world.compound_a.id}/visitors/inside").json["total"] == 0
    assert as_user(world.staff_b).get(f"/api/v1/compounds/{world.compound_a.id}/visitors/inside").status_code == 404


def test_visitor_not_expected(app, world, as_user):
    with time_machine.travel(T0, tick=False):
        resident = as_user(world.resident_a)
        tomorrow = pre_register(resident, expected_date="2020-02-04").json
        today = pre_register(resident).json
        cancelled = pre_register(resident, name="李四").json
        assert resident.delete(f"/api/v1/visitors/{cancelled['id']}").json["status"] == "cancelled"
        assert resident.delete(f"/api/v1/visitors/{cancelled['id']}").status_code == 409
        guard, guard_b = as_user(world.guard_a), as_user(world.guard_b)
        assert scan_visitor(guard, tomorrow["pass_code"], world.gate_a.id).json["reason"] == "visitor_not_expected"
        assert scan_visitor(guard, cancelled["pass_code"], world.gate_a.id).json["reason"] == "visitor_not_expected"
        other = scan_visitor(guard_b, today["pass_code"], world.gate_b.id).json
        assert (other["decision"], other["reason"]) == ("denied", "visitor_not_expected")
        unknown = scan_visitor(guard, "WYV." + "A" * 24, world.gate_a.id).json
        assert unknown["reason"] == "pass_invalid"
    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        late = scan_visitor(as_user(world.guard_a), today["pass_code"], world.gate_a.id).json
        assert late["reason"] == "visitor_not_expected"


@time_machine.travel(T0, tick=False)
def test_pre_registration_is_validated_and_idempotent(app, world, as_user):
    resident = as_user(world.resident_a)
    assert pre_register(resident, expected_date="2020-02-01").status_code == 422
    assert pre_register(resident, phone="call me").status_code == 422
    assert pre_register(resident, name=" ").status_code == 422
    for invisible in ("\u200b", "\ufeff\u200d", "\u3000\u200b"):  # zero-width, BOM, ideographic space
        refused = pre_register(resident, name=invisible)
        assert refused.status_code == 422 and refused.json["errors"]["json"]["name"] == ["不能为空"]
    first_response = pre_register(resident, client_id="v-1")
    assert first_response.status_code == 201
    first = first_response.json
    again = pre_register(resident, client_id="v-1")
    assert again.status_code == 200 and again.json["id"] == first["id"]
    assert again.json["pass_code"] == first["pass_code"]
    changed = pre_register(resident, client_id="v-1", name="另一个人")
    assert changed.status_code == 409 and changed.json["reason"] == "idempotency_mismatch"
    with app.app_context():
        assert len(db.session.scalars(select(Visitor)).all()) == 1
    assert as_user(world.guard_a).post("/api/v1/visitors", json={}).status_code == 403
    assert as_user(world.resident_b).get(f"/api/v1/visitors/{first['id']}").status_code == 404


@time_machine.travel(T0, tick=False)
def test_pre_registered_returnee_is_flagged(app, world, as_user):
    set_address(app, world.compound_a.id, "北京市昌平区回龙观")
    visitor = pre_register(as_user(world.resident_a), from_city="武汉市").json
    assert visitor["returnee"] is True
    entry = scan_visitor(as_user(world.guard_a), visitor["pass_code"], world.gate_a.id).json
    assert (entry["decision"], entry["reason"]) == ("allowed", "returnee_attention")
    with app.app_context():
        alert = db.session.scalar(select(Alert).where(Alert.kind == "returnee"))
        assert alert.detail["visitor_id"] == visitor["id"] and alert.compound_id == world.compound_a.id


@time_machine.travel(T0, tick=False)
def test_walk_in_with_travel_declaration(app, world, as_user):
    set_address(app, world.compound_a.id, "北京市昌平区回龙观")
    guard = as_user(world.guard_a)
    body = {"gate_id": world.gate_a.id, "name": "赵志刚", "phone": "13900002222", "from_city": "北京",
            "purpose": "送货", "travel_cities": ["天津"], "declaration_confirmed": True,
            "household_id": world.household_a.id, "temperature": 36.6, "client_id": "walk-1"}
    response = guard.post("/api/v1/visitors/walk-in", json=body)
    assert response.status_code == 201, response.json
    assert (response.json["decision"], response.json["reason"]) == ("allowed", "returnee_attention")
    assert guard.post("/api/v1/visitors/walk-in", json=body).json["id"] == response.json["id"]
    with app.app_context():
        visitor = db.session.scalar(select(Visitor))
        assert (visitor.kind, visitor.status, visitor.returnee, visitor.travel_cities) == (
            "walk_in", "inside", True, ["天津"])
        assert db.session.scalar(select(CheckIn.visitor_id)) == visitor.id
        assert db.session.scalar(select(Alert.kind)) == "returnee"
        assert len(db.session.scalars(select(Visitor)).all()) == 1
    for loose in ("yes", 1, "true", None):  # the declaration is confirmed in so many words
        refused = guard.post("/api/v1/visitors/walk-in", json={**body, "declaration_confirmed": loose,
                                                                 "client_id": "walk-loose"})
        assert refused.status_code == 422 and "declaration_confirmed" in refused.json["errors"]["json"], loose
    local = guard.post("/api/v1/visitors/walk-in", json={**body, "travel_cities": [], "client_id": "walk-2",
                                                          "name": "钱七"}).json
    assert local["reason"] == "ok"
    refused = guard.post("/api/v1/visitors/walk-in", json={**body, "declaration_confirmed": False,
                                                            "client_id": "walk-3"})
    assert refused.status_code == 422 and refused.json["reason"] == "declaration_required"
    elsewhere = guard.post("/api/v1/visitors/walk-in", json={**body, "household_id": world.household_b.id,
                                                              "client_id": "walk-4"})
    assert elsewhere.status_code == 404


@time_machine.travel(T0, tick=False)
def test_visitor_lists_by_role(app, world, as_user):
    pre_register(as_user(world.resident_a))
    pre_register(as_user(world.resident_b), name="孙八")
    assert as_user(world.resident_a).get("/api/v1/visitors").json["total"] == 1
    assert [v["name"] for v in as_user(world.staff_b).get("/api/v1/visitors").json["items"]] == ["孙八"]
    assert as_user(world.guard_a).get("/api/v1/visitors?status=expected").json["items"][0]["name"] == "王**"


@time_machine.travel(T0, tick=False)
def test_expected_date_and_list_filters_are_bounded(app, world, as_user):
    resident, staff = as_user(world.resident_a), as_user(world.staff_a)
    assert pre_register(resident, expected_date="2020-03-04").status_code == 201  # today + 30 days
    too_far = pre_register(resident, expected_date="2020-03-05")
    assert too_far.status_code == 422 and too_far.json["reason"] == "expected_date_too_far"
    for day in ("9999-12-31", "0001-01-01", "2020-02-30", "tomorrow"):
        assert pre_register(resident, expected_date=day).status_code == 422, day
    for query in ("compound_id=99999999999999999999", "compound_id=0", "compound_id=x", "date=9999-12-31",
                  "date=0001-01-01"):
        assert staff.get(f"/api/v1/visitors?{query}").status_code == 422, query


@time_machine.travel(T0, tick=False)
def test_visitor_lists_are_audited(app, world, as_user):
    resident, staff, guard = as_user(world.resident_a), as_user(world.staff_a), as_user(world.guard_a)
    visitor = pre_register(resident).json
    scan_visitor(guard, visitor["pass_code"], world.gate_a.id)
    assert resident.get("/api/v1/visitors").json["total"] == 1
    assert staff.get(f"/api/v1/visitors?compound_id={world.compound_a.id}").json["total"] == 1
    assert guard.get(f"/api/v1/compounds/{world.compound_a.id}/visitors/inside").json["total"] == 1
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action.like("visitors.%"))
                                     .order_by(AuditEntry.id)).all()
        assert [(e.action, e.actor_id, e.compound_id, e.detail["returned"]) for e in entries] == [
            ("visitors.list", world.staff_a.id, world.compound_a.id, 1),
            ("visitors.inside", world.guard_a.id, world.compound_a.id, 1)]
        assert all(e.reason for e in entries)


@time_machine.travel(T0, tick=False)
def test_returnee_visitor_notifies_staff_once(app, world, as_user):
    from server.models.notifications import Notification
    from tests.api.checkin_helpers import set_user

    set_user(app, world.staff_a.id, openid="openid-staff-a")
    set_address(app, world.compound_a.id, "北京市昌平区回龙观")
    visitor = pre_register(as_user(world.resident_a), from_city="武汉市").json
    guard = as_user(world.guard_a)
    scan_visitor(guard, visitor["pass_code"], world.gate_a.id)
    scan_visitor(guard, visitor["pass_code"], world.gate_a.id, "out")
    with app.app_context():
        alert = db.session.scalar(select(Alert).where(Alert.kind == "returnee"))
        messages = db.session.scalars(select(Notification)).all()
        assert [(n.user_id, n.kind, n.page) for n in messages] == [
            (world.staff_a.id, "alert", f"pages/alerts/detail?id={alert.id}")]


@time_machine.travel(T0, tick=False)
def test_a_phone_the_column_cannot_hold_is_a_field_error_and_spoils_no_other_queued_scan(app, world, as_user):
    guard, resident = as_user(world.guard_a), as_user(world.resident_a)
    walk_in = {"gate_id": world.gate_a.id, "name": "赵志刚", "from_city": "北京",
               "declaration_confirmed": True, "household_id": world.household_a.id, "device_time": T0.isoformat()}
    for phone in ("+" + "1" * 20, "1" * 20, "13912345678\n", "１３９１２３４５６７８", "١٣٩١٢٣٤٥٦٧٨", "139 1234 5678"):
        assert "phone" in pre_register(resident, phone=phone).json["errors"]["json"], phone
        online = guard.post("/api/v1/visitors/walk-in", json={**walk_in, "phone": phone, "client_id": cid()})
        assert online.status_code == 422 and list(online.json["errors"]["json"]) == ["phone"], phone
    manual = {"kind": "manual", "gate_id": world.gate_a.id, "household_id": world.household_a.id,
              "direction": "in", "person_name": "李大爷", "reason": "无手机", "device_time": T0.isoformat()}
    items = [{**manual, "client_id": "m-1"}, {**walk_in, "kind": "walk_in", "phone": "+" + "1" * 20, "client_id": "w-1"},
             {**manual, "client_id": "m-2"}, {**walk_in, "kind": "walk_in", "phone": "+" + "1" * 19,
                                                                   "client_id": "w-2"}]
    results = guard.post("/api/v1/checkins/batch", json={"items": items}).json["results"]
    assert [r["status"] for r in results] == [201, 422, 201, 201], results
    assert list(results[1]["error"]["errors"]) == ["phone"]
    with app.app_context():
        assert db.session.scalars(select(Visitor.phone)).all() == ["+" + "1" * 19]
        assert len(db.session.scalars(select(CheckIn.id)).all()) == 3


def test_an_offline_way_in_uploaded_after_the_visitor_left_does_not_put_them_back_inside(app, world, as_user):
    with time_machine.travel(T0, tick=False):
        visitor = pre_register(as_user(world.resident_a)).json
        guard = as_user(world.guard_a)
        assert scan_visitor(guard, visitor["pass_code"], world.gate_a.id, "out").json["decision"] == "allowed"
        earlier_in = {"kind": "scan", "pass_code": visitor["pass_code"], "gate_id": world.gate_a.id,
                      "direction": "in", "client_id": cid(), "device_time": (T0 - timedelta(minutes=30)).isoformat()}
        uploaded = guard.post("/api/v1/checkins/batch", json={"items": [earlier_in]}).json["results"][0]
        assert (uploaded["status"], uploaded["checkin"]["decision"]) == (201, "allowed")
        staff = as_user(world.staff_a)
        assert staff.get(f"/api/v1/compounds/{world.compound_a.id}/visitors/inside").json["total"] == 0
        with app.app_context():
            stored = db.session.get(Visitor, visitor["id"])
            assert (stored.status, stored.arrived_at, stored.left_at) == ("left", T0 - timedelta(minutes=30), T0)
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):  # and back in for real
        scan_visitor(as_user(world.guard_a), visitor["pass_code"], world.gate_a.id, "in")
        inside = as_user(world.staff_a).get(f"/api/v1/compounds/{world.compound_a.id}/visitors/inside").json
        assert [v["id"] for v in inside["items"]] == [visitor["id"]]


def test_an_offline_way_in_uploaded_while_another_gate_lets_the_visitor_out_leaves_them_out(app, world, as_user):
    # Another gate's "out" at T0 is written but not yet committed when an "in" of T0-30 min, queued
    # offline, is uploaded: the upload must wait for it and see it, not set "inside" over it.
    with time_machine.travel(T0 - timedelta(minutes=60), tick=False):
        visitor = pre_register(as_user(world.resident_a)).json
        assert scan_visitor(as_user(world.guard_a), visitor["pass_code"], world.gate_a.id, "in").json["decision"] == "allowed"
    with time_machine.travel(T0 - timedelta(minutes=40), tick=False):
        assert scan_visitor(as_user(world.guard_a), visitor["pass_code"], world.gate_a.id, "out").json["decision"] == "allowed"
    with time_machine.travel(T0, tick=False), app.app_context():
        guard = as_user(world.guard_a)
        earlier_in = {"kind": "scan", "pass_code": visitor["pass_code"], "gate_id": world.gate_a.id,
                      "direction": "in", "client_id": cid(), "device_time": (T0 - timedelta(minutes=30)).isoformat()}
        results: list = []
        upload = threading.Thread(target=lambda: results.append(
            guard.post("/api/v1/checkins/batch", json={"items": [earlier_in]}).json["results"][0]))
        with db.engine.connect() as other_gate:
            other_gate.execute(update(Visitor).where(Visitor.id == visitor["id"]).values(status="left", left_at=T0))
            other_gate.execute(insert(CheckIn).values(
                compound_id=world.compound_a.id, gate_id=world.gate_a.id, visitor_id=visitor["id"], direction="out",
                method="guard_scan", decision="allowed", reason="ok", author_id=world.guard_a.id,
                client_id="in-flight", fingerprint="x", lawful_basis="consent", occurred_at=T0, server_time=T0))
            upload.start()
            upload.join(timeout=0.5)  # the upload is now waiting for the other gate's write
            other_gate.commit()
        upload.join(timeout=30)
        assert (results[0]["status"], results[0]["checkin"]["decision"]) == (201, "allowed")
        stored = db.session.get(Visitor, visitor["id"])
        assert (stored.status, stored.arrived_at, stored.left_at) == ("left", T0 - timedelta(minutes=60), T0)
