"""A guard's manual record: by household, by name, of a named member."""

from __future__ import annotations

import time_machine

from server.extensions import db
from server.models.checkins import CheckIn
from tests.api.checkin_helpers import (
    T0,
    _fresh_key_cache,  # noqa: F401 - an autouse fixture
    cid,
    quarantine,
)


@time_machine.travel(T0, tick=False)
def test_manual_record_by_household(app, world, as_user):
    guard = as_user(world.guard_a)
    body = {"gate_id": world.gate_a.id, "household_id": world.household_a.id, "direction": "out",
            "person_name": "王奶奶", "reason": "老人无智能手机", "client_id": cid()}
    response = guard.post("/api/v1/checkins/manual", json=body)
    assert response.status_code == 201
    assert (response.json["decision"], response.json["subject"]["kind"]) == ("allowed", "household")
    assert response.json["subject"]["household"] == "1号楼1单元" + world.household_a.room
    with app.app_context():
        row = db.session.get(CheckIn, response.json["id"])
        assert (row.method, row.person_name, row.note, row.household_id) == (
            "manual", "王奶奶", "老人无智能手机", world.household_a.id)
    missing = guard.post("/api/v1/checkins/manual", json={k: v for k, v in body.items() if k != "reason"})
    assert missing.status_code == 422
    elsewhere = guard.post("/api/v1/checkins/manual", json={**body, "household_id": world.household_b.id,
                                                            "client_id": cid()})
    assert elsewhere.status_code == 404


@time_machine.travel(T0, tick=False)
def test_manual_quarantine_and_fever_by_name(app, world, as_user):
    quarantine(app, world, household_id=world.household_a.id)
    guard = as_user(world.guard_a)
    base = {"gate_id": world.gate_a.id, "household_id": world.household_a.id, "person_name": "小明",
            "reason": "儿童"}
    out = guard.post("/api/v1/checkins/manual", json={**base, "direction": "out", "client_id": cid()}).json
    assert out["reason"] == "quarantined"
    hot = guard.post("/api/v1/checkins/manual", json={**base, "direction": "in", "temperature": 37.8,
                                                      "client_id": cid()}).json
    assert hot["reason"] == "fever_remeasure"
    again = guard.post("/api/v1/checkins/manual", json={**base, "direction": "in", "temperature": 37.9,
                                                        "client_id": cid()}).json
    assert again["reason"] == "fever"


@time_machine.travel(T0, tick=False)
def test_manual_record_of_a_named_member(app, world, as_user):
    guard = as_user(world.guard_a)
    body = {"gate_id": world.gate_a.id, "household_id": world.household_a.id, "direction": "in",
            "subject_user_id": world.resident_a.id, "reason": "手机没电", "client_id": cid()}
    ok = guard.post("/api/v1/checkins/manual", json=body)
    assert ok.status_code == 201 and ok.json["subject"]["kind"] == "resident"
    wrong = guard.post("/api/v1/checkins/manual", json={**body, "subject_user_id": world.resident_b.id,
                                                        "client_id": cid()})
    assert wrong.status_code == 422 and wrong.json["reason"] == "not_household_member"

