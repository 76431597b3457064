"""Gate check-ins: guard scans, self scans, manual records, offline batches, every reason code, scope."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from server.extensions import db
from server.models.alerts import Alert
from server.models.audit import AuditEntry
from server.models.checkins import CheckIn
from server.models.compounds import Compound, Gate
from server.models.health import QuarantineOrder, TemperatureReading
from server.models.notifications import Notification
from server.models.people import User
from server.plumbing.masking import mask_name
from server.schemas.checkins import CheckInReplySchema
from server.services.gate import passes
from server.services.gate.checkins import reply_of
from server.services.gate.gates import rotating_code
from tests.factories import make_gate, make_household, make_user

T0 = datetime(2020, 2, 3, 0, 30, tzinfo=UTC)  # 08:30 in Beijing


@pytest.fixture(autouse=True)
def _fresh_key_cache():
    passes.forget_cached_keys()
    yield
    passes.forget_cached_keys()


def cid() -> str:
    """A fresh client id."""
    return uuid.uuid4().hex


def pass_of(as_user, resident) -> str:
    """A fresh pass code for the resident, through the API."""
    response = as_user(resident).get("/api/v1/me/pass?qr=none")
    assert response.status_code == 200, response.json
    return response.json["code"]


def give_consent(as_user, resident) -> None:
    """The resident consents to health processing, through the API."""
    assert as_user(resident).post("/api/v1/me/consent", json={}).status_code == 201


def scan(guard_client, code: str, gate_id: int, direction: str = "in", **extra):
    """POST one guard scan."""
    body = {"pass_code": code, "gate_id": gate_id, "direction": direction, "client_id": cid(), **extra}
    return guard_client.post("/api/v1/checkins", json=body)


def set_user(app, user_id: int, **values) -> None:
    """Change a user's columns directly."""
    with app.app_context():
        user = db.session.get(User, user_id)
        for key, value in values.items():
            setattr(user, key, value)
        db.session.commit()


def quarantine(app, world, *, user_id=None, household_id=None, start=T0 - timedelta(days=1), days=14) -> None:
    """Place a home-quarantine order."""
    with app.app_context():
        db.session.add(QuarantineOrder(compound_id=world.compound_a.id, user_id=user_id, household_id=household_id,
                                       reason="returned_from_city", starts_at=start,
                                       ends_at=start + timedelta(days=days)))
        db.session.commit()


