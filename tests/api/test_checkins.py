"""Gate check-ins by the guard's scan: every reason code, scope, pass reuse, bad input, the hot path's queries."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import event, select

from server.extensions import db
from server.models.alerts import Alert
from server.models.checkins import CheckIn
from server.plumbing.masking import mask_name
from server.services.gate import passes
from tests.api.checkin_helpers import (
    T0,
    _fresh_key_cache,  # noqa: F401 - an autouse fixture
    cid,
    count,
    give_consent,
    pass_of,
    quarantine,
    scan,
    self_scan,
    session_statements,
    set_user,
)
from tests.factories import make_gate


@time_machine.travel(T0, tick=False)
def test_guard_scan_allows_a_resident_and_records_everything(app, world, as_user):
    give_consent(as_user, world.resident_a)
    code = pass_of(as_user, world.resident_a)
    device_time = "2020-02-03T08:29:58+08:00"
    response = scan(as_user(world.guard_a), code, world.gate_a.id, "out", temperature=36.5, device_time=device_time)
    assert response.status_code == 201, response.json
    body = response.json
    assert (body["decision"], body["reason"], body["action"], body["color"]) == ("allowed", "ok", "pass", "green")
    assert body["subject"]["name"] == "王**" and body["subject"]["kind"] == "resident"
    assert body["message"] == "放行" and body["status_text"] == "可通行"
    with app.app_context():
        row = db.session.get(CheckIn, body["id"])
        assert (row.gate_id, row.subject_user_id, row.direction, row.method, row.guard_id) == (
            world.gate_a.id, world.resident_a.id, "out", "guard_scan", world.guard_a.id)
        assert row.server_time == T0 and row.device_time == T0 - timedelta(seconds=2)
        assert str(row.temperature) == "36.5" and row.lawful_basis == "consent"
        assert len(row.pass_nonce) == 16


@time_machine.travel(T0, tick=False)
def test_english_reply(app, world, as_user):
    code = pass_of(as_user, world.resident_a)
    response = as_user(world.guard_a).post("/api/v1/checkins", headers={"Accept-Language": "en"}, json={
        "pass_code": code, "gate_id": world.gate_a.id, "direction": "in", "client_id": cid()})
    assert response.json["message"] == "Let through" and response.json["status_text"] == "GO"


def test_screenshot_replayed_after_expiry_is_refused(app, world, as_user):
    with time_machine.travel(T0, tick=False):
        code = pass_of(as_user, world.resident_a)
    with time_machine.travel(T0 + timedelta(seconds=50), tick=False):
        assert scan(as_user(world.guard_a), code, world.gate_a.id).json["reason"] == "ok"
    with time_machine.travel(T0 + timedelta(seconds=120), tick=False):
        response = scan(as_user(world.guard_a), code, world.gate_a.id)
    assert response.status_code == 201
    assert (response.json["decision"], response.json["reason"], response.json["action"]) == (
        "denied", "pass_expired", "stop")
    assert count(app, CheckIn, CheckIn.reason == "pass_expired", CheckIn.subject_user_id.is_(None)) == 1


@time_machine.travel(T0, tick=False)
def test_edited_or_forged_pass_is_refused(app, world, as_user):
    from server.services.gate.pass_tokens import SigningKey, generate_keypair, issue_pass

    code = pass_of(as_user, world.resident_a)
    flipped = code[:20] + ("A" if code[20] != "A" else "B") + code[21:]
    guard = as_user(world.guard_a)
    assert scan(guard, flipped, world.gate_a.id).json["reason"] == "pass_invalid"
    assert scan(guard, code[:-1], world.gate_a.id).json["reason"] == "pass_invalid"
    assert scan(guard, "hello", world.gate_a.id).json["reason"] == "pass_invalid"
    # A forger who knows the format and the kid but not the private key.
    with app.app_context():
        kid = passes.signing_key().kid
        forged = issue_pass(SigningKey.from_private_bytes(kid, generate_keypair()[0]),
                            passes.encode_pass_id(world.resident_a.id), T0).code
    response = scan(guard, forged, world.gate_a.id)
    assert (response.json["decision"], response.json["reason"]) == ("denied", "pass_invalid")
    assert count(app, CheckIn, CheckIn.decision == "denied") == 4


@time_machine.travel(T0, tick=False)
def test_resident_of_another_compound_is_refused(app, world, as_user):
    code = pass_of(as_user, world.resident_b)
    assert scan(as_user(world.guard_b), code, world.gate_b.id).json["reason"] == "ok"  # at home first
    response = scan(as_user(world.guard_a), code, world.gate_a.id)
    assert (response.json["decision"], response.json["reason"]) == ("denied", "not_registered")
    assert response.json["subject"]["name"] == mask_name(world.resident_b.display_name)  # whose pass it is
    assert "pass_reused" in response.json["flags"]
    assert self_scan(as_user(world.resident_b), world.gate_a.code).json["reason"] == "not_registered"
    # Compound A keeps nothing of a compound B resident: no link to the person, their household or
    # where else they went (their own self scan is only counted: tests/api/test_checkins_strangers.py).
    with app.app_context():
        here = db.session.scalars(select(CheckIn).where(CheckIn.compound_id == world.compound_a.id)).all()
        assert [(c.subject_user_id, c.household_id) for c in here] == [(None, None)]
        alert = db.session.scalar(select(Alert).where(Alert.kind == "pass_reuse"))
        assert (alert.compound_id, alert.subject_user_id, alert.detail["gates"]) == (
            world.compound_a.id, None, [None, world.gate_a.id])
    listed = as_user(world.staff_a).get(f"/api/v1/compounds/{world.compound_a.id}/checkins").json["items"]
    assert [(i["subject_kind"], i["name"], i["phone"]) for i in listed] == [("unknown", None, None)]


@time_machine.travel(T0, tick=False)
def test_visitor_of_another_compound_is_not_expected_and_not_kept(app, world, as_user):
    visitor = as_user(world.resident_b).post("/api/v1/visitors", json={
        "name": "王建华", "phone": "13900001111", "expected_date": "2020-02-03", "from_city": "北京"}).json
    response = scan(as_user(world.guard_a), visitor["pass_code"], world.gate_a.id)
    assert (response.json["decision"], response.json["reason"]) == ("denied", "visitor_not_expected")
    with app.app_context():
        row = db.session.scalar(select(CheckIn).where(CheckIn.compound_id == world.compound_a.id))
        assert (row.visitor_id, row.household_id, row.person_name) == (None, None, "")
    listed = as_user(world.staff_a).get(f"/api/v1/compounds/{world.compound_a.id}/checkins").json["items"]
    assert [(i["subject_kind"], i["name"]) for i in listed] == [("unknown", None)]


@time_machine.travel(T0, tick=False)
def test_unapproved_resident_gets_no_pass_and_removed_one_is_refused(app, world, as_user):
    code = pass_of(as_user, world.resident_a)
    resident, guard = as_user(world.resident_a), as_user(world.guard_a)  # (signing in merges the world's rows)
    set_user(app, world.resident_a.id, residency="removed")
    assert scan(guard, code, world.gate_a.id).json["reason"] == "not_registered"
    response = resident.get("/api/v1/me/pass")
    assert response.status_code == 409 and response.json["reason"] == "not_registered"


@time_machine.travel(T0, tick=False)
def test_closed_gate(app, world, as_user):
    with app.app_context():
        side = make_gate(db.session.get(type(world.compound_a), world.compound_a.id), "侧门", kind="side",
                         is_open=False)
        db.session.commit()
        side_id = side.id
    response = scan(as_user(world.guard_a), pass_of(as_user, world.resident_a), side_id)
    assert (response.json["decision"], response.json["reason"]) == ("denied", "gate_closed")


@time_machine.travel(T0, tick=False)
def test_quarantined_resident_may_come_home_but_not_leave(app, world, as_user):
    quarantine(app, world, household_id=world.household_a.id)
    guard = as_user(world.guard_a)
    out = scan(guard, pass_of(as_user, world.resident_a), world.gate_a.id, "out").json
    assert (out["decision"], out["reason"], out["color"]) == ("denied", "quarantined", "red")
    back = scan(guard, pass_of(as_user, world.resident_a), world.gate_a.id, "in").json
    assert (back["decision"], back["reason"]) == ("allowed", "ok") and "quarantined" in back["flags"]


@time_machine.travel(T0, tick=False)
def test_lifted_or_ended_quarantine_does_not_stop_anyone(app, world, as_user):
    quarantine(app, world, user_id=world.resident_a.id, start=T0 - timedelta(days=20), days=14)
    out = scan(as_user(world.guard_a), pass_of(as_user, world.resident_a), world.gate_a.id, "out").json
    assert out["reason"] == "ok"


@time_machine.travel(T0, tick=False)
def test_guard_acts_only_at_gates_of_their_compound(app, world, as_user):
    response = scan(as_user(world.guard_b), pass_of(as_user, world.resident_a), world.gate_a.id)
    assert response.status_code == 404
    assert count(app, CheckIn) == 0


@time_machine.travel(T0, tick=False)
def test_a_pass_scanned_twice_at_the_same_gate_is_flagged_but_a_retry_is_not(app, world, as_user):
    guard = as_user(world.guard_a)
    code = pass_of(as_user, world.resident_a)
    body = {"pass_code": code, "gate_id": world.gate_a.id, "direction": "in", "client_id": "first-scan"}
    first = guard.post("/api/v1/checkins", json=body).json
    retry = guard.post("/api/v1/checkins", json=body).json
    assert "pass_reused" not in first["flags"] and retry["replayed"] and "pass_reused" not in retry["flags"]
    assert count(app, Alert, Alert.kind == "pass_reuse") == 0
    # Another guard device (another client id) at the same gate: someone else shows the same code.
    other = guard.post("/api/v1/checkins", json={**body, "client_id": "second-scan"}).json
    assert "pass_reused" in other["flags"]
    with app.app_context():
        alert = db.session.scalar(select(Alert).where(Alert.kind == "pass_reuse"))
        assert alert.detail["gates"] == [world.gate_a.id, world.gate_a.id]
        assert alert.detail["checkin_id"] == other["id"]


@time_machine.travel(T0, tick=False)
def test_out_of_range_ids_and_times_are_422_not_500(app, world, as_user):
    guard, staff = as_user(world.guard_a), as_user(world.staff_a)
    code = pass_of(as_user, world.resident_a)
    for extra in ({"device_time": "9999-12-31T23:59:59+00:00"}, {"device_time": "0001-01-01T00:00:00+00:00"},
                  {"device_time": "2020-02-03T08:30:00"}, {"gate_id": 0}, {"gate_id": "1"}):
        body = {"pass_code": code, "gate_id": world.gate_a.id, "direction": "in", "client_id": cid(), **extra}
        assert guard.post("/api/v1/checkins", json=body).status_code == 422, extra
    manual = {"gate_id": world.gate_a.id, "household_id": 2**40, "direction": "in", "reason": "无手机",
              "client_id": cid()}
    assert guard.post("/api/v1/checkins/manual", json=manual).status_code == 422
    assert guard.post("/api/v1/checkins/manual", json={**manual, "household_id": world.household_a.id,
                                                       "subject_user_id": 2**40}).status_code == 422
    batch = {"kind": "walk_in", "gate_id": world.gate_a.id, "name": "赵", "from_city": "北京",
             "declaration_confirmed": True, "household_id": 2**40, "client_id": cid(),
             "device_time": "9999-12-31T00:00:00+00:00"}
    result = guard.post("/api/v1/checkins/batch", json={"items": [batch]}).json["results"][0]
    assert result["status"] == 422 and set(result["error"]["errors"]) == {"household_id", "device_time"}
    for query in ("from=0001-01-01T00:00:00%2B00:00", "to=9999-12-31T00:00:00%2B00:00", "user_id=99999999999",
                  "gate_id=0", "visitor_id=-1"):
        assert staff.get(f"/api/v1/compounds/{world.compound_a.id}/checkins?{query}").status_code == 422, query
    assert count(app, CheckIn) == 0


def test_ids_beyond_the_database_integer_are_404_not_500(app, world, as_user):
    staff, guard = as_user(world.staff_a), as_user(world.guard_a)
    huge = 10**22
    for url in (f"/api/v1/gates/{huge}/checkins", f"/api/v1/compounds/{huge}/checkins/hourly",
                f"/api/v1/visitors/{huge}", f"/api/v1/exposure-requests/{huge}", f"/api/v1/gates/{huge}/poster.svg"):
        assert staff.get(url).status_code == 404, url
    response = guard.post("/api/v1/checkins", json={"pass_code": "x", "gate_id": huge, "direction": "in",
                                                    "client_id": "big"})
    assert response.status_code == 422



@time_machine.travel(T0, tick=False)
def test_the_guard_scan_hot_path_is_the_caller_one_look_up_and_one_insert(app, world, as_user, hot_reads):
    # The idempotent write adds no look-up before the insert: a retry is caught by the unique key.
    # The caller and the gate with the pass holder are read outside the transaction; the insert and
    # the gate's hourly counter (the district statistics) are written outside the request's session
    # too: on PostgreSQL as one statement run alone (its own transaction), so the scan is three round trips with no BEGIN
    # or COMMIT, on SQLite as two statements and a commit on one pooled connection.
    guard = as_user(world.guard_a)
    code = pass_of(as_user, world.resident_a)
    with app.app_context():
        engine = db.engine
    hot_reads.clear()
    with session_statements(app) as statements:
        response = scan(guard, code, world.gate_a.id)
    assert response.status_code == 201, response.json
    caller, gate_and_holder, *write = hot_reads
    assert caller.startswith("SELECT users.") and gate_and_holder.startswith("SELECT gates."), hot_reads
    assert statements == [], statements  # nothing through the request's session
    if engine.dialect.name == "postgresql":
        assert len(write) == 1, hot_reads
        assert write[0].startswith("WITH inserted AS") and "INSERT INTO checkin_hourly" in write[0]
    else:
        insert, counter, commit = write
        assert insert.startswith("INSERT INTO checkins") and counter.startswith("INSERT INTO checkin_hourly")
        assert commit == "COMMIT"
    with app.app_context():
        stored = db.session.get(CheckIn, response.json["id"])
        assert stored.first_pass_nonce == stored.pass_nonce is not None and stored.decision == "allowed"
        assert stored.gate_id == world.gate_a.id and stored.server_time.tzinfo is not None


def test_a_guard_scan_reuses_the_connection_the_last_one_used(app, world, as_user):
    # The pool hands out the connection returned last: on SQLite each connection keeps its own page
    # cache, which another connection's commit empties, so rotating through the pool (its FIFO default)
    # read about twenty pages back from the file per scan; on PostgreSQL the same server process stays
    # warm. A scan's reads outside the transaction and the transaction itself follow one another.
    guard = as_user(world.guard_a)
    codes = [pass_of(as_user, world.resident_a), pass_of(as_user, world.resident_b)]
    with app.app_context():
        engine = db.engine
    used: list[int] = []

    def checked_out(dbapi_connection, record, proxy):
        used.append(id(dbapi_connection))

    with engine.connect(), engine.connect():
        pass  # the pool now holds two connections, as a worker's does after its first overlapping use
    assert scan(guard, codes[0], world.gate_a.id).status_code == 201
    event.listen(engine.pool, "checkout", checked_out)
    try:
        response = scan(guard, codes[1], world.gate_a.id)
    finally:
        event.remove(engine.pool, "checkout", checked_out)
    assert response.status_code == 201, response.json
    assert len(used) >= 2 and len(set(used)) == 1, used
