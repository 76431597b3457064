"""Temperature readings and the fever workflow: a high reading asks for a re-measure, two refuse entry."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import Select, case, distinct, func, select

from server.errors import ConflictError, NotFoundError, UnprocessableError
from server.extensions import db
from server.messages import register
from server.models.checkins import Visitor
from server.models.compounds import Compound, Gate, Household
from server.models.health import READING_SOURCES, TemperatureReading
from server.models.people import User
from server.models.statistics import READING_COUNTER, hour_of
from server.plumbing.alerts import notify_staff, raise_alert
from server.plumbing.clock import local_day_bounds, local_today, utcnow
from server.plumbing.csv_export import Sheet
from server.plumbing.idempotency import IdempotentWrite
from server.plumbing.masking import mask_name
from server.plumbing.replica import reads
from server.scope import compound_condition, get_in_compound_scope, guard_acts_at_gate
from server.services.people.consent import require_lawful_basis

MIN_CELSIUS = Decimal("34.0")
MAX_CELSIUS = Decimal("43.0")
FEVER_CELSIUS = Decimal("37.3")
REMEASURE_WINDOW = timedelta(minutes=30)
# A device clock ahead of the server by more than this is not believed.
DEVICE_CLOCK_SLACK = timedelta(minutes=5)
# Readings synced later than this keep the server's time (old device times would dodge the window).
MAX_DEVICE_DELAY = timedelta(hours=24)
# The longest range of daily counts one request may ask for.
MAX_COUNT_DAYS = 31

register({
    "temperature_invalid": ("体温应在 34.0–43.0 ℃ 之间,最多一位小数",
                            "Temperature must be 34.0-43.0 °C with at most one decimal"),
    "reading_subject_required": ("请指明测温对象", "Say whose temperature this is"),
    "remeasure_of_invalid": ("复测应对应本门岗30分钟内的一次未登记人员高体温记录",
                             "A re-measure must follow a high reading of an unidentified passer-by at this gate "
                             "within 30 minutes"),
    "remeasure": ("体温偏高,请几分钟后复测", "Temperature is high; measure again in a few minutes"),
    "fever": ("复测体温仍偏高,禁止入内,已通知物业", "Fever confirmed on re-measure; entry refused, staff alerted"),
})


def parse_celsius(value: object) -> Decimal:
    """A plausible Celsius value with at most one decimal, or 422 temperature_invalid."""
    try:
        celsius = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        celsius = None
    # The range before the decimals: quantizing a huge number (1e30) overflows Decimal's precision.
    if (celsius is None or isinstance(value, bool) or not celsius.is_finite()
            or not MIN_CELSIUS <= celsius <= MAX_CELSIUS or celsius != celsius.quantize(Decimal("0.1"))):
        raise UnprocessableError("temperature_invalid", errors={"json": {"celsius": ["34.0-43.0, one decimal"]}})
    return celsius.quantize(Decimal("0.1"))


def measure_at_gate(guard: User, gate_id: int, *, subject_user_id: int | None, visitor_id: int | None,
                    celsius, client_id: str | None, device_time: datetime | None,
                    passer_by: dict | None = None) -> tuple[TemperatureReading, str]:
    """A guard's reading at a gate of their scope, of a resident of that gate's compound or a visitor there,
    or of an unidentified passer-by (``passer_by``: {"note", "remeasure_of"}; see `measure_passer_by`).

    Anyone else (another compound's resident, a pending or removed one, another compound's visitor)
    is 404, as if they did not exist: nothing is stored and no alert is raised.
    """
    gate = get_in_compound_scope(guard, Gate, gate_id)
    if not guard_acts_at_gate(guard, gate.id, gate.compound_id):
        raise NotFoundError("not_found")
    if passer_by is not None:
        return measure_passer_by(guard, gate, celsius=celsius, note=passer_by.get("note", ""),
                                 remeasure_of=passer_by.get("remeasure_of"), client_id=client_id,
                                 device_time=device_time)
    if subject_user_id is not None and not _resident_of(subject_user_id, gate.compound_id):
        raise NotFoundError("not_found")
    if visitor_id is not None and db.session.scalar(
            select(Visitor.id).where(Visitor.id == visitor_id, Visitor.compound_id == gate.compound_id)) is None:
        raise NotFoundError("not_found")
    return record_reading(guard, compound_id=gate.compound_id, subject_user_id=subject_user_id, household_id=None,
                          visitor_id=visitor_id, gate_id=gate.id, celsius=celsius, source="gate",
                          client_id=client_id, device_time=device_time)


def measure_passer_by(guard: User, gate: Gate, *, celsius, note: str, remeasure_of: int | None,
                      client_id: str | None, device_time: datetime | None) -> tuple[TemperatureReading, str]:
    """A reading of someone without a pass or a phone (a courier, an elderly visitor), kept unidentified.

    They consent in person to the guard who measures them. Nobody identifies them, so a re-measure
    names the first reading (``remeasure_of``: a high passer-by reading at this gate within the
    window); two high readings so linked are a fever, and staff are alerted as for anyone else.
    """
    first = None
    replay = bool(client_id) and _by_client_id(guard.id, client_id) is not None
    if remeasure_of is not None and not replay:
        first = db.session.scalar(select(TemperatureReading).where(
            TemperatureReading.id == remeasure_of, TemperatureReading.passer_by.is_(True),
            TemperatureReading.gate_id == gate.id))
        if first is None or first.measured_at < utcnow() - REMEASURE_WINDOW:
            raise UnprocessableError("remeasure_of_invalid", errors={"json": {"remeasure_of": [
                "a passer-by reading at this gate within 30 minutes"]}})
    return record_reading(guard, compound_id=gate.compound_id, subject_user_id=None, household_id=None,
                          visitor_id=None, gate_id=gate.id, celsius=celsius, source="gate", client_id=client_id,
                          device_time=device_time, passer_by=True, note=note.strip(), remeasure_of=first)


def report_own(resident: User, *, celsius, client_id: str | None,
               device_time: datetime | None) -> tuple[TemperatureReading, str]:
    """A resident's self-report, at their approved household's compound (409 not_registered without one)."""
    household = (db.session.get(Household, resident.approved_household_id)
                 if resident.approved_household_id else None)
    if household is None:
        raise ConflictError("not_registered")
    return record_reading(resident, compound_id=household.compound_id, subject_user_id=resident.id,
                          household_id=household.id, visitor_id=None, gate_id=None, celsius=celsius,
                          source="self", client_id=client_id, device_time=device_time)


def _resident_of(user_id: int, compound_id: int) -> bool:
    """Whether a user is an approved resident of a household in the compound."""
    return db.session.scalar(
        select(User.id).join(Household, Household.id == User.household_id)
        .where(User.id == user_id, User.residency == "approved", Household.compound_id == compound_id)) is not None


def is_high(celsius: Decimal) -> bool:
    """At or above the fever threshold (37.3 °C)."""
    return celsius >= FEVER_CELSIUS


def record_reading(author: User, *, compound_id: int, subject_user_id: int | None, household_id: int | None,
                   visitor_id: int | None, gate_id: int | None, celsius, source: str, client_id: str | None,
                   device_time: datetime | None, measured_at: datetime | None = None, passer_by: bool = False,
                   note: str = "", remeasure_of: TemperatureReading | None = None) -> tuple[TemperatureReading, str]:
    """Store a reading and answer its outcome: "normal", "remeasure" (first high) or "fever" (second high).

    ``measured_at``, when given, is the reading's time as the caller validated it (an offline
    check-in synced up to days later); otherwise the device time is used if believable.

    The caller has checked scope. A replay with the same (author, client_id) answers the stored
    reading; the same client id with another temperature or subject is 409 idempotency_mismatch.
    No lawful basis (neither consent nor a declared emergency) is 409 consent_required.
    """
    value = parse_celsius(celsius)
    if source not in READING_SOURCES:
        raise UnprocessableError("validation_failed", errors={"json": {"source": ["gate or self"]}})
    if subject_user_id is None and visitor_id is None and not passer_by:
        raise UnprocessableError("reading_subject_required")
    write = _reading_write(author.id, client_id, value, subject_user_id, visitor_id)
    stored = write.stored()
    if stored is not None:
        return stored, stored.outcome
    compound = db.session.get(Compound, compound_id)
    if compound is None:
        raise NotFoundError("not_found")
    if household_id is None and subject_user_id is not None:
        household_id = db.session.scalar(select(User.household_id).where(User.id == subject_user_id))
    basis = require_lawful_basis(compound, subject_user_id)
    now = utcnow()
    if measured_at is None:
        measured_at = _believable(device_time, now)
    high = is_high(value)
    if passer_by:
        earlier_high = remeasure_of if high and remeasure_of is not None and remeasure_of.high else None
    else:
        earlier_high = _earlier_high(subject_user_id, visitor_id, measured_at) if high else None
    outcome = "normal" if not high else ("fever" if earlier_high is not None else "remeasure")
    reading = TemperatureReading(
        compound_id=compound.id, subject_user_id=subject_user_id, household_id=household_id,
        visitor_id=visitor_id, gate_id=gate_id, author_id=author.id, source=source, celsius=value, high=high,
        outcome=outcome, lawful_basis=basis, client_id=client_id or None, device_time=device_time,
        measured_at=measured_at, created_at=now, passer_by=passer_by, note=note or "",
        remeasure_of_id=remeasure_of.id if remeasure_of is not None else None)
    reading, replayed = write.add(reading)  # the same device retry may race us: the one stored first wins
    if replayed:
        return reading, reading.outcome
    _count(reading)
    if outcome == "fever":
        _alert_fever(reading, earlier_high)
    return reading, outcome


def _count(reading: TemperatureReading) -> None:
    """Count the reading in its compound's hourly rollup (the district statistics): one upsert."""
    connection = db.session.connection()
    connection.execute(READING_COUNTER[connection.dialect.name], {
        "compound_id": reading.compound_id, "hour": hour_of(reading.measured_at), "readings": 1,
        "high": int(reading.high), "fever": int(reading.outcome == "fever")})


