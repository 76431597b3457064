"""One check-in row: decided, inserted (Core, the hot path's statements built once), then its side effects.

Every attempt is stored, allowed or denied, with the decision of `checkin_decisions.decide`.

An online scan with no side effect to run (no alert, no visitor) and nothing begun in the request's
transaction is written outside the request's session, on a pooled connection of its own
(`_INSERT_AND_COUNT`, `HotRead`): on PostgreSQL one statement, the row and its gate's hourly count in
one `WITH` run alone (its own transaction), one round trip in place of BEGIN, the insert, the count and COMMIT; on
SQLite the insert and the count, then the commit, with none of the session's and SQLAlchemy's
execution machinery (a quarter of the scan's CPU). When its pass was already seen (the claim inserts
nothing) the scan goes the transactional way, which flags it and alerts.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Integer, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from server.extensions import db, transaction_begun
from server.models.checkins import CheckIn
from server.models.people import User, UserRow
from server.models.statistics import CHECKIN_COUNTER, CheckinHourly, hour_of
from server.plumbing.hot_read import HotRead, in_one_transaction
from server.plumbing.masking import mask_name
from server.services.gate import passes
from server.services.gate.checkin_decisions import GateDecision, GateFacts, decide
from server.services.gate.checkin_effects import after_insert
from server.services.gate.checkin_health import NECESSARY_FOR_ENTRY, lawful_basis, temperature_outcome
from server.services.gate.checkin_subjects import AnyCompound, AnyGate, InsertedCheckIn, Subject
from server.services.gate.gates import open_gates_of

# Core inserts of the row; the hot path's statements are built once.
_INSERT_CHECKIN = CheckIn.__table__.insert().returning(CheckIn.__table__.c.id)
# Nothing inserted (no id) when another check-in already holds this code as its first sighting.
_CLAIM_FIRST_SIGHTING = {
    name: insert(CheckIn.__table__).on_conflict_do_nothing(index_elements=["first_pass_nonce", "pass_issued_at"])
    .returning(CheckIn.__table__.c.id)
    for name, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))}
_COUNTS = ("allowed", "denied", "allowed_out", "denied_out")


def _insert_and_count(claim: bool) -> HotRead:
    """PostgreSQL: insert the row (claiming its pass's first sighting) and count it in its gate's hour, in
    one statement; answers the new id, or no row when the claim found the pass already seen."""
    hourly = CheckinHourly.__table__
    inserted = _insert_every_column(postgresql.insert, claim).cte("inserted")
    keys = (bindparam("gate_id", type_=Integer), bindparam("hour", type_=Integer),
            bindparam("compound_id", type_=Integer))
    count = postgresql.insert(hourly).from_select(
        ["gate_id", "hour", "compound_id", *_COUNTS],
        select(*keys, *(bindparam(name, type_=Integer) for name in _COUNTS)).select_from(inserted))
    count = count.on_conflict_do_update(index_elements=[c.name for c in hourly.primary_key.columns],
                                        set_={c: hourly.c[c] + count.excluded[c] for c in _COUNTS})
    return HotRead(select(inserted.c.id).add_cte(count.cte("counted")), "InsertedAndCounted")


def _insert_every_column(dialect_insert, claim: bool):
    """The row's insert with a parameter for every column (a HotRead computes no default), answering its id;
    with ``claim``, nothing inserted when another check-in holds the pass's first sighting."""
    table = CheckIn.__table__
    insert = dialect_insert(table).values({c.key: bindparam(c.key, type_=c.type) for c in table.c if c.key != "id"})
    if claim:
        insert = insert.on_conflict_do_nothing(index_elements=["first_pass_nonce", "pass_issued_at"])
    return insert.returning(table.c.id)


# Per database, per whether the scan claims a pass's first sighting: the statements of the one-transaction
# write. PostgreSQL: one statement (its own transaction); SQLite, with no data-modifying WITH: the insert,
# then the count.
_INSERT_AND_COUNT = {
    "postgresql": {claim: (_insert_and_count(claim),) for claim in (True, False)},
    "sqlite": {claim: (HotRead(_insert_every_column(sqlite.insert, claim), "Inserted"),
                       HotRead(CHECKIN_COUNTER["sqlite"].returning(CheckinHourly.__table__.c.hour), "Counted"))
               for claim in (True, False)},
}
_FIRST_SIGHTING_GATE = select(CheckIn.gate_id, CheckIn.compound_id).where(CheckIn.first_pass_nonce == bindparam("pass_nonce"),
                                                     CheckIn.pass_issued_at == bindparam("pass_issued_at"))


def record_checkin(author: User | UserRow, *, method: str, gate: AnyGate, compound: AnyCompound, subject: Subject,
                   data: dict, client_id: str, fp: str, now: datetime, occurred: datetime,
                   pass_problem: str | None = None, scanned: passes.ScannedPass | None = None,
                   note: str = "", offline: bool = False) -> InsertedCheckIn:
    """Decide, insert, then the side effects of a new check-in."""
    blocked = pass_problem is not None or not gate.is_open or not subject.registered or not subject.visitor_expected
    basis = lawful_basis(compound, subject)
    outcome, basis = (None, basis) if blocked else temperature_outcome(
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
        reply=snapshot(gate, compound, subject, decision), offline=offline)
    if _at_once(subject, decision, offline) and (new_id := _insert_and_count_at_once(values)) is not None:
        return InsertedCheckIn(id=new_id, **values)
    new_id = _insert(values, subject)
    checkin = InsertedCheckIn(id=new_id, **values)
    after_insert(checkin, subject, decision, occurred, compound)
    # Last: the gate's hourly counter row stays locked (PostgreSQL) only from here to the commit.
    _count(values)
    return checkin


def _at_once(subject: Subject, decision: GateDecision, offline: bool) -> bool:
    """Whether this check-in may be written on its own, outside the request's session: an online scan (a
    batch of offline ones stays one transaction) with nothing to run after its insert (`after_insert`:
    a visitor's passage, a returnee's or a fever alert) and nothing begun yet in this request's
    transaction."""
    return (not offline and subject.visitor is None and decision.reason not in ("returnee_attention", "fever")
            and not transaction_begun())


def _insert_and_count_at_once(values: dict) -> int | None:
    """The new row's id, inserted and counted in one transaction of its own (on PostgreSQL one statement);
    None when its pass was already seen."""
    nonce = values["pass_nonce"]
    params = {**values, "first_pass_nonce": nonce, **_counted(values)}
    statements = _INSERT_AND_COUNT[db.engine.dialect.name][nonce is not None]
    row = in_one_transaction(db.engine, [(statement, params) for statement in statements])
    if row is None:
        return None
    values["first_pass_nonce"] = nonce
    return row.id


def _count(values: dict) -> None:
    """Count the check-in in its gate's hourly rollup (the district statistics): one upsert, same transaction."""
    connection = db.session.connection()
    connection.execute(CHECKIN_COUNTER[connection.dialect.name], _counted(values))


def _counted(values: dict) -> dict:
    """A check-in's parameters of its gate's hourly counter: the gate, the hour, the compound, and 0 or 1
    for each count (`CHECKIN_COUNTER`'s columns, `_COUNTS`)."""
    allowed, out = int(values["decision"] == "allowed"), int(values["direction"] == "out")
    return {"gate_id": values["gate_id"], "hour": hour_of(values["occurred_at"]), "compound_id": values["compound_id"],
            "allowed": allowed, "denied": 1 - allowed, "allowed_out": allowed * out, "denied_out": (1 - allowed) * out}


def _utc(moment: datetime | None) -> datetime | None:
    # Stored and answered in UTC, as a later read of the row answers it.
    return moment.astimezone(UTC) if moment is not None else None


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


def snapshot(gate: AnyGate, compound: AnyCompound, subject: Subject, decision: GateDecision) -> dict:
    """What the device shows of a decision: gate, compound, the masked subject, the action and its colour."""
    shown = {"gate": {"id": gate.id, "name": gate.name}, "compound": {"id": compound.id, "name": compound.name},
                "subject": {"kind": subject.kind, "name": mask_name(subject.name) or "",
                            "household": subject.household_label},
                "action": decision.action, "color": decision.color}
    if decision.reason == "gate_closed":
        # Read only on a refusal at a closed gate: the person is sent to the gates that are open now.
        shown["open_gates"] = open_gates_of(compound.id)
    return shown
