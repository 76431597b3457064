"""Gates that help (issue 13): a closed gate names the open ones, posters say closed or are refused for a
rotating gate, an unidentified passer-by's temperature is kept and a fever there still alerts."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from server.extensions import db
from server.models.alerts import Alert
from server.models.compounds import Compound, Gate
from server.models.health import TemperatureReading
from tests.factories import make_gate

T0 = datetime(2020, 2, 3, 0, 30, tzinfo=UTC)  # 08:30 in Beijing
SVG_NS = "{http://www.w3.org/2000/svg}"


def _side_gates(app, world, *, south_open=True) -> dict:
    """Compound A: its main gate 正门 closed, 南门 (open unless told) and a closed 北侧门."""
    with app.app_context():
        compound = db.session.get(Compound, world.compound_a.id)
        db.session.get(Gate, world.gate_a.id).is_open = False
        south = make_gate(compound, "南门", kind="side", is_open=south_open)
        north = make_gate(compound, "北侧门", kind="side", is_open=False)
        db.session.commit()
        return {"south": south.id, "north": north.id, "north_code": north.code}


def _scan(as_user, world, gate_id, **headers):
    code = as_user(world.resident_a).get("/api/v1/me/pass?qr=none").json["code"]
    return as_user(world.guard_a).post("/api/v1/checkins", headers=headers, json={
        "pass_code": code, "gate_id": gate_id, "direction": "in", "client_id": uuid.uuid4().hex})


@time_machine.travel(T0, tick=False)
def test_a_refusal_at_a_closed_gate_names_the_open_gate(app, world, as_user):
    gates = _side_gates(app, world)
    refused = _scan(as_user, world, gates["north"])
    assert refused.status_code == 201
    body = refused.json
    assert (body["decision"], body["reason"]) == ("denied", "gate_closed")
    assert body["message"] == "此门已关闭,请走南门"
    assert body["open_gates"] == [{"id": gates["south"], "name": "南门"}]
    english = _scan(as_user, world, gates["north"], **{"Accept-Language": "en"}).json
    assert english["message"] == "This gate is closed; use 南门"
    # The resident scanning the closed gate's poster is told the same; an allowed scan lists no gates.
    self_scan = as_user(world.resident_a).post("/api/v1/checkins/self", json={
        "gate_code": gates["north_code"], "direction": "in", "client_id": uuid.uuid4().hex}).json
    assert (self_scan["message"], self_scan["open_gates"]) == ("此门已关闭,请走南门", [{"id": gates["south"], "name": "南门"}])
    allowed = _scan(as_user, world, gates["south"]).json
    assert (allowed["reason"], allowed["open_gates"]) == ("ok", [])


@time_machine.travel(T0, tick=False)
def test_with_every_gate_closed_the_plain_refusal_stays(app, world, as_user):
    gates = _side_gates(app, world, south_open=False)
    body = _scan(as_user, world, gates["north"]).json
    assert (body["message"], body["open_gates"]) == ("此门已关闭,请走其他出入口", [])


def test_a_closed_gates_poster_is_marked_closed_and_names_the_open_gate(app, world, as_user):
    gates = _side_gates(app, world)
    staff = as_user(world.staff_a)
    svg = staff.get(f"/api/v1/gates/{gates['north']}/poster.svg")
    assert svg.status_code == 200
    texts = [t.text for t in ET.fromstring(svg.data).iter(f"{SVG_NS}text")]
    assert texts == ["甲小区", "北侧门(已关闭)", "此门已关闭,请走南门"]
    open_one = ET.fromstring(staff.get(f"/api/v1/gates/{gates['south']}/poster.svg").data)
    assert [t.text for t in open_one.iter(f"{SVG_NS}text")] == ["甲小区", "南门", "请使用微信扫码登记出入"]


def test_a_rotating_gate_offers_no_static_poster(app, world, as_user):
    staff = as_user(world.staff_a)
    assert staff.patch(f"/api/v1/gates/{world.gate_a.id}", json={"rotating_code": True}).status_code == 200
    for ext in ("png", "svg", "html"):
        response = staff.get(f"/api/v1/gates/{world.gate_a.id}/poster.{ext}")
        assert response.status_code == 409 and response.json["reason"] == "gate_rotating_no_poster", ext
        assert "动态门禁码" in response.json["message"]
    assert staff.get(f"/api/v1/gates/{world.gate_a.id}/miniprogram-code").json["reason"] == "gate_rotating_no_poster"


@time_machine.travel(T0, tick=False)
def test_an_unidentified_passer_by_is_measured_and_a_fever_alerts(app, world, as_user):
    guard = as_user(world.guard_a)
    url = f"/api/v1/gates/{world.gate_a.id}/temperatures"
    normal = guard.post(url, json={"passer_by": True, "celsius": 36.5, "note": "快递员,蓝色外套"})
    assert normal.status_code == 201, normal.json
    assert (normal.json["outcome"], normal.json["passer_by"], normal.json["note"]) == ("normal", True, "快递员,蓝色外套")
    assert normal.json["subject_user_id"] is None and normal.json["visitor_id"] is None
    first = guard.post(url, json={"passer_by": True, "celsius": 37.8, "note": "老人,无手机"})
    assert first.json["outcome"] == "remeasure"
    # Another passer-by's high reading, not linked to the first, is only their own first high.
    assert guard.post(url, json={"passer_by": True, "celsius": 37.9}).json["outcome"] == "remeasure"
    second = guard.post(url, json={"passer_by": True, "celsius": 37.6, "remeasure_of": first.json["id"],
                                   "client_id": "again"})
    assert second.status_code == 201 and second.json["outcome"] == "fever"
    assert second.json["remeasure_of_id"] == first.json["id"]
    with app.app_context():
        alerts = db.session.scalars(select(Alert).where(Alert.kind == "fever")).all()
        assert len(alerts) == 1 and alerts[0].detail["passer_by"] is True
        assert alerts[0].detail["reading_id"] == second.json["id"]
        assert db.session.scalar(select(TemperatureReading.lawful_basis)
                                 .where(TemperatureReading.id == second.json["id"])) == "consent"
    # A retry of the re-measure answers the stored reading, and raises nothing more.
    replay = guard.post(url, json={"passer_by": True, "celsius": 37.6, "remeasure_of": first.json["id"],
                                   "client_id": "again"})
    assert (replay.json["id"], replay.json["outcome"]) == (second.json["id"], "fever")


@time_machine.travel(T0, tick=False)
def test_passer_by_readings_are_validated(app, world, as_user):
    guard = as_user(world.guard_a)
    url = f"/api/v1/gates/{world.gate_a.id}/temperatures"
    both = guard.post(url, json={"passer_by": True, "subject_user_id": world.resident_a.id, "celsius": 36.5})
    assert both.status_code == 422 and "passer_by" in both.json["errors"]["json"]
    note_only = guard.post(url, json={"subject_user_id": world.resident_a.id, "celsius": 36.5, "note": "x"})
    assert note_only.status_code == 422
    assert guard.post(url, json={"passer_by": True, "celsius": 36.5, "note": "x" * 201}).status_code == 422
    unknown = guard.post(url, json={"passer_by": True, "celsius": 37.6, "remeasure_of": 999999})
    assert unknown.status_code == 422 and unknown.json["reason"] == "remeasure_of_invalid"
    with app.app_context():
        db.session.get(Compound, world.compound_a.id).health_emergency = True
        db.session.commit()
    resident_reading = guard.post(url, json={"subject_user_id": world.resident_a.id, "celsius": 37.6})
    not_a_passer_by = guard.post(url, json={"passer_by": True, "celsius": 37.6,
                                            "remeasure_of": resident_reading.json["id"]})
    assert not_a_passer_by.json["reason"] == "remeasure_of_invalid"
    first = guard.post(url, json={"passer_by": True, "celsius": 37.6}).json["id"]
    with time_machine.travel(T0 + timedelta(minutes=31), tick=False):
        late = as_user(world.guard_a).post(url, json={"passer_by": True, "celsius": 37.6, "remeasure_of": first})
    assert late.status_code == 422 and late.json["reason"] == "remeasure_of_invalid"


def test_the_closed_gates_page_behind_its_qr_names_the_open_gate(app, world, client):
    gates = _side_gates(app, world)
    page = client.get(f"/g/{gates['north_code']}").get_data(as_text=True)
    assert "北侧门(已关闭)" in page and "此门已关闭</strong>,请走南门" in page