def count(app, model, *where) -> int:
    """Rows of a model matching conditions."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


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
    # where else they went.
    with app.app_context():
        here = db.session.scalars(select(CheckIn).where(CheckIn.compound_id == world.compound_a.id)).all()
        assert [(c.subject_user_id, c.household_id) for c in here] == [(None, None), (None, None)]
        alert = db.session.scalar(select(Alert).where(Alert.kind == "pass_reuse"))
        assert (alert.compound_id, alert.subject_user_id, alert.detail["gates"]) == (
            world.compound_a.id, None, [None, world.gate_a.id])
    listed = as_user(world.staff_a).get(f"/api/v1/compounds/{world.compound_a.id}/checkins").json["items"]
    assert [(i["subject_kind"], i["name"], i["phone"]) for i in listed] == [("unknown", None, None)] * 2


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
def test_fever_needs_a_remeasure_then_refuses(app, world, as_user):
    with app.app_context():
        db.session.get(type(world.compound_a), world.compound_a.id).health_emergency = True
        db.session.commit()
    guard = as_user(world.guard_a)
    first = scan(guard, pass_of(as_user, world.resident_a), world.gate_a.id, temperature=38.0).json
    assert (first["decision"], first["reason"], first["action"], first["color"]) == (
        "denied", "fever_remeasure", "remeasure", "orange")
    with time_machine.travel(T0 + timedelta(minutes=3), tick=False):
        second = scan(guard, pass_of(as_user, world.resident_a), world.gate_a.id, temperature=38.2).json
    assert (second["decision"], second["reason"]) == ("denied", "fever")
    assert count(app, Alert, Alert.kind == "fever", Alert.subject_user_id == world.resident_a.id) == 1
    with app.app_context():
        from server.models.health import TemperatureReading

        readings = db.session.scalars(select(TemperatureReading).order_by(TemperatureReading.id)).all()
        assert [(str(r.celsius), r.outcome, r.gate_id) for r in readings] == [
            ("38.0", "remeasure", world.gate_a.id), ("38.2", "fever", world.gate_a.id)]
        assert db.session.scalar(select(CheckIn.lawful_basis).limit(1)) == "public_health_emergency"


@time_machine.travel(T0, tick=False)
def test_fever_without_consent_is_decided_from_the_checkins(app, world, as_user):
    guard = as_user(world.guard_a)
    first = scan(guard, pass_of(as_user, world.resident_a), world.gate_a.id, temperature=37.6).json
    assert first["reason"] == "fever_remeasure" and "temperature_not_recorded" in first["flags"]
    second = scan(guard, pass_of(as_user, world.resident_a), world.gate_a.id, temperature=37.5).json
    assert second["reason"] == "fever"
    assert count(app, Alert, Alert.kind == "fever") == 1


@time_machine.travel(T0, tick=False)
def test_fever_threshold_and_range(app, world, as_user):
    guard = as_user(world.guard_a)
    assert scan(guard, pass_of(as_user, world.resident_a), world.gate_a.id, temperature=37.2).json["reason"] == "ok"
    assert scan(guard, pass_of(as_user, world.resident_a), world.gate_a.id,
                temperature=37.3).json["reason"] == "fever_remeasure"
    for bad in (33.9, 43.1, 36.55, "hot", True):
        response = scan(guard, pass_of(as_user, world.resident_a), world.gate_a.id, temperature=bad)
        assert response.status_code == 422, (bad, response.json)


@time_machine.travel(T0, tick=False)
def test_returnee_is_let_through_flagged_and_staff_alerted(app, world, as_user):
    guard, resident = as_user(world.guard_a), as_user(world.resident_a)
    set_user(app, world.resident_a.id, returned_from="武汉")
    first = scan(guard, resident.get("/api/v1/me/pass").json["code"], world.gate_a.id).json
    assert (first["decision"], first["reason"], first["color"]) == ("allowed", "returnee_attention", "yellow")
    scan(guard, resident.get("/api/v1/me/pass").json["code"], world.gate_a.id, "out")
    with app.app_context():
        alerts = db.session.scalars(select(Alert).where(Alert.kind == "returnee")).all()
        assert len(alerts) == 1 and alerts[0].subject_user_id == world.resident_a.id
        assert alerts[0].detail["returned_from"] == "武汉"


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
def test_guard_acts_only_at_gates_of_their_compound(app, world, as_user):
    response = scan(as_user(world.guard_b), pass_of(as_user, world.resident_a), world.gate_a.id)
    assert response.status_code == 404
    assert count(app, CheckIn) == 0


@time_machine.travel(T0, tick=False)
def test_guard_of_a_cannot_read_b_checkins(app, world, as_user):
    scan(as_user(world.guard_b), pass_of(as_user, world.resident_b), world.gate_b.id)
    guard_a = as_user(world.guard_a)
    assert guard_a.get(f"/api/v1/compounds/{world.compound_b.id}/checkins").status_code == 404
    assert guard_a.get(f"/api/v1/gates/{world.gate_b.id}/checkins").status_code == 404
    assert as_user(world.staff_a).get(f"/api/v1/compounds/{world.compound_b.id}/checkins").status_code == 404
    own = as_user(world.guard_b).get(f"/api/v1/compounds/{world.compound_b.id}/checkins")
    assert own.status_code == 200 and own.json["total"] == 1


# --- self scan -------------------------------------------------------------------------------------------


def self_scan(client, gate_code: str, direction: str = "in", **extra):
    """POST a resident's scan of a gate code."""
    return client.post("/api/v1/checkins/self",
                       json={"gate_code": gate_code, "direction": direction, "client_id": cid(), **extra})


def gate_row(app, gate_id: int) -> Gate:
    """A gate, detached."""
    with app.app_context():
        return db.session.get(Gate, gate_id)


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


# --- manual ----------------------------------------------------------------------------------------------


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


# --- staff views -----------------------------------------------------------------------------------------


