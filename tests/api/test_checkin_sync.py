"""Offline sync: batches of queued scans, answered per item, idempotent under retries; pass reuse flagged."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import select

from server.extensions import db
from server.models.alerts import Alert
from server.models.checkins import CheckIn
from server.services.gate import pass_tokens, passes
from tests.api.checkin_helpers import T0, _fresh_key_cache, count, pass_of  # noqa: F401 - an autouse fixture
from tests.concurrency import run_together
from tests.factories import make_gate


def test_batch_upload_is_idempotent_under_retries(app, world, as_user):
    with time_machine.travel(T0, tick=False):
        codes = [pass_of(as_user, world.resident_a) for _ in range(3)]
    items = [{"kind": "scan", "pass_code": code, "gate_id": world.gate_a.id, "direction": "out",
              "client_id": f"offline-{i}", "device_time": (T0 + timedelta(seconds=10 * i)).isoformat()}
             for i, code in enumerate(codes)]
    items.append({"kind": "manual", "gate_id": world.gate_a.id, "household_id": world.household_a.id,
                  "direction": "in", "person_name": "李大爷", "reason": "无手机", "client_id": "offline-m",
                  "device_time": T0.isoformat()})
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):  # uploaded long after the passes expired
        guard = as_user(world.guard_a)
        first = guard.post("/api/v1/checkins/batch", json={"items": items})
        assert first.status_code == 200
        assert [r["status"] for r in first.json["results"]] == [201, 201, 201, 201]
        assert all(r["checkin"]["reason"] == "ok" for r in first.json["results"])
        # The device lost the answer and sends everything again, plus one new scan.
        late = {"kind": "scan", "pass_code": codes[0], "gate_id": world.gate_a.id, "direction": "in",
                "client_id": "offline-late", "device_time": (T0 + timedelta(minutes=10)).isoformat()}
        second = guard.post("/api/v1/checkins/batch", json={"items": [*items, late]})
    statuses = [r["status"] for r in second.json["results"]]
    assert statuses == [200, 200, 200, 200, 201]
    assert [r["checkin"]["id"] for r in second.json["results"][:4]] == [r["checkin"]["id"]
                                                                        for r in first.json["results"]]
    assert second.json["results"][4]["checkin"]["reason"] == "pass_expired"
    assert count(app, CheckIn) == 5
    with app.app_context():
        times = db.session.scalars(select(CheckIn.occurred_at).order_by(CheckIn.id)).all()
        assert times[:3] == [T0, T0 + timedelta(seconds=10), T0 + timedelta(seconds=20)]


@time_machine.travel(T0, tick=False)
def test_batch_answers_each_item_on_its_own(app, world, as_user):
    guard = as_user(world.guard_a)
    code = pass_of(as_user, world.resident_a)
    good = {"kind": "scan", "pass_code": code, "gate_id": world.gate_a.id, "direction": "in", "client_id": "b-1",
            "device_time": T0.isoformat()}
    guard.post("/api/v1/checkins/batch", json={"items": [good]})
    items = [
        {**good, "direction": "out"},                               # same client id, other body
        {**good, "client_id": "b-2", "temperature": 50},            # invalid
        {**good, "client_id": "b-3", "gate_id": world.gate_b.id},   # another compound's gate
        {**good, "client_id": "b-4", "device_time": (T0 + timedelta(hours=1)).isoformat()},  # from the future
        {**good, "client_id": "b-5", "kind": "teleport"},
        {**{k: v for k, v in good.items() if k != "device_time"}, "client_id": "b-6"},
        {**good, "client_id": "b-7"},
    ]
    results = guard.post("/api/v1/checkins/batch", json={"items": items}).json["results"]
    assert [r["status"] for r in results] == [409, 422, 404, 422, 422, 422, 201]
    assert results[0]["error"]["reason"] == "idempotency_mismatch"
    assert results[3]["error"]["reason"] == "device_time_invalid"
    assert count(app, CheckIn) == 2
    assert guard.post("/api/v1/checkins/batch", json={"items": []}).status_code == 422
    assert guard.post("/api/v1/checkins/batch", json={"items": ["x"]}).status_code == 422


@time_machine.travel(T0, tick=False)
def test_a_pass_nonce_seen_at_two_gates_is_flagged(app, world, as_user):
    with app.app_context():
        side = make_gate(db.session.get(type(world.compound_a), world.compound_a.id), "西门")
        db.session.commit()
        side_id = side.id
    code = pass_of(as_user, world.resident_a)
    items = [{"kind": "scan", "pass_code": code, "gate_id": gate_id, "direction": "in", "client_id": f"n-{i}",
              "device_time": T0.isoformat()} for i, gate_id in enumerate((world.gate_a.id, side_id))]
    results = as_user(world.guard_a).post("/api/v1/checkins/batch", json={"items": items}).json["results"]
    assert "pass_reused" not in results[0]["checkin"]["flags"]
    assert "pass_reused" in results[1]["checkin"]["flags"]
    with app.app_context():
        alert = db.session.scalar(select(Alert).where(Alert.kind == "pass_reuse"))
        assert alert.subject_user_id == world.resident_a.id and set(alert.detail["gates"]) == {world.gate_a.id,
                                                                                                side_id}


@time_machine.travel(T0, tick=False)
def test_each_item_needs_its_own_client_id_and_a_known_kind(app, world, as_user):
    guard = as_user(world.guard_a)
    code = pass_of(as_user, world.resident_a)
    item = {"pass_code": code, "gate_id": world.gate_a.id, "direction": "in", "device_time": T0.isoformat()}
    results = guard.post("/api/v1/checkins/batch", headers={"Idempotency-Key": "whole-batch"},
                         json={"items": [item, {**item, "kind": ["scan"], "client_id": "k-1"},
                                         {**item, "gate_id": 2**40, "client_id": "k-2"}]}).json["results"]
    assert [r["status"] for r in results] == [422, 422, 422]
    assert count(app, CheckIn) == 0


def test_synthetic_traffic(app):
    from server.demo.synth import generate_district

    with app.app_context():
        counts = generate_district(2, 120, 3, seed=3)
        db.session.commit()
        rows = db.session.execute(select(CheckIn.direction, CheckIn.method, CheckIn.visitor_id,
                                         CheckIn.temperature, CheckIn.server_time)).all()
        assert len(rows) == counts["checkins"] + counts["visitor_checkins"]
        residents = [r for r in rows if r.visitor_id is None]
        # every trip goes out first; the way back may still be ahead (today) or refused (a fever)
        outs = sum(r.direction == "out" for r in residents)
        assert outs >= len(residents) - outs >= outs - counts["fevers"] - 2 * 120 * 0.42 * 2
        assert {r.method for r in residents} == {"self_scan", "guard_scan"}
        guard_ins = [r for r in residents if r.method == "guard_scan" and r.direction == "in"]
        assert guard_ins and all(r.temperature is not None for r in guard_ins)
        assert counts["temperature_readings"] == len(guard_ins)
        # the morning rush: more leave between 7 and 9 (local) than in the whole night
        local_hours = [(r.server_time.hour + 8) % 24 for r in residents if r.direction == "out"]
        assert sum(7 <= h < 9 for h in local_hours) > sum(h < 5 for h in local_hours) * 5


@time_machine.travel(T0, tick=False)
def test_simultaneous_retries_store_one_checkin(app, world, as_user):
    code = pass_of(as_user, world.resident_a)
    clients = [as_user(world.guard_a) for _ in range(4)]
    body = {"pass_code": code, "gate_id": world.gate_a.id, "direction": "in", "client_id": "race-1"}
    answers = run_together([lambda c=c: c.post("/api/v1/checkins", json=body) for c in clients])
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 201]
    assert len({a.json["id"] for a in answers}) == 1
    assert count(app, CheckIn) == 1


@time_machine.travel(T0, tick=False)
def test_one_pass_scanned_at_two_gates_at_the_same_moment_is_flagged_once(app, world, as_user):
    with app.app_context():
        west = make_gate(db.session.merge(world.compound_a), "西门").id
        db.session.commit()
    gates = (world.gate_a.id, west)
    for attempt in range(6):
        code = pass_of(as_user, world.resident_a)  # a screenshot forwarded to a friend at the other gate
        clients = [as_user(world.guard_a), as_user(world.guard_a)]
        bodies = [{"pass_code": code, "gate_id": gate, "direction": "in", "client_id": f"race-{attempt}-{gate}"}
                  for gate in gates]
        answers = run_together([lambda c=c, body=body: c.post("/api/v1/checkins", json=body)
                                for c, body in zip(clients, bodies, strict=True)])
        assert [a.status_code for a in answers] == [201, 201], [a.json for a in answers]
        assert sorted("pass_reused" in a.json["flags"] for a in answers) == [False, True], attempt
        reused = next(a.json for a in answers if "pass_reused" in a.json["flags"])
        first = next(a.json for a in answers if "pass_reused" not in a.json["flags"])
        with app.app_context():
            alert = db.session.scalar(select(Alert).where(Alert.kind == "pass_reuse",
                                                          Alert.detail["checkin_id"].as_integer() == reused["id"]))
            assert alert is not None and alert.detail["gates"] == [first["gate"]["id"], reused["gate"]["id"]]
    assert count(app, CheckIn) == 12


def test_a_nonce_drawn_again_months_later_is_another_pass_not_a_reuse(app, world, as_user):
    # The 4-byte nonce repeats for one person now and then; the issue time tells the two codes apart.
    with app.app_context():
        pass_id = passes.encode_pass_id(world.resident_a.id)
    flags = []
    for day in (0, 60):
        at = T0 + timedelta(days=day)
        with time_machine.travel(at, tick=False), app.app_context():
            code = pass_tokens.issue_pass(passes.signing_key(at), pass_id, at, passes.PASS_TTL_SECONDS).code
        with time_machine.travel(at + timedelta(seconds=5), tick=False):
            body = {"pass_code": code, "gate_id": world.gate_a.id, "direction": "in", "client_id": f"day-{day}"}
            answer = as_user(world.guard_a).post("/api/v1/checkins", json=body)
        assert answer.status_code == 201, answer.json
        flags.append(answer.json["flags"])
    assert ["pass_reused" in f for f in flags] == [False, False]
    assert count(app, Alert, Alert.kind == "pass_reuse") == 0
    with app.app_context():
        stored = db.session.scalars(select(CheckIn).order_by(CheckIn.id)).all()
        assert [c.pass_nonce for c in stored] == [pass_id.hex()] * 2
        assert [c.first_pass_nonce for c in stored] == [pass_id.hex()] * 2


@time_machine.travel(T0, tick=False)
def test_a_pass_reused_in_another_compound_first_still_alerts_its_own_compound(app, world, as_user):
    # A screenshot of a pass shown twice at compound B, then at the holder's own compound A: B's staff
    # and A's staff each get their alert (one alert for all compounds would leave A's never told).
    code = pass_of(as_user, world.resident_a)
    for i in range(2):
        as_user(world.guard_b).post("/api/v1/checkins", json={"pass_code": code, "gate_id": world.gate_b.id,
                                                               "direction": "in", "client_id": f"b-{i}"})
    at_home = as_user(world.guard_a).post("/api/v1/checkins", json={"pass_code": code, "gate_id": world.gate_a.id,
                                                                    "direction": "in", "client_id": "a-1"}).json
    assert "pass_reused" in at_home["flags"]
    with app.app_context():
        alerts = {a.compound_id: a for a in db.session.scalars(select(Alert).where(Alert.kind == "pass_reuse"))}
    assert set(alerts) == {world.compound_a.id, world.compound_b.id}
    home = alerts[world.compound_a.id]
    assert home.subject_user_id == world.resident_a.id and home.detail["gates"] == [None, world.gate_a.id]
    assert alerts[world.compound_b.id].subject_user_id is None  # B keeps nothing linking to A's resident
