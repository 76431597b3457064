"""Self scans by people with no tie to the gate's compound: answered, counted per gate and hour, not stored.

The poster's code is public: anyone with WeChat can scan it. A person with no household at the compound
(and, the route being residents', neither its staff nor its guard) is refused as before, but the compound's
gate log keeps no row of them: one counter row per gate and UTC hour is upserted, so staff see the noise
(`checkin_reports.hourly_today`) and nobody can fill the log.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.dialects import postgresql, sqlite

from server.extensions import db
from server.models.checkins import StrangerScanCount
from server.models.people import User, UserRow
from server.services.gate.checkin_decisions import GateFacts, decide
from server.services.gate.checkin_rows import snapshot
from server.services.gate.checkin_subjects import AnyCompound, AnyGate, InsertedCheckIn, Subject

_TABLE = StrangerScanCount.__table__


def _upsert(dialect_insert):
    insert = dialect_insert(_TABLE)
    return insert.on_conflict_do_update(
        index_elements=["gate_id", "hour_start"],
        set_={"scans": _TABLE.c.scans + 1, "last_at": insert.excluded.last_at})


# One statement per dialect, built once: the counter is raised by the database, so concurrent scans
# at one gate in one hour all count.
_COUNT = {"postgresql": _upsert(postgresql.insert), "sqlite": _upsert(sqlite.insert)}


def has_no_tie(subject: Subject) -> bool:
    """Whether the scanning person has no household at the gate's compound (`resident_subject` keeps
    no user of another compound, nor of none)."""
    return subject.user_id is None


def count_stranger_scan(gate: AnyGate, now: datetime) -> None:
    """Count one stranger's scan at the gate in the current UTC hour (insert or add one)."""
    hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    connection = db.session.connection()
    connection.execute(_COUNT[connection.dialect.name], {
        "compound_id": gate.compound_id, "gate_id": gate.id, "hour_start": hour, "scans": 1, "last_at": now})


def stranger_scan(person: User | UserRow, gate: AnyGate, compound: AnyCompound, subject: Subject, data: dict,
                  now: datetime, pass_problem: str | None) -> InsertedCheckIn:
    """The refusal a stranger's screen shows (read like a check-in, without an id); only counted."""
    count_stranger_scan(gate, now)
    decision = decide(GateFacts(direction=data["direction"], pass_problem=pass_problem, gate_open=gate.is_open,
                                registered=False))
    return InsertedCheckIn(
        id=None, decision=decision.decision, reason=decision.reason, flags=list(decision.flags),
        direction=data["direction"], method="self_scan", temperature=None, occurred_at=now, server_time=now,
        device_time=None, visitor_id=None, offline=False, author_id=person.id,
        reply=snapshot(gate, compound, subject, decision))