@time_machine.travel(T0, tick=False)
def test_lists_filter_and_mask_by_role(app, world, as_user):
    guard = as_user(world.guard_a)
    scan(guard, pass_of(as_user, world.resident_a), world.gate_a.id, "out")
    scan(guard, "bogus", world.gate_a.id, "in")
    with app.app_context():
        other = make_user(world.alliance, "resident", household=make_household(world.compound_a), name="赵六")
        db.session.commit()
    scan(guard, pass_of(as_user, other), world.gate_a.id, "in")
    staff = as_user(world.staff_a)
    url = f"/api/v1/compounds/{world.compound_a.id}/checkins"
    everything = staff.get(url).json
    assert everything["total"] == 3
    assert {i["name"] for i in everything["items"]} == {"王秀兰", "赵六", None}
    assert all(i["phone"] is None or "****" in i["phone"] for i in everything["items"])
    assert staff.get(url + "?decision=denied").json["total"] == 1
    assert staff.get(url + "?direction=out").json["items"][0]["subject_user_id"] == world.resident_a.id
    assert staff.get(url + f"?user_id={other.id}").json["total"] == 1
    assert staff.get(url + "?from=2020-02-03T08:31:00%2B08:00").json["total"] == 0
    assert staff.get(url + "?from=2020-02-03T08:00:00%2B08:00&to=2020-02-03T09:00:00%2B08:00").json["total"] == 3
    masked = guard.get(f"/api/v1/gates/{world.gate_a.id}/checkins").json
    assert {i["name"] for i in masked["items"]} == {"王**", "赵*", None}
    assert all(i["phone"] is None for i in masked["items"])
    assert count(app, AuditEntry, AuditEntry.action == "checkins.list") == 7


def test_hourly_counts_for_today(app, world, as_user):
    for minutes, direction in ((0, "out"), (5, "out"), (65, "in")):
        with time_machine.travel(T0 + timedelta(minutes=minutes), tick=False):
            scan(as_user(world.guard_a), pass_of(as_user, world.resident_a), world.gate_a.id, direction)
    with time_machine.travel(T0 + timedelta(minutes=70), tick=False):
        scan(as_user(world.guard_a), "bogus", world.gate_a.id, "in")
        body = as_user(world.admin).get(f"/api/v1/compounds/{world.compound_a.id}/checkins/hourly").json
    assert body["date"] == "2020-02-03" and body["timezone"] == "Asia/Shanghai"
    rows = {(c["hour"], c["direction"]): (c["allowed"], c["denied"]) for c in body["counts"]}
    assert rows == {(8, "out"): (2, 0), (9, "in"): (1, 1)}


def test_ids_beyond_the_database_integer_are_404_not_500(app, world, as_user):
    staff, guard = as_user(world.staff_a), as_user(world.guard_a)
    huge = 10**22
    for url in (f"/api/v1/gates/{huge}/checkins", f"/api/v1/compounds/{huge}/checkins/hourly",
                f"/api/v1/visitors/{huge}", f"/api/v1/exposure-requests/{huge}", f"/api/v1/gates/{huge}/poster.svg"):
        assert staff.get(url).status_code == 404, url
    response = guard.post("/api/v1/checkins", json={"pass_code": "x", "gate_id": huge, "direction": "in",
                                                    "client_id": "big"})
    assert response.status_code == 422


def set_emergency(app, compound_id: int, declared: bool = True) -> None:
    """Declare (or end) a public-health emergency at a compound."""
    with app.app_context():
        db.session.get(Compound, compound_id).health_emergency = declared
        db.session.commit()


@time_machine.travel(T0, tick=False)
def test_lawful_basis_is_checked_and_no_temperature_is_kept_without_one(app, world, as_user):
    guard = as_user(world.guard_a)
    # No consent, no emergency: the passage is recorded (the gate works), the temperature is not kept.
    bare = scan(guard, pass_of(as_user, world.resident_a), world.gate_a.id, temperature=36.6)
    assert bare.status_code == 201 and bare.json["decision"] == "allowed"
    assert bare.json["temperature"] is None and "temperature_not_recorded" in bare.json["flags"]
    no_reading = scan(guard, pass_of(as_user, world.resident_a), world.gate_a.id, "out").json
    give_consent(as_user, world.resident_a)
    consented = scan(guard, pass_of(as_user, world.resident_a), world.gate_a.id, temperature=36.7).json
    assert consented["temperature"] == "36.7" and "temperature_not_recorded" not in consented["flags"]
    as_user(world.resident_a).delete("/api/v1/me/consent")
    set_emergency(app, world.compound_a.id)
    emergency = scan(guard, pass_of(as_user, world.resident_a), world.gate_a.id, temperature=36.8).json
    with app.app_context():
        rows = {row.id: (row.lawful_basis, None if row.temperature is None else str(row.temperature))
                for row in db.session.scalars(select(CheckIn))}
        assert rows[bare.json["id"]] == ("necessary_for_entry", None)
        assert rows[no_reading["id"]] == ("necessary_for_entry", None)
        # Withdrawing consent deleted the consent-based check-in (and its reading).
        assert len(rows) == 3 and ("consent", "36.7") not in rows.values()
        assert rows[emergency["id"]] == ("public_health_emergency", "36.8")
        readings = db.session.scalars(select(TemperatureReading.lawful_basis)).all()
        assert readings == ["public_health_emergency"]
        # The database refuses a temperature kept without a basis.
        row = db.session.get(CheckIn, bare.json["id"])
        values = {c.key: getattr(row, c.key) for c in CheckIn.__table__.columns if c.key != "id"}
        with pytest.raises(IntegrityError):
            db.session.execute(insert(CheckIn).values(**{**values, "client_id": "forged", "temperature": 36.6}))
        db.session.rollback()


