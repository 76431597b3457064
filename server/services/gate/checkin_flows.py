"""The guard's three ways of recording a passage: a pass scanned, a person recorded by hand, a walk-in visitor.

Each flow finds the gate, the compound and the subject, then `checkin_rows.record_checkin` decides and
inserts. The guard-scan hot path: the pass verified in memory, one query for the gate and the holder
(`checkin_subjects.gate_and_holder`), one insert.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import exists, select

from server.errors import NotFoundError, UnprocessableError
from server.extensions import db
from server.messages import register
from server.models.compounds import Building, Compound, Household
from server.models.health import QuarantineOrder
from server.models.people import User, UserRow
from server.plumbing.clock import local_today, utcnow
from server.services.gate import passes, visitors
from server.services.gate.checkin_rows import record_checkin
from server.services.gate.checkin_subjects import (
    InsertedCheckIn,
    Subject,
    gate_and_holder,
    guard_gate,
    household_label,
    resident_subject,
    visitor_subject,
)
from server.services.gate.pass_tokens import PassError

# An offline scan uploaded later keeps its device time if it is within this past and not ahead of us
# (the pass keys are kept as long: passes.drop_retired_keys).
OFFLINE_MAX_AGE = passes.OFFLINE_MAX_AGE
DEVICE_CLOCK_SLACK = timedelta(minutes=5)

register({
    "device_time_invalid": ("设备时间不合理(超前或超过7天)", "Device time is ahead of the server or over 7 days old"),
    "not_household_member": ("此人不是该户登记成员", "This person is not a registered member of the household"),
})


def _occurred_at(device_time: datetime | None, now: datetime, offline: bool) -> datetime:
    if not offline:
        return now
    if device_time is None or device_time > now + DEVICE_CLOCK_SLACK or device_time < now - OFFLINE_MAX_AGE:
        raise UnprocessableError("device_time_invalid", errors={"json": {"device_time": ["out of range"]}})
    return min(device_time, now).astimezone(UTC)


def _guard_scan(guard: User | UserRow, data: dict, client_id: str, fp: str, offline: bool) -> InsertedCheckIn:
    now = utcnow()
    occurred = _occurred_at(data.get("device_time"), now, offline)
    code = data["pass_code"]
    problem, scanned, subject = None, None, Subject()
    if visitors.is_visitor_pass(code):
        gate, compound = guard_gate(guard, data["gate_id"], occurred)
        subject = visitor_subject(code, gate, compound, data["direction"], occurred) or Subject()
        problem = None if subject.kind == "visitor" else "pass_invalid"
    else:
        try:
            scanned = passes.read_pass(code, occurred)
        except PassError as exc:
            problem = exc.reason
            gate, compound = guard_gate(guard, data["gate_id"], occurred)
        else:
            gate, compound, subject = gate_and_holder(guard, data["gate_id"], scanned.user_id, occurred)
    return record_checkin(guard, method="guard_scan", gate=gate, compound=compound, subject=subject, data=data,
                          client_id=client_id, fp=fp, now=now, occurred=occurred, pass_problem=problem,
                          scanned=scanned, offline=offline)


def _manual(guard: User, data: dict, client_id: str, fp: str, offline: bool) -> InsertedCheckIn:
    now = utcnow()
    occurred = _occurred_at(data.get("device_time"), now, offline)
    gate, compound = guard_gate(guard, data["gate_id"], occurred)
    row = db.session.execute(select(Household, Building.name).join(Building, Building.id == Household.building_id)
                             .where(Household.id == data["household_id"])).one_or_none()
    if row is None or row[0].compound_id != gate.compound_id:
        raise NotFoundError("not_found")
    household, building = row
    label = household_label(building, household.unit, household.room)
    member_id = data.get("subject_user_id")
    if member_id is not None:
        subject = resident_subject(member_id, gate, occurred)
        if subject.household_id != household.id:
            raise UnprocessableError("not_household_member",
                                     errors={"json": {"subject_user_id": ["not a member of the household"]}})
    else:
        quarantined = db.session.scalar(select(exists().where(
            QuarantineOrder.household_id == household.id, QuarantineOrder.user_id.is_(None),
            QuarantineOrder.starts_at <= occurred, QuarantineOrder.ends_at > occurred,
            QuarantineOrder.lifted_at.is_(None))))
        subject = Subject(kind="household", household_id=household.id, name=data.get("person_name", "").strip(),
                          household_label=label, registered=True, quarantined=bool(quarantined))
    return record_checkin(guard, method="manual", gate=gate, compound=compound, subject=subject, data=data,
                          client_id=client_id, fp=fp, now=now, occurred=occurred, note=data["reason"],
                          offline=offline)


def _walk_in(guard: User, data: dict, client_id: str, fp: str, offline: bool) -> InsertedCheckIn:
    now = utcnow()
    occurred = _occurred_at(data.get("device_time"), now, offline)
    gate, compound = guard_gate(guard, data["gate_id"], occurred)
    if data.get("household_id") is not None and db.session.scalar(
            select(Household.compound_id).where(Household.id == data["household_id"])) != compound.id:
        raise NotFoundError("not_found")
    visitor = visitors.create_walk_in(guard, db.session.get(Compound, compound.id), data,
                                      local_today(compound.timezone, occurred))
    subject = Subject(kind="visitor", visitor=visitor, household_id=visitor.household_id, name=visitor.name,
                      registered=True, returned_from=(visitor.from_city or "外地") if visitor.returnee else None)
    return record_checkin(guard, method="manual", gate=gate, compound=compound, subject=subject,
                          data={**data, "direction": "in"}, client_id=client_id, fp=fp, now=now, occurred=occurred,
                          note=data.get("purpose", ""), offline=offline)


# A guard's write by kind: flow(guard, data, client_id, fingerprint, offline) -> the inserted row.
FLOWS: dict[str, Callable[..., InsertedCheckIn]] = {"scan": _guard_scan, "manual": _manual, "walk_in": _walk_in}
