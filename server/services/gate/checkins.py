"""Check-ins (出入登记): a guard scans a pass, a resident scans the gate, a guard records someone by hand.

Every attempt is stored, allowed or denied, with the decision of `checkin_decisions.decide`.
Writes a device may retry carry a client id, unique per author in the database: a replay answers
the stored result, the same client id with another body is 409 idempotency_mismatch.

The guard-scan hot path: the pass verified in memory, one query for the gate and the holder
(`checkin_subjects.gate_and_holder`), one insert.

Lawful basis (PIPL art. 13) of each row: a declared public-health emergency; else consent (the
resident's consent in force, or a visitor's or a person's recorded by name, given in person); else
`necessary_for_entry`: the passage is still recorded, but a temperature taken is only used for the
decision at the gate and never kept (flag `temperature_not_recorded`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

from sqlalchemy import Row, and_, bindparam, exists, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from server.errors import ConflictError, NotFoundError, UnprocessableError
from server.extensions import db
from server.messages import message_for, register, wants_english
from server.models.checkins import CheckIn
from server.models.compounds import Building, Compound, Household
from server.models.health import QuarantineOrder
from server.models.people import User
from server.models.statistics import CHECKIN_COUNTER, hour_of
from server.plumbing.alerts import notify_staff, raise_alert
from server.plumbing.clock import local_today, utcnow
from server.plumbing.idempotency import client_id_of, fingerprint
from server.plumbing.masking import mask_name
from server.services.gate import passes, visitors
from server.services.gate.checkin_decisions import STATUS_TEXT, GateDecision, GateFacts, decide
from server.services.gate.checkin_subjects import (
    AnyCompound,
    AnyGate,
    Subject,
    gate_and_holder,
    guard_gate,
    household_label,
    resident_subject,
    visitor_subject,
)
from server.services.gate.gates import gate_code_in, resolve_gate_code
from server.services.gate.pass_tokens import PassError
from server.services.health.temperatures import FEVER_CELSIUS, REMEASURE_WINDOW, record_reading
from server.services.people.consent import CONSENT, EMERGENCY

# An offline scan uploaded later keeps its device time if it is within this past and not ahead of us
# (the pass keys are kept as long: passes.drop_retired_keys).
OFFLINE_MAX_AGE = passes.OFFLINE_MAX_AGE
DEVICE_CLOCK_SLACK = timedelta(minutes=5)
# No consent and no emergency: the record of passing a gated compound is necessary for the property service.
NECESSARY_FOR_ENTRY = "necessary_for_entry"
# Fields of a device write that do not change what was scanned: a queued scan re-sent with its device
# time (or inside a batch, with its kind) is the same scan.
_NOT_FINGERPRINTED = ("device_time", "kind")

register({
    "gate_code_invalid": ("无法识别的门禁码", "Unknown gate code"),
    "device_time_invalid": ("设备时间不合理(超前或超过7天)", "Device time is ahead of the server or over 7 days old"),
    "not_household_member": ("此人不是该户登记成员", "This person is not a registered member of the household"),
})


class InsertedCheckIn(SimpleNamespace):
    """A check-in row as this request inserted it, read like a `CheckIn` (same attribute names).

    Not an ORM instance: constructing one costs as much as the insert's own SQL, and the guard scan
    only reads it back for its side effects and its answer.
    """


@dataclass(frozen=True)
class Recorded:
    """A stored check-in and whether this call was a replay of an earlier one."""

    checkin: CheckIn | InsertedCheckIn
    replayed: bool = False


# Core inserts of the row; the hot path's statements are built once.
_INSERT_CHECKIN = CheckIn.__table__.insert().returning(CheckIn.__table__.c.id)
# Nothing inserted (no id) when another check-in already holds this code as its first sighting.
_CLAIM_FIRST_SIGHTING = {
    name: insert(CheckIn.__table__).on_conflict_do_nothing(index_elements=["first_pass_nonce", "pass_issued_at"])
    .returning(CheckIn.__table__.c.id)
    for name, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))}
_FIRST_SIGHTING_GATE = select(CheckIn.gate_id, CheckIn.compound_id).where(CheckIn.first_pass_nonce == bindparam("pass_nonce"),
                                                     CheckIn.pass_issued_at == bindparam("pass_issued_at"))


def _occurred_at(device_time: datetime | None, now: datetime, offline: bool) -> datetime:
    if not offline:
        return now
    if device_time is None or device_time > now + DEVICE_CLOCK_SLACK or device_time < now - OFFLINE_MAX_AGE:
        raise UnprocessableError("device_time_invalid", errors={"json": {"device_time": ["out of range"]}})
    return min(device_time, now).astimezone(UTC)


def _utc(moment: datetime | None) -> datetime | None:
    # Stored and answered in UTC, as a later read of the row answers it.
    return moment.astimezone(UTC) if moment is not None else None


def checkin_fingerprint(data: dict) -> str:
    """The fingerprint of a check-in write: the scan's substance (pass or gate code, gate, direction,
    temperature, household, person...), without its device time or batch kind."""
    return fingerprint({k: v for k, v in data.items() if k not in _NOT_FINGERPRINTED})


def _lawful_basis(compound: AnyCompound, subject: Subject) -> str:
    """What the row is kept on (as `consent.lawful_basis_for`, with the consent read in the subject's query)."""
    if compound.health_emergency:
        return EMERGENCY
    if subject.user_id is not None:
        return CONSENT if subject.consented else NECESSARY_FOR_ENTRY
    if subject.visitor is not None or subject.kind == "household":
        # A visitor, or a person recorded by name, consents in person to the guard who records them.
        return CONSENT
    return NECESSARY_FOR_ENTRY  # nobody identified (an unreadable or foreign pass)


def _temperature_outcome(author: User | Row, compound: AnyCompound, gate: AnyGate, subject: Subject, data: dict,
                         at: datetime, basis: str) -> tuple[str | None, str]:
    """normal, remeasure or fever, and the basis the row is kept on; the reading goes to the health records
    when there is a lawful basis for it."""
    celsius = data.get("temperature")
    if celsius is None:
        return None, basis
    if basis == NECESSARY_FOR_ENTRY or (subject.user_id is None and subject.visitor is None):
        return _outcome_from_checkins(subject, Decimal(celsius), at), basis
    try:
        # No client id: the check-in's own (author, client id) key makes the whole write idempotent,
        # and a retry rolls the reading back with it.
        _reading, outcome = record_reading(
            author, compound_id=compound.id, subject_user_id=subject.user_id, household_id=subject.household_id,
            visitor_id=subject.visitor.id if subject.visitor else None, gate_id=gate.id, celsius=celsius,
            source="gate", client_id=None, device_time=data.get("device_time"), measured_at=at)
    except ConflictError as exc:
        if exc.reason != "consent_required":
            raise
        # Consent withdrawn meanwhile: the gate still decides, from the check-ins alone.
        return _outcome_from_checkins(subject, Decimal(celsius), at), NECESSARY_FOR_ENTRY
    return outcome, basis


def _outcome_from_checkins(subject: Subject, celsius: Decimal, at: datetime) -> str:
    """The second high reading of the same person within the window is a fever (from check-in rows: a kept
    high temperature, or a remeasure or fever decision where no temperature could be kept)."""
    if celsius < FEVER_CELSIUS:
        return "normal"
    if subject.user_id is not None:
        same = CheckIn.subject_user_id == subject.user_id
    elif subject.visitor is not None:
        same = CheckIn.visitor_id == subject.visitor.id
    else:
        same = and_(CheckIn.household_id == subject.household_id, CheckIn.person_name == subject.name)
    earlier = db.session.scalar(select(CheckIn.id).where(
        same, or_(CheckIn.temperature >= FEVER_CELSIUS, CheckIn.reason.in_(("fever_remeasure", "fever"))),
        CheckIn.occurred_at >= at - REMEASURE_WINDOW, CheckIn.occurred_at <= at).limit(1))
    return "fever" if earlier is not None else "remeasure"


def _record(author: User | Row, *, method: str, gate: AnyGate, compound: AnyCompound, subject: Subject, data: dict,
            client_id: str, fp: str, now: datetime, occurred: datetime, pass_problem: str | None = None,
            scanned: passes.ScannedPass | None = None, note: str = "") -> InsertedCheckIn:
    """Decide, insert, then the side effects of a new check-in."""
    blocked = pass_problem is not None or not gate.is_open or not subject.registered or not subject.visitor_expected
    basis = _lawful_basis(compound, subject)
    outcome, basis = (None, basis) if blocked else _temperature_outcome(
        author, compound, gate, subject, data, occurred, basis)
    decision = decide(GateFacts(direction=data["direction"], pass_problem=pass_problem, gate_open=gate.is_open,
                                registered=subject.registered, visitor_expected=subject.visitor_expected,
                                temperature_outcome=outcome, quarantined=subject.quarantined,
                                returnee=subject.returned_from is not None))
    flags = list(decision.flags)
    temperature = data.get("temperature")
    if temperature is not None and basis == NECESSARY_FOR_ENTRY:
        temperature = None
        flags.append("temperature_not_recorded")
    values = dict(
        compound_id=compound.id, gate_id=gate.id, subject_user_id=subject.user_id,
        household_id=subject.household_id, visitor_id=subject.visitor.id if subject.visitor else None,
        person_name=subject.name if subject.kind == "household" else "", direction=data["direction"],
        method=method, decision=decision.decision, reason=decision.reason, flags=flags,
        temperature=temperature, note=note, guard_id=author.id if author.role == "guard" else None,
        author_id=author.id, client_id=client_id, fingerprint=fp, pass_nonce=scanned and scanned.nonce,
        pass_issued_at=scanned and scanned.verified.issued_at,
        device_time=_utc(data.get("device_time")), server_time=now, occurred_at=occurred, lawful_basis=basis,
        reply=_snapshot(gate, compound, subject, decision))
    new_id = _insert(values, subject)
    checkin = InsertedCheckIn(id=new_id, **values)
    _after_insert(checkin, subject, decision, occurred, compound)
    # Last: the gate's hourly counter row stays locked (PostgreSQL) only from here to the commit.
    _count(values)
    return checkin


def _insert(values: dict, subject: Subject) -> int:
    """Insert the row (Core: the unit of work costs more than the whole rest of the decision); its id.

    A scan of a personal pass first tries to claim the code (pass id and issue time) as its first
    sighting. When the database says another check-in holds it, even one committed a moment ago at
    another gate, this one is flagged `pass_reused` and notes that gate (a device's retry of this very
    write ends at the (author, client id) key instead and answers the stored result).
    """
    connection = db.session.connection()
    nonce = values["pass_nonce"]
    if nonce is not None:
        claimed = connection.execute(_CLAIM_FIRST_SIGHTING[connection.dialect.name],
                                     {**values, "first_pass_nonce": nonce}).scalar_one_or_none()
        if claimed is not None:
            values["first_pass_nonce"] = nonce
            return claimed
        first = connection.execute(_FIRST_SIGHTING_GATE, values).one_or_none()
        subject.pass_seen_before = True
        subject.first_seen_at_gate = first.gate_id if first and first.compound_id == values["compound_id"] else None
        values["flags"] = [*values["flags"], "pass_reused"]
    values["first_pass_nonce"] = None
    return connection.execute(_INSERT_CHECKIN, values).scalar_one()


def _count(values: dict) -> None:
    """Count the check-in in its gate's hourly rollup (the district statistics): one upsert, same transaction."""
    connection = db.session.connection()
    allowed = int(values["decision"] == "allowed")
    connection.execute(CHECKIN_COUNTER[connection.dialect.name], {
        "gate_id": values["gate_id"], "hour": hour_of(values["occurred_at"]), "compound_id": values["compound_id"],
        "allowed": allowed, "denied": 1 - allowed})


def _snapshot(gate: AnyGate, compound: AnyCompound, subject: Subject, decision: GateDecision) -> dict:
    return {"gate": {"id": gate.id, "name": gate.name}, "compound": {"id": compound.id, "name": compound.name},
            "subject": {"kind": subject.kind, "name": mask_name(subject.name) or "",
                        "household": subject.household_label},
            "action": decision.action, "color": decision.color}


def _alert(checkin: InsertedCheckIn, compound_id: int, kind: str, **values) -> None:
    """Raise an alert about a check-in; staff are notified when this check-in raised it (not a dedupe hit)."""
    alert = raise_alert(compound_id, kind, **values)
    if (alert.detail or {}).get("checkin_id") == checkin.id:
        notify_staff(alert)


def _after_insert(checkin: InsertedCheckIn, subject: Subject, decision: GateDecision, at: datetime,
                  compound: AnyCompound) -> None:
    if subject.visitor is not None and decision.allowed:
        visitors.note_passage(subject.visitor, checkin.direction, at)
    if decision.reason == "returnee_attention":
        if subject.visitor is not None:
            visitors.alert_returnee(subject.visitor)
        else:
            day = local_today(compound.timezone, at).isoformat()
            _alert(checkin, compound.id, "returnee", subject_user_id=subject.user_id,
                   household_id=subject.household_id,
                   detail={"returned_from": subject.returned_from, "checkin_id": checkin.id,
                           "gate_id": checkin.gate_id},
                   dedupe_key=f"returnee:user:{subject.user_id}:{day}")
    if decision.reason == "fever" and (subject.kind == "household" or "temperature_not_recorded" in checkin.flags):
        # services.temperatures alerts for the readings it stores; these ones only the check-in holds
        # (without a temperature when there was no lawful basis to keep one).
        detail = {"checkin_id": checkin.id, "gate_id": checkin.gate_id, "person_name": checkin.person_name}
        if checkin.temperature is not None:
            detail["celsius"] = str(checkin.temperature)
        _alert(checkin, compound.id, "fever", subject_user_id=subject.user_id, household_id=subject.household_id,
               detail=detail, dedupe_key=f"fever:checkin:{checkin.id}")
    if subject.pass_seen_before:
        # The first gate is named only when it is this compound's (null: another compound's gate).
        _alert(checkin, compound.id, "pass_reuse", subject_user_id=subject.user_id,
               detail={"pass_nonce": checkin.pass_nonce, "gates": [subject.first_seen_at_gate, checkin.gate_id],
                       "checkin_id": checkin.id},
               dedupe_key=f"pass_reuse:{compound.id}:{checkin.pass_nonce}:{checkin.pass_issued_at.timestamp():.0f}")


def stored_checkin(author_id: int, client_id: str) -> CheckIn | None:
    """The check-in an author already stored under a client id, if any."""
    return db.session.scalar(select(CheckIn).where(CheckIn.author_id == author_id, CheckIn.client_id == client_id))


def replay_of(stored: CheckIn, data: dict) -> Recorded:
    """The stored check-in for a retry with the same body; another body is 409 idempotency_mismatch."""
    if stored.fingerprint != checkin_fingerprint(data):
        raise ConflictError("idempotency_mismatch")
    return Recorded(stored, replayed=True)


def _replay(author_id: int, client_id: str, data: dict) -> Recorded:
    stored = stored_checkin(author_id, client_id)
    if stored is None:
        raise ConflictError("conflict")
    return replay_of(stored, data)


def _guard_scan(guard: User | Row, data: dict, client_id: str, fp: str, offline: bool) -> InsertedCheckIn:
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
    return _record(guard, method="guard_scan", gate=gate, compound=compound, subject=subject, data=data,
                   client_id=client_id, fp=fp, now=now, occurred=occurred, pass_problem=problem, scanned=scanned)


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
    return _record(guard, method="manual", gate=gate, compound=compound, subject=subject, data=data,
                   client_id=client_id, fp=fp, now=now, occurred=occurred, note=data["reason"])


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
    return _record(guard, method="manual", gate=gate, compound=compound, subject=subject,
                   data={**data, "direction": "in"}, client_id=client_id, fp=fp, now=now, occurred=occurred,
                   note=data.get("purpose", ""))


FLOWS = {"scan": _guard_scan, "manual": _manual, "walk_in": _walk_in}


def record_guard(guard: User | Row, kind: str, data: dict) -> Recorded:
    """One online write by a guard (scan, manual or walk_in); a retry answers the stored result.

    A scan reads only the guard's columns, so its view passes the caller's row (`auth.current_caller`).
    """
    client_id = client_id_of(data)
    fp = checkin_fingerprint(data)
    guard_id = guard.id
    try:
        return Recorded(FLOWS[kind](guard, data, client_id, fp, offline=False))
    except IntegrityError:
        # The same device retry won the race, or was stored earlier: answer what was stored.
        db.session.rollback()
        return _replay(guard_id, client_id, data)
    except NotFoundError:
        # Out of scope now (a lent shift ended, the guard moved): a retry of a write stored while it was
        # in scope still answers what was stored. Looked up only here, so the hot path pays nothing.
        stored = stored_checkin(guard_id, client_id)
        if stored is None:
            raise
        return replay_of(stored, data)


def self_scan(resident: User, data: dict) -> Recorded:
    """A resident scans a gate's code; the answer is what the guard reads off the resident's screen."""
    client_id = client_id_of(data)
    fp = checkin_fingerprint(data)
    # Looked up first: a retry must replay even after the rotating gate code it carries has expired.
    stored = stored_checkin(resident.id, client_id)
    if stored is not None:
        return replay_of(stored, data)
    now = utcnow()
    gate, fresh = resolve_gate_code(gate_code_in(data["gate_code"]), now)
    if gate is None:
        raise NotFoundError("gate_code_invalid")
    compound = db.session.get(Compound, gate.compound_id)
    subject = resident_subject(resident.id, gate, now)
    try:
        checkin = _record(resident, method="self_scan", gate=gate, compound=compound, subject=subject, data=data,
                          client_id=client_id, fp=fp, now=now, occurred=now,
                          pass_problem=None if fresh else "gate_code_expired")
    except IntegrityError:
        resident_id = resident.id
        db.session.rollback()
        return _replay(resident_id, client_id, data)
    return Recorded(checkin)


def reply_of(checkin: CheckIn | InsertedCheckIn, replayed: bool = False) -> dict:
    """The answer for a device: the decision at a glance, in the caller's language."""
    snap = checkin.reply or {}
    action = snap.get("action", "stop")
    zh, en = STATUS_TEXT[action]
    return {
        "id": checkin.id, "decision": checkin.decision, "reason": checkin.reason,
        "message": message_for(checkin.reason), "status_text": en if wants_english() else zh,
        "action": action, "color": snap.get("color", "red"), "flags": list(checkin.flags or []),
        "direction": checkin.direction, "method": checkin.method, "gate": snap.get("gate"),
        "compound": snap.get("compound"), "subject": snap.get("subject"),
        "temperature": str(checkin.temperature) if checkin.temperature is not None else None,
        "occurred_at": checkin.occurred_at, "server_time": checkin.server_time, "device_time": checkin.device_time,
        "visitor_id": checkin.visitor_id, "replayed": replayed,
    }