def _by_client_id(author_id: int, client_id: str) -> TemperatureReading | None:
    return db.session.scalar(select(TemperatureReading).where(TemperatureReading.author_id == author_id,
                                                              TemperatureReading.client_id == client_id))


def _reading_write(author_id: int, client_id: str | None, value: Decimal, subject_user_id: int | None,
                   visitor_id: int | None) -> IdempotentWrite[TemperatureReading]:
    """A reading under its (author, client id) key (none without a client id); a retry must carry the
    same temperature and subject."""
    def find() -> TemperatureReading | None:
        return _by_client_id(author_id, client_id) if client_id else None

    def same_body(stored: TemperatureReading) -> bool:
        return (Decimal(str(stored.celsius)) == value and stored.subject_user_id == subject_user_id
                and stored.visitor_id == visitor_id)
    return IdempotentWrite(find, same_body)


def _believable(device_time: datetime | None, now: datetime) -> datetime:
    if device_time is None or device_time.tzinfo is None:
        return now
    if device_time > now + DEVICE_CLOCK_SLACK or device_time < now - MAX_DEVICE_DELAY:
        return now
    return min(device_time, now)


def _earlier_high(subject_user_id: int | None, visitor_id: int | None, at: datetime) -> TemperatureReading | None:
    subject = (TemperatureReading.subject_user_id == subject_user_id if subject_user_id is not None
               else TemperatureReading.visitor_id == visitor_id)
    return db.session.scalar(
        select(TemperatureReading)
        .where(subject, TemperatureReading.high.is_(True),
               TemperatureReading.measured_at >= at - REMEASURE_WINDOW, TemperatureReading.measured_at <= at)
        .order_by(TemperatureReading.measured_at, TemperatureReading.id).limit(1))


