"""Check-ins (出入登记): a guard scans a pass, a resident scans the gate, a guard records someone by hand.

Every attempt is stored, allowed or denied (`checkin_rows`), found by the guard's flows
(`checkin_flows`), kept on a lawful basis (`checkin_health`), and followed by its alerts
(`checkin_effects`). Writes a device may retry carry a client id, unique per author in the database:
a replay answers the stored result, the same client id with another body is 409 idempotency_mismatch.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from sqlalchemy import bindparam, select

from server.errors import NotFoundError
from server.extensions import db
from server.messages import message_for, register, wants_english
from server.models.checkins import CheckIn
from server.models.people import User, UserRow
from server.plumbing.clock import utcnow
from server.plumbing.hot_read import HotRead
from server.plumbing.idempotency import IdempotentWrite, client_id_of, fingerprint
from server.services.gate.checkin_decisions import STATUS_TEXT
from server.services.gate.checkin_flows import FLOWS
from server.services.gate.checkin_rows import record_checkin
from server.services.gate.checkin_subjects import InsertedCheckIn, gate_code_and_resident
from server.services.gate.gates import closed_gate_message, gate_code_in
from server.services.gate.stranger_scans import has_no_tie, stranger_scan

# Fields of a device write that do not change what was scanned: a queued scan re-sent with its device
# time (or inside a batch, with its kind) is the same scan.
_NOT_FINGERPRINTED = ("device_time", "kind")

register({
    "gate_code_invalid": ("无法识别的门禁码", "Unknown gate code"),
})


@dataclass(frozen=True)
class Recorded:
    """A stored check-in and whether this call was a replay of an earlier one."""

    checkin: CheckIn | InsertedCheckIn  # or a stored row read as a named tuple (`_STORED`)
    replayed: bool = False
    # False for a stranger's self scan: answered and counted, not stored (`stranger_scans`).
    stored: bool = True


def checkin_fingerprint(data: dict) -> str:
    """The fingerprint of a check-in write: the scan's substance (pass or gate code, gate, direction,
    temperature, household, person...), without its device time or batch kind."""
    return fingerprint({k: v for k, v in data.items() if k not in _NOT_FINGERPRINTED})


def stored_checkin(author_id: int, client_id: str) -> CheckIn | None:
    """The check-in an author already stored under a client id, if any."""
    return db.session.scalar(select(CheckIn).where(CheckIn.author_id == author_id, CheckIn.client_id == client_id))


# A self scan's retry is looked up before anything else (see `self_scan`): outside the request's
# transaction, as the scan's other reads, so that its write can be one statement on PostgreSQL.
_STORED = HotRead(select(*CheckIn.__table__.c).where(CheckIn.author_id == bindparam("author_id"),
                                                     CheckIn.client_id == bindparam("client_id")), "StoredCheckIn")


def checkin_write(author_id: int, client_id: str, fp: str) -> IdempotentWrite[CheckIn]:
    """A check-in write under its (author, client id) key, a retry compared on its fingerprint."""
    return IdempotentWrite.by_fingerprint(lambda: stored_checkin(author_id, client_id), fp)


def record_guard(guard: User | UserRow, kind: str, data: dict) -> Recorded:
    """One online write by a guard (scan, manual or walk_in); a retry answers the stored result.

    A scan reads only the guard's columns, so its view passes the caller's row (`auth.current_caller`).
    """
    client_id = client_id_of(data)
    fp = checkin_fingerprint(data)
    write = checkin_write(guard.id, client_id, fp)
    try:
        # Not looked up first (the hot path): a retry, stored earlier or winning the race, ends at the
        # unique key, and the transaction is rolled back to answer what was stored.
        return Recorded(*write.insert(partial(FLOWS[kind], guard, data, client_id, fp, offline=False),
                                      savepoint=False, unexplained="conflict"))
    except NotFoundError:
        # Out of scope now (a lent shift ended, the guard moved): a retry of a write stored while it was
        # in scope still answers what was stored. Looked up only here, so the hot path pays nothing.
        stored = write.stored()
        if stored is None:
            raise
        return Recorded(stored, replayed=True)


def self_scan(resident: User | UserRow, data: dict) -> Recorded:
    """A resident scans a gate's code; the answer is what the guard reads off the resident's screen.

    Reads the retry, then the gate with its compound and the resident in one query, both outside the
    request's transaction: the common scan's write is then one statement on PostgreSQL, as the guard's.
    """
    client_id = client_id_of(data)
    fp = checkin_fingerprint(data)
    write = IdempotentWrite.by_fingerprint(
        lambda: _STORED.one_or_none(db.engine, {"author_id": resident.id, "client_id": client_id}), fp)
    # Looked up first: a retry must replay even after the rotating gate code it carries has expired.
    stored = write.stored()
    if stored is not None:
        return Recorded(stored, replayed=True)
    now = utcnow()
    found = gate_code_and_resident(gate_code_in(data["gate_code"]), resident.id, now)
    if found is None:
        raise NotFoundError("gate_code_invalid")
    gate, compound, subject, fresh = found
    if has_no_tie(subject):
        return Recorded(stranger_scan(resident, gate, compound, subject, data, now,
                                      None if fresh else "gate_code_expired"), stored=False)
    return Recorded(*write.insert(
        partial(record_checkin, resident, method="self_scan", gate=gate, compound=compound, subject=subject,
                data=data, client_id=client_id, fp=fp, now=now, occurred=now,
                pass_problem=None if fresh else "gate_code_expired"),
        savepoint=False, unexplained="conflict"))


def reply_of(checkin: CheckIn | InsertedCheckIn, replayed: bool = False) -> dict:
    """The answer for a device: the decision at a glance, in the caller's language."""
    snap = checkin.reply or {}
    action = snap.get("action", "stop")
    zh, en = STATUS_TEXT[action]
    open_gates = snap.get("open_gates") or []
    return {
        "id": checkin.id, "decision": checkin.decision, "reason": checkin.reason,
        "message": closed_gate_message(open_gates) if checkin.reason == "gate_closed" else message_for(checkin.reason),
        "status_text": en if wants_english() else zh,
        "action": action, "color": snap.get("color", "red"), "flags": list(checkin.flags or []),
        "direction": checkin.direction, "method": checkin.method, "gate": snap.get("gate"),
        "compound": snap.get("compound"), "subject": snap.get("subject"),
        "temperature": str(checkin.temperature) if checkin.temperature is not None else None,
        "occurred_at": checkin.occurred_at, "server_time": checkin.server_time, "device_time": checkin.device_time,
        "visitor_id": checkin.visitor_id, "open_gates": open_gates, "replayed": replayed,
        "offline": bool(checkin.offline),
    }
