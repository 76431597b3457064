"""How far a guard's offline upload is believed: the guard's own shifts, a short upload window, and an
alert when the device was demonstrably online at the scan's time.

A pass is judged at an offline item's device time (the device saw it then), so the device time is the
guard's word. It is bounded:

- rostered guards (any assignment at the gate's compound within the last week or ahead): the device time
  must fall in one of the guard's own open shifts at that very gate, and the upload must come within
  `UPLOAD_WINDOW` after that shift's end;
- a guard at the home post without any roster there (many compounds never roster their own guards, and
  refusing their queues would lose real passages): the device time must be within `UNROSTERED_WINDOW`.
  A day, not a week: a back-dated check-in can only use a pass code seen that day, and the alert below
  still applies;
- an offline item is stored, marked offline as every offline item is, but staff are alerted
  (`offline_while_online`) when the same guard made online check-ins at that gate between the item's
  device time and its upload: the device was demonstrably online then, and a device that is online
  uploads its queue at once. The guard's online requests are the check-in rows themselves (each holds
  its author, server time and whether it came online), read through the gate's time index, so the
  guard scan's hot path writes nothing more.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, select

from server.errors import UnprocessableError
from server.extensions import db
from server.messages import register
from server.models.checkins import CheckIn
from server.models.compounds import Gate
from server.models.people import User
from server.models.rosters import Shift, ShiftAssignment
from server.plumbing.alerts import notify_staff, raise_alert

UPLOAD_WINDOW = timedelta(hours=6)
UNROSTERED_WINDOW = timedelta(hours=24)
# A roster this recent (or ahead) makes the guard rostered at the compound.
ROSTER_LOOKBACK = timedelta(days=7)
# A device clock may be this far off: an online check-in this soon after the scan is not held against it.
CLOCK_SLACK = timedelta(minutes=5)
# A device back online flushes its queue while the next scans already go online.
FLUSH_GRACE = timedelta(minutes=2)

register({
    "offline_outside_shift": ("离线记录不在您在此门的班次内", "The offline scan is outside your shifts at this gate"),
    "offline_upload_late": ("离线记录上传过晚,已不予受理", "The offline scan was uploaded too late to be accepted"),
})

def bound_offline_item(guard: User, gate_id: int, device_time: datetime, now: datetime) -> None:
    """Refuse (422) an offline item outside the guard's own shifts at the gate or uploaded too late."""
    compound_id = db.session.scalar(select(Gate.compound_id).where(Gate.id == gate_id))
    if compound_id is None:
        return  # the flow answers 404
    shift_end = db.session.scalar(
        select(ShiftAssignment.ends_at).join(Shift, Shift.id == ShiftAssignment.shift_id)
        .where(ShiftAssignment.guard_id == guard.id, ShiftAssignment.gate_id == gate_id,
               ShiftAssignment.starts_at <= device_time, ShiftAssignment.ends_at > device_time,
               Shift.status == "open").limit(1))
    if shift_end is not None:
        if now > shift_end + UPLOAD_WINDOW:
            raise _refused("offline_upload_late")
        return
    if compound_id != guard.compound_id:
        return  # elsewhere only a shift lets a guard act: the flow answers 404 (the gate's existence is not told)
    rostered = db.session.scalar(select(exists().where(
        ShiftAssignment.guard_id == guard.id, ShiftAssignment.compound_id == compound_id,
        ShiftAssignment.ends_at > now - ROSTER_LOOKBACK)))
    if rostered:
        raise _refused("offline_outside_shift")
    if device_time < now - UNROSTERED_WINDOW:
        raise _refused("offline_upload_late")


def _refused(reason: str) -> UnprocessableError:
    return UnprocessableError(reason, errors={"json": {"device_time": ["outside the accepted offline window"]}})


def online_between(guard: User, gate_id: int, device_time: datetime, now: datetime) -> bool:
    """Whether the guard made an online check-in at the gate after the offline scan's time (clock slack
    aside) and before this upload (a grace for a queue flushed while the next scans go online)."""
    return bool(db.session.scalar(select(exists().where(
        CheckIn.gate_id == gate_id, CheckIn.occurred_at > device_time + CLOCK_SLACK,
        CheckIn.occurred_at < now - FLUSH_GRACE, CheckIn.author_id == guard.id, CheckIn.offline.is_(False)))))


def alert_offline_while_online(guard: User, compound_id: int, items: list[dict]) -> None:
    """Alert the compound's staff (once per upload) about offline scans uploaded after the device was online."""
    ids = [item["id"] for item in items]
    alert = raise_alert(compound_id, "offline_while_online", detail={
        "guard_id": guard.id, "checkin_ids": ids, "gate_ids": sorted({item["gate_id"] for item in items}),
        "device_times": [item["device_time"].isoformat() for item in items]},
        dedupe_key=f"offline_while_online:{guard.id}:{ids[0]}")
    if alert.detail.get("checkin_ids") == ids:
        notify_staff(alert)

