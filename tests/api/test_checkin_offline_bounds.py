"""Finding 7 of issue #17: an offline upload's device time is bounded by the guard's own shifts and an upload
window, the rows are marked offline in every staff view, and an upload made after the device was online
alerts staff."""

from __future__ import annotations

from datetime import datetime, timedelta

import time_machine
from sqlalchemy import select

from server.extensions import db
from server.models.alerts import Alert
from server.models.checkins import CheckIn
from server.models.notifications import Notification
from server.models.rosters import Shift, ShiftAssignment
from server.services.gate.offline_bounds import UNROSTERED_WINDOW, UPLOAD_WINDOW
from tests.api.checkin_helpers import T0, _fresh_key_cache, pass_of, scan  # noqa: F401 - an autouse fixture
from tests.factories import make_gate


def _item(code: str, gate_id: int, at: datetime, client_id: str) -> dict:
    return {"kind": "scan", "pass_code": code, "gate_id": gate_id, "direction": "in", "client_id": client_id,
            "device_time": at.isoformat()}


def _upload(as_user, guard, *items) -> list[dict]:
    return as_user(guard).post("/api/v1/checkins/batch", json={"items": list(items)}).json["results"]


def _roster(app, world, gate_id: int, starts_at: datetime, hours: int) -> None:
    with app.app_context():
        shift = Shift(compound_id=world.compound_a.id, gate_id=gate_id, starts_at=starts_at,
                      ends_at=starts_at + timedelta(hours=hours))
        db.session.add(shift)
        db.session.flush()
        db.session.add(ShiftAssignment(shift_id=shift.id, guard_id=world.guard_a.id, compound_id=world.compound_a.id,
                                       gate_id=gate_id, starts_at=shift.starts_at, ends_at=shift.ends_at))
        db.session.commit()


def test_the_reported_back_dating_is_refused(app, world, as_user):
    # A pass seen at T0, an item "scanned" 5 s later, uploaded days later: accepted up to 7 days before.
    with time_machine.travel(T0, tick=False):
        code = pass_of(as_user, world.resident_a)
    with time_machine.travel(T0 + timedelta(days=3), tick=False):
        late = _upload(as_user, world.guard_a, _item(code, world.gate_a.id, T0 + timedelta(seconds=5), "bd-1"))
    assert (late[0]["status"], late[0]["error"]["reason"]) == (422, "offline_upload_late")
    # A home-post guard without any roster: within a day the queue is still taken, and marked offline.
    with time_machine.travel(T0 + UNROSTERED_WINDOW - timedelta(minutes=1), tick=False):
        kept = _upload(as_user, world.guard_a, _item(code, world.gate_a.id, T0 + timedelta(seconds=5), "bd-2"))
    assert (kept[0]["status"], kept[0]["checkin"]["offline"]) == (201, True)


def test_a_rostered_guard_uploads_only_the_own_shifts_at_that_gate(app, world, as_user):
    with app.app_context():
        side_gate = make_gate(db.session.merge(world.compound_a), "侧门").id
        db.session.commit()
    start = T0 - timedelta(hours=1)
    _roster(app, world, world.gate_a.id, start, 8)
    _roster(app, world, side_gate, start + timedelta(hours=8), 8)
    with time_machine.travel(T0, tick=False):
        code = pass_of(as_user, world.resident_a)
    end = start + timedelta(hours=8)
    with time_machine.travel(end + UPLOAD_WINDOW - timedelta(minutes=1), tick=False):
        results = _upload(as_user, world.guard_a,
                          _item(code, world.gate_a.id, T0 + timedelta(seconds=5), "r-1"),  # own shift, own gate
                          _item(code, world.gate_a.id, start - timedelta(minutes=5), "r-2"),  # before the shift
                          _item(code, side_gate, T0 + timedelta(seconds=5), "r-3"),  # own time, another gate
                          _item(code, world.gate_a.id, end + timedelta(minutes=5), "r-4"))  # at the side gate then
    assert [r["status"] for r in results] == [201, 422, 422, 422]
    assert {r["error"]["reason"] for r in results[1:]} == {"offline_outside_shift"}
    assert results[0]["checkin"]["offline"] is True
    with time_machine.travel(end + UPLOAD_WINDOW + timedelta(minutes=1), tick=False):
        late = _upload(as_user, world.guard_a, _item(code, world.gate_a.id, T0 + timedelta(seconds=6), "r-5"))
    assert (late[0]["status"], late[0]["error"]["reason"]) == (422, "offline_upload_late")


