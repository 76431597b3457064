"""Check-in retries and answers: a replay answers the stored row, a changed body conflicts, every answer is the documented schema."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from server.extensions import db
from server.models.checkins import CheckIn
from server.schemas.checkins import CheckInReplySchema
from server.services.gate.checkins import reply_of
from tests.api.checkin_helpers import (
    T0,
    _fresh_key_cache,  # noqa: F401 - an autouse fixture
    cid,
    count,
    give_consent,
    pass_of,
    scan,
    self_scan,
    set_user,
)


@time_machine.travel(T0, tick=False)
def test_retry_returns_the_stored_result_and_a_changed_body_conflicts(app, world, as_user):
    guard = as_user(world.guard_a)
    body = {"pass_code": pass_of(as_user, world.resident_a), "gate_id": world.gate_a.id, "direction": "in",
            "client_id": "device-1-0001"}
    first = guard.post("/api/v1/checkins", json=body)
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):  # the pass has expired by now
        again = guard.post("/api/v1/checkins", json=body)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json["id"] == first.json["id"] and again.json["reason"] == "ok" and again.json["replayed"]
    changed = guard.post("/api/v1/checkins", json={**body, "direction": "out"})
    assert changed.status_code == 409 and changed.json["reason"] == "idempotency_mismatch"
    assert count(app, CheckIn) == 1
    # The client id may come as an Idempotency-Key header instead: printable, like a body's.
    headerless = {k: v for k, v in body.items() if k != "client_id"}
    for key in ("a\x00b", "\x00", "tab\there"):
        refused = guard.post("/api/v1/checkins", json=headerless, headers={"Idempotency-Key": key})
        assert refused.status_code == 422, refused.json
        assert refused.json["errors"]["headers"]["Idempotency-Key"][0].startswith("required: 1 to 64 printable")
    missing = guard.post("/api/v1/checkins", json=headerless)
    assert missing.status_code == 422 and "client_id" in missing.json["errors"]["json"]
    assert count(app, CheckIn) == 1


@time_machine.travel(T0, tick=False)
def test_online_scan_replays_when_resent_in_a_batch_with_its_device_time(app, world, as_user):
    guard = as_user(world.guard_a)
    body = {"pass_code": pass_of(as_user, world.resident_a), "gate_id": world.gate_a.id, "direction": "in",
            "client_id": "sent-twice"}
    first = guard.post("/api/v1/checkins", json=body)
    assert first.status_code == 201
    # The device never saw the answer, queued the scan and uploads it with the time it took it.
    again = guard.post("/api/v1/checkins/batch", json={"items": [
        {**body, "kind": "scan", "device_time": (T0 - timedelta(seconds=1)).isoformat()}]}).json["results"][0]
    assert again["status"] == 200 and again["checkin"]["id"] == first.json["id"] and again["checkin"]["replayed"]
    online_again = guard.post("/api/v1/checkins", json={**body, "device_time": T0.isoformat()})
    assert online_again.status_code == 200 and online_again.json["id"] == first.json["id"]
    assert count(app, CheckIn) == 1


@time_machine.travel(T0, tick=False)
def test_every_answer_is_what_the_documented_schema_dumps_of_the_stored_row(app, world, as_user):
    give_consent(as_user, world.resident_a)
    guard = as_user(world.guard_a)
    body = {"pass_code": pass_of(as_user, world.resident_a), "gate_id": world.gate_a.id, "direction": "out",
            "temperature": 37.8, "device_time": "2020-02-03T08:29:58+08:00", "client_id": cid()}
    scanned = guard.post("/api/v1/checkins", json=body)
    replayed = guard.post("/api/v1/checkins", json=body)
    manual = guard.post("/api/v1/checkins/manual", json={
        "gate_id": world.gate_a.id, "household_id": world.household_a.id, "direction": "in",
        "person_name": "王奶奶", "reason": "老人无智能手机", "client_id": cid()})
    walk_in = guard.post("/api/v1/visitors/walk-in", json={
        "gate_id": world.gate_a.id, "name": "赵志刚", "from_city": "北京", "travel_cities": ["天津"],
        "declaration_confirmed": True, "client_id": cid()})
    forged = scan(guard, "WY1." + "A" * 128, world.gate_a.id)
    visitor = as_user(world.resident_a).post("/api/v1/visitors", json={
        "name": "王建华", "expected_date": "2020-02-03", "from_city": "北京", "client_id": cid()}).json
    visiting = scan(guard, visitor["pass_code"], world.gate_a.id)
    self_scanned = self_scan(as_user(world.resident_a), world.gate_a.code, "in")
    queued = guard.post("/api/v1/checkins/batch", json={"items": [{
        "kind": "scan", "pass_code": pass_of(as_user, world.resident_a), "gate_id": world.gate_a.id,
        "direction": "in", "client_id": cid(), "device_time": "2020-02-03T08:29:00+08:00"}]})
    answers = [scanned, replayed, manual, walk_in, forged, visiting, self_scanned]
    assert [a.status_code for a in answers] == [201, 200, 201, 201, 201, 201, 201], [a.json for a in answers]
    batch_item = queued.json["results"][0]
    assert batch_item["status"] == 201 and batch_item["checkin"]["device_time"] == "2020-02-03T00:29:00+00:00"
    assert (scanned.json["temperature"], scanned.json["reason"]) == ("37.8", "fever_remeasure")
    assert scanned.json["device_time"] == "2020-02-03T00:29:58+00:00" and replayed.json["replayed"] is True
    assert walk_in.json["visitor_id"] is not None and forged.json["reason"] == "pass_invalid"
    with app.app_context():
        for answer in answers:
            row = db.session.get(CheckIn, answer.json["id"])
            documented = CheckInReplySchema().dump(reply_of(row, replayed=answer.status_code == 200))
            assert answer.json == documented
        row = db.session.get(CheckIn, batch_item["checkin"]["id"])
        assert batch_item["checkin"] == CheckInReplySchema().dump(reply_of(row))


@time_machine.travel(T0, tick=False)
def test_an_absurd_temperature_is_a_422_and_spoils_no_other_queued_scan(app, world, as_user):
    guard = as_user(world.guard_a)
    code = pass_of(as_user, world.resident_a)
    for absurd in (1e30, "1E+30", 10**400, "NaN", "Infinity", 33.9, 43.1, True):
        body = {"pass_code": code, "gate_id": world.gate_a.id, "direction": "in", "client_id": cid(),
                "temperature": absurd}
        response = guard.post("/api/v1/checkins", json=body)
        assert response.status_code == 422 and "temperature" in response.json["errors"]["json"], absurd
    manual = guard.post("/api/v1/checkins/manual", json={
        "gate_id": world.gate_a.id, "household_id": world.household_a.id, "direction": "in", "reason": "无手机",
        "temperature": 1e30, "client_id": cid()})
    assert manual.status_code == 422
    good = {"kind": "scan", "pass_code": code, "gate_id": world.gate_a.id, "direction": "in",
            "client_id": "queued-1", "device_time": T0.isoformat()}
    bad = {**good, "client_id": "queued-2", "temperature": "1E+30"}
    results = guard.post("/api/v1/checkins/batch", json={"items": [bad, good]}).json["results"]
    assert [r["status"] for r in results] == [422, 201]
    assert "temperature" in results[0]["error"]["errors"]
    assert count(app, CheckIn) == 1


@time_machine.travel(T0, tick=False)
def test_a_retry_answers_the_stored_scan_after_the_guard_left_the_gate(app, world, as_user):
    guard = as_user(world.guard_a)
    body = {"pass_code": pass_of(as_user, world.resident_a), "gate_id": world.gate_a.id, "direction": "in",
            "client_id": cid()}
    first = guard.post("/api/v1/checkins", json=body)
    set_user(app, world.guard_a.id, compound_id=world.compound_b.id)  # moved to another post meanwhile
    again = guard.post("/api/v1/checkins", json=body)
    assert (first.status_code, again.status_code) == (201, 200) and again.json["id"] == first.json["id"]
    changed = guard.post("/api/v1/checkins", json={**body, "direction": "out"})
    fresh = guard.post("/api/v1/checkins", json={**body, "client_id": cid()})
    assert (changed.status_code, fresh.status_code) == (409, 404)
    assert count(app, CheckIn) == 1