def _alert_fever(reading: TemperatureReading, first_high: TemperatureReading) -> None:
    if reading.passer_by:
        who = "passer_by"
    elif reading.subject_user_id is not None:
        who = f"user:{reading.subject_user_id}"
    else:
        who = f"visitor:{reading.visitor_id}"
    detail = {"celsius": str(reading.celsius), "first_celsius": str(first_high.celsius),
              "reading_id": reading.id, "visitor_id": reading.visitor_id, "gate_id": reading.gate_id}
    if reading.passer_by:
        detail.update(passer_by=True, note=reading.note)
    alert = raise_alert(
        reading.compound_id, "fever", subject_user_id=reading.subject_user_id, household_id=reading.household_id,
        detail=detail, dedupe_key=f"fever:{who}:{first_high.id}")
    notify_staff(alert)


def readings_of_day(compound: Compound, day: date, high_only: bool = False) -> Select:
    """A compound's readings of one local day, newest first."""
    start, end = local_day_bounds(compound.timezone, day)
    query = select(TemperatureReading).where(TemperatureReading.compound_id == compound.id,
                                             TemperatureReading.measured_at >= start,
                                             TemperatureReading.measured_at < end)
    if high_only:
        query = query.where(TemperatureReading.high.is_(True))
    return query.order_by(TemperatureReading.measured_at.desc(), TemperatureReading.id.desc())