@time_machine.travel(T0, tick=False)
def test_consent_basis_is_stored_while_consent_is_in_force(app, world, as_user):
    give_consent(as_user, world.resident_a)
    body = scan(as_user(world.guard_a), pass_of(as_user, world.resident_a), world.gate_a.id).json
    with app.app_context():
        assert db.session.get(CheckIn, body["id"]).lawful_basis == "consent"


def test_offline_reading_keeps_the_device_time_of_the_checkin(app, world, as_user):
    give_consent(as_user, world.resident_a)
    with time_machine.travel(T0, tick=False):
        code = pass_of(as_user, world.resident_a)
    item = {"kind": "scan", "pass_code": code, "gate_id": world.gate_a.id, "direction": "in", "temperature": 36.9,
            "client_id": "offline-t", "device_time": T0.isoformat()}
    with time_machine.travel(T0 + timedelta(days=3), tick=False):  # older than a reading's own 24 h
        result = as_user(world.guard_a).post("/api/v1/checkins/batch", json={"items": [item]}).json["results"][0]
    assert result["status"] == 201, result
    with app.app_context():
        reading = db.session.scalar(select(TemperatureReading))
        assert reading.measured_at == T0 and str(reading.celsius) == "36.9"
        assert db.session.get(CheckIn, result["checkin"]["id"]).occurred_at == T0


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


def _alert_messages(app, kind: str) -> list[int]:
    """The users messaged about the alerts of a kind."""
    with app.app_context():
        alert_ids = db.session.scalars(select(Alert.id).where(Alert.kind == kind)).all()
        assert alert_ids, kind
        return sorted(n.user_id for n in db.session.scalars(select(Notification).where(Notification.kind == "alert"))
                      if any(n.page.endswith(f"id={alert_id}") for alert_id in alert_ids))


@time_machine.travel(T0, tick=False)
def test_alerts_raised_at_the_gate_notify_staff(app, world, as_user):
    set_user(app, world.staff_a.id, openid="openid-staff-a")
    set_user(app, world.staff_b.id, openid="openid-staff-b")
    guard = as_user(world.guard_a)
    # Fever known only from the check-ins (no consent: no reading is kept).
    scan(guard, pass_of(as_user, world.resident_a), world.gate_a.id, temperature=38.1)
    second = scan(guard, pass_of(as_user, world.resident_a), world.gate_a.id, temperature=38.0).json
    assert second["reason"] == "fever"
    assert _alert_messages(app, "fever") == [world.staff_a.id]
    # A returnee.
    set_user(app, world.resident_a.id, returned_from="武汉")
    assert scan(guard, pass_of(as_user, world.resident_a), world.gate_a.id, "out").json["reason"] == \
        "returnee_attention"
    scan(guard, pass_of(as_user, world.resident_a), world.gate_a.id, "in")  # the same day: one alert, one message
    assert _alert_messages(app, "returnee") == [world.staff_a.id]
    # A pass seen twice.
    code = pass_of(as_user, world.resident_a)
    scan(guard, code, world.gate_a.id, "out")
    assert "pass_reused" in scan(guard, code, world.gate_a.id, "out").json["flags"]
    assert _alert_messages(app, "pass_reuse") == [world.staff_a.id]


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