@time_machine.travel(T0, tick=False)
def test_offline_rows_are_marked_in_staff_views(app, world, as_user):
    code = pass_of(as_user, world.resident_a)
    online = scan(as_user(world.guard_a), code, world.gate_a.id)
    assert online.status_code == 201 and online.json["offline"] is False
    with time_machine.travel(T0 + timedelta(minutes=30), tick=False):
        stored = _upload(as_user, world.guard_a, _item(pass_of(as_user, world.resident_a), world.gate_a.id,
                                                       T0 + timedelta(minutes=20), "m-1"))
        assert stored[0]["status"] == 201
        for url in (f"/api/v1/compounds/{world.compound_a.id}/checkins", f"/api/v1/gates/{world.gate_a.id}/checkins"):
            for viewer in (world.staff_a, world.guard_a):
                items = as_user(viewer).get(url).json["items"]
                assert [(i["id"], i["offline"]) for i in items] == [(stored[0]["checkin"]["id"], True),
                                                                    (online.json["id"], False)]
    with app.app_context():
        assert db.session.scalars(select(CheckIn.offline).order_by(CheckIn.id)).all() == [False, True]


def test_offline_scans_uploaded_after_the_device_was_online_alert_staff(app, world, as_user):
    with time_machine.travel(T0, tick=False):
        codes = [pass_of(as_user, world.resident_a) for _ in range(4)]
    # A real outage: the last online scan at T0, the queue holds T0+10min, back online and flushed at T0+20min
    # (an online scan a moment before the flush is no proof: the device flushes while it goes on scanning).
    with time_machine.travel(T0, tick=False):
        assert scan(as_user(world.guard_a), codes[0], world.gate_a.id).status_code == 201
    with time_machine.travel(T0 + timedelta(minutes=20), tick=False):
        assert scan(as_user(world.guard_a), codes[1], world.gate_a.id).status_code == 201
    with time_machine.travel(T0 + timedelta(minutes=20, seconds=30), tick=False):
        honest = _upload(as_user, world.guard_a, _item(codes[2], world.gate_a.id, T0 + timedelta(minutes=10), "o-1"))
    assert honest[0]["status"] == 201
    with app.app_context():
        assert db.session.scalar(select(Alert).where(Alert.kind == "offline_while_online")) is None
    # Hours of online scans later, the device "uploads offline" a scan dated during them.
    with time_machine.travel(T0 + timedelta(hours=3), tick=False):
        forged = _upload(as_user, world.guard_a, _item(codes[3], world.gate_a.id, T0 + timedelta(minutes=12), "o-2"))
        again = _upload(as_user, world.guard_a, _item(codes[3], world.gate_a.id, T0 + timedelta(minutes=12), "o-2"))
    assert forged[0]["status"] == 201 and forged[0]["checkin"]["offline"] is True  # kept, but flagged
    assert again[0]["status"] == 200
    with app.app_context():
        alerts = db.session.scalars(select(Alert).where(Alert.kind == "offline_while_online")).all()
        assert len(alerts) == 1  # the replay raises nothing more
        assert (alerts[0].compound_id, alerts[0].detail["guard_id"], alerts[0].detail["checkin_ids"]) == (
            world.compound_a.id, world.guard_a.id, [forged[0]["checkin"]["id"]])
        told = db.session.scalars(select(Notification.user_id).where(
            Notification.page == f"pages/alerts/detail?id={alerts[0].id}")).all()
        assert world.staff_a.id in told
