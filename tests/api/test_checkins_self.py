"""A resident's self scan of the gate poster: the big status the guard reads, the rotating code."""

from __future__ import annotations

from datetime import datetime, timedelta

import time_machine
from sqlalchemy import func, select

from server.extensions import db
from server.models.checkins import CheckIn
from server.models.compounds import Gate
from server.services.gate.gates import rotating_code
from tests.api.checkin_helpers import (
    T0,
    _fresh_key_cache,  # noqa: F401 - an autouse fixture
    self_scan,
    session_statements,
)


@time_machine.travel(T0, tick=False)
def test_self_scan_of_the_poster_shows_the_guard_a_big_status(app, world, as_user):
    response = self_scan(as_user(world.resident_a), world.gate_a.code, "out")
    assert response.status_code == 201
    body = response.json
    assert (body["decision"], body["status_text"], body["color"]) == ("allowed", "可通行", "green")
    assert body["subject"]["name"] == "王**" and body["gate"]["name"] == "正门"
    assert body["compound"]["name"] == "甲小区" and body["method"] == "self_scan"
    other = self_scan(as_user(world.resident_b), world.gate_a.code).json
    assert (other["decision"], other["reason"], other["status_text"]) == ("denied", "not_registered", "禁止通行")
    assert self_scan(as_user(world.resident_a), "nosuchgatecode").status_code == 404
    url = f"https://wuye.example.cn/g/{world.gate_a.code}"
    assert self_scan(as_user(world.resident_a), url, "in").json["reason"] == "ok"
    # A scanner may hand over the URL with a query (WeChat adds its own); the code is the path's.
    tagged = f"{url}?from=singlemessage&next=/g/ZZZZZZ#top"
    assert self_scan(as_user(world.resident_a), tagged, "in").json["reason"] == "ok"
    assert self_scan(as_user(world.resident_a), "http://[not-a-url/g/x").status_code == 404


@time_machine.travel(T0, tick=False)
def test_rotating_gate_refuses_a_photo_of_the_poster(app, world, as_user):
    with app.app_context():
        db.session.get(Gate, world.gate_a.id).rotating_code = True
        db.session.commit()
    resident = as_user(world.resident_a)
    stale = self_scan(resident, world.gate_a.code).json
    assert (stale["decision"], stale["reason"]) == ("denied", "gate_code_expired")
    live = as_user(world.guard_a).get(f"/api/v1/gates/{world.gate_a.id}/live-code").json
    assert live["url"] == f"https://wuye.example.cn/g/{live['code']}"
    assert datetime.fromisoformat(live["expires_at"]) - T0 <= timedelta(seconds=60)
    assert self_scan(resident, live["code"]).json["reason"] == "ok"
    with time_machine.travel(T0 + timedelta(seconds=61), tick=False):
        assert self_scan(resident, live["code"]).json["reason"] == "gate_code_expired"
    forged = live["code"][:-1] + ("a" if live["code"][-1] != "a" else "b")
    assert self_scan(resident, forged).status_code == 404
    with app.app_context():
        assert rotating_code(db.session.get(Gate, world.gate_a.id), T0)[0] == live["code"]



@time_machine.travel(T0, tick=False)
def test_a_retry_replays_after_its_rotating_code_expired(app, world, as_user):
    with app.app_context():
        db.session.get(Gate, world.gate_a.id).rotating_code = True
        db.session.commit()
    live = as_user(world.guard_a).get(f"/api/v1/gates/{world.gate_a.id}/live-code").json["code"]
    resident = as_user(world.resident_a)
    body = {"gate_code": live, "direction": "in", "client_id": "phone-retry-1"}
    first = resident.post("/api/v1/checkins/self", json=body)
    assert first.status_code == 201 and first.json["reason"] == "ok"
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        # The answer was lost on the way; the phone resends the same scan with a code long expired.
        retry = resident.post("/api/v1/checkins/self", json=body)
        assert retry.status_code == 200 and retry.json["replayed"] is True
        assert (retry.json["id"], retry.json["reason"], retry.json["decision"]) == (first.json["id"], "ok", "allowed")
        changed = resident.post("/api/v1/checkins/self", json={**body, "direction": "out"})
        assert changed.status_code == 409 and changed.json["reason"] == "idempotency_mismatch"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CheckIn).where(
            CheckIn.author_id == world.resident_a.id, CheckIn.client_id == "phone-retry-1")) == 1


@time_machine.travel(T0, tick=False)
def test_the_self_scan_reads_outside_the_session_and_writes_at_once(app, world, as_user, hot_reads):
    # As the guard scan: the caller, the retry's look-up and the gate with the resident are read outside
    # the request's transaction, and the row with its hourly count is written on its own (one statement
    # on PostgreSQL; the insert, the count and a commit on SQLite): nothing goes through the session.
    resident = as_user(world.resident_a)
    with app.app_context():
        engine = db.engine
    hot_reads.clear()
    with session_statements(app) as statements:
        response = self_scan(resident, world.gate_a.code, "in")
    assert response.status_code == 201 and response.json["reason"] == "ok", response.json
    assert statements == [], statements
    caller, stored, gate_and_resident, *write = hot_reads
    assert caller.startswith("SELECT users.") and stored.startswith("SELECT checkins.")
    assert gate_and_resident.startswith("SELECT gates.") and "gates.code =" in gate_and_resident
    if engine.dialect.name == "postgresql":
        assert len(write) == 1 and write[0].startswith("WITH inserted AS"), write
    else:
        assert [w.split()[:3] for w in write] == [["INSERT", "INTO", "checkins"], ["INSERT", "INTO", "checkin_hourly"],
                                                 ["COMMIT"]], write
    with app.app_context():
        stored_row = db.session.get(CheckIn, response.json["id"])
        assert (stored_row.method, stored_row.gate_id, stored_row.author_id) == ("self_scan", world.gate_a.id,
                                                                                 world.resident_a.id)


@time_machine.travel(T0, tick=False)
def test_odd_scans_are_clear_answers_and_a_chinese_client_id_replays(app, world, as_user):
    """What a phone's scanner may hand over names no gate (404), never a 500, on both databases (PostgreSQL's
    hot reads send text parameters themselves); a client id in Chinese is stored and a retry under it replays."""
    resident = as_user(world.resident_a)
    for code in ("正门二维码", f"{world.gate_a.code}-zz-zz", " ", "%(code)s", "$1"):
        answer = self_scan(resident, code)
        assert answer.status_code == 404 and answer.json["reason"] == "gate_code_invalid", (code, answer.json)
    too_long = self_scan(resident, "x" * 5000)
    assert too_long.status_code == 422 and "gate_code" in too_long.json["errors"]["json"]
    # A NUL is refused with the body, before any look-up.
    assert self_scan(resident, "abc\x00def").json["reason"] == "bad_request"
    body = {"gate_code": world.gate_a.code, "direction": "in", "client_id": "王奶奶的手机-第1次"}
    first = resident.post("/api/v1/checkins/self", json=body)
    retry = resident.post("/api/v1/checkins/self", json=body)
    assert first.status_code == 201 and retry.status_code in (200, 201)
    assert retry.json["id"] == first.json["id"] and retry.json["subject"]["name"] == "王**"
    with app.app_context():
        assert db.session.scalar(select(CheckIn.client_id).where(CheckIn.id == first.json["id"])) == body["client_id"]
    refused = resident.post("/api/v1/checkins/self", json={**body, "client_id": "手机\t"})
    assert refused.status_code == 422 and "client_id" in refused.json["errors"]["json"]