def history_of(subject_user_id: int, compound_ids: Select | None = None) -> Select:
    """A person's readings, newest first (only at the given compounds, when given)."""
    query = select(TemperatureReading).where(TemperatureReading.subject_user_id == subject_user_id)
    if compound_ids is not None:
        query = query.where(TemperatureReading.compound_id.in_(compound_ids))
    return query.order_by(TemperatureReading.measured_at.desc(), TemperatureReading.id.desc())


def person_history(staff: User, user_id: int) -> Select:
    """A person's readings at the caller's compounds, newest first; 404 for a person the caller may
    not know of (no reading at their compounds and not living there)."""
    query = history_of(user_id, select(Compound.id).where(compound_condition(staff, Compound.id)))
    if db.session.scalar(query.limit(1)) is None and not _lives_in_scope(staff, user_id):
        raise NotFoundError("not_found")
    return query


def _lives_in_scope(staff: User, user_id: int) -> bool:
    return db.session.scalar(
        select(User.id).join(Household, Household.id == User.household_id)
        .where(User.id == user_id, compound_condition(staff, Household.compound_id))) is not None


def daily_counts(compound: Compound, start: date | None, end: date | None) -> list[dict]:
    """Per local day from start to end (inclusive; by default the last 7 days up to today, at most
    MAX_COUNT_DAYS): readings, distinct people, high, re-measure, fever."""
    end = end or local_today(compound.timezone)
    start = start or end - timedelta(days=6)
    if start > end or (end - start).days >= MAX_COUNT_DAYS:
        raise UnprocessableError("validation_failed",
                                 errors={"query": {"from": [f"from <= to, at most {MAX_COUNT_DAYS} days"]}})
    person = func.coalesce(TemperatureReading.subject_user_id, -TemperatureReading.visitor_id)
    rows = []
    day = start
    while day <= end:
        low, high = local_day_bounds(compound.timezone, day)
        counts = reads().execute(select(
            func.count(TemperatureReading.id), func.count(distinct(person)),
            func.sum(case((TemperatureReading.high.is_(True), 1), else_=0)),
            func.sum(case((TemperatureReading.outcome == "remeasure", 1), else_=0)),
            func.sum(case((TemperatureReading.outcome == "fever", 1), else_=0)),
        ).where(TemperatureReading.compound_id == compound.id, TemperatureReading.measured_at >= low,
                TemperatureReading.measured_at < high)).one()
        rows.append({"day": day, "readings": counts[0], "people": counts[1], "high": counts[2] or 0,
                     "remeasure": counts[3] or 0, "fever": counts[4] or 0})
        day += timedelta(days=1)
    return rows


EXPORT_COLUMNS = ("编号", "测量时间", "来源", "体温(℃)", "结果", "居民编号", "姓名", "访客编号", "出入口",
                  "未登记人员", "备注", "处理依据")
SOURCE_ZH = {"gate": "门岗测温", "self": "居民自报"}
OUTCOME_ZH = {"normal": "正常", "remeasure": "待复测", "fever": "发热"}
BASIS_ZH = {"consent": "本人同意", "public_health_emergency": "公共卫生紧急状态"}


def readings_sheet(viewer: User, compound: Compound, day: date) -> Sheet:
    """One local day of a compound's readings as an export sheet (names masked for the alliance)."""
    rows = reads().execute(
        readings_of_day(compound, day).add_columns(User.display_name, Gate.name)
        .outerjoin(User, User.id == TemperatureReading.subject_user_id)
        .outerjoin(Gate, Gate.id == TemperatureReading.gate_id)).all()
    return Sheet(title=f"体温 {day.isoformat()}", columns=EXPORT_COLUMNS, timezone=compound.timezone, rows=[
        (reading.id, reading.measured_at, SOURCE_ZH.get(reading.source, reading.source), reading.celsius,
         OUTCOME_ZH.get(reading.outcome, reading.outcome), reading.subject_user_id,
         mask_name(name) if viewer.role == "alliance_admin" else name, reading.visitor_id, gate_name,
         reading.passer_by, reading.note, BASIS_ZH.get(reading.lawful_basis, reading.lawful_basis))
        for reading, name, gate_name in rows])
