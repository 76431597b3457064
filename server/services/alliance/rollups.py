"""Rebuilding the hourly rollups of the statistics from the raw rows (`flask wuye rollup`), and counting
the residents of every compound (`flask wuye population`, a periodic job: every few minutes).

The counters are kept up to date as rows arrive (one upsert in the check-in's or the reading's own
transaction, see `models.statistics`). Rows written around that path (bulk loads of demo or
synthetic data, a restore) are counted by a rebuild: every hour from `since` (by default from the
earliest raw row) is deleted and recounted with one INSERT ... SELECT per table. Hours before the
earliest raw row keep their counts: the raw rows were purged after retention, the counts stay.
A rebuild is a repair: on SQLite it holds the write lock while it recounts (seconds for a million
check-ins), so run it in a quiet hour; the live counters need no job.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Integer, String, and_, case, cast, delete, func, insert, select

from server.extensions import db
from server.models.checkins import CheckIn
from server.models.compounds import Compound, Household
from server.models.health import TemperatureReading
from server.models.people import User
from server.models.statistics import (
    SECONDS_PER_HOUR,
    CheckinHourly,
    CompoundPopulation,
    ReadingHourly,
    hour_of,
)
from server.plumbing.clock import utcnow


def _hour_expression(column):
    """The hour bucket of a timestamp column in SQL, equal to `hour_of` in Python on both databases."""
    if db.session.get_bind().dialect.name == "sqlite":
        # Stored as naive UTC text 'YYYY-MM-DD HH:MM:SS.ffffff'. Cut to the hour as text first: SQLite
        # reads times to the millisecond, rounding 00:59:59.9996 up into the next hour.
        seconds = cast(func.strftime("%s", func.substr(cast(column, String), 1, 13) + ":00:00"), Integer)
    else:
        seconds = cast(func.floor(func.extract("epoch", column)), Integer)
    return seconds // SECONDS_PER_HOUR


def _first_hour(column) -> int | None:
    earliest = db.session.scalar(select(func.min(column)))
    return hour_of(earliest) if earliest is not None else None


def rebuild_rollups(since: datetime | None = None) -> dict[str, int]:
    """Recount the hourly rollups from the raw rows, from `since` (default: the earliest raw row); flushes,
    the caller commits. Answers the number of rollup rows written per table."""
    counts = {}
    for name, rollup, time_column, select_rows in (
            ("checkin_hourly", CheckinHourly, CheckIn.occurred_at, _checkin_rows),
            ("reading_hourly", ReadingHourly, TemperatureReading.measured_at, _reading_rows)):
        first = hour_of(since) if since is not None else _first_hour(time_column)
        if first is None:
            counts[name] = 0
            continue
        db.session.execute(delete(rollup).where(rollup.hour >= first))
        query = select_rows(first)
        db.session.execute(insert(rollup).from_select([c.name for c in query.selected_columns], query))
        # Counted, not the statement's rowcount (psycopg answers -1 for INSERT ... SELECT here).
        counts[name] = db.session.scalar(select(func.count()).select_from(rollup).where(rollup.hour >= first))
    db.session.flush()
    return counts


def count_population() -> int:
    """Recount every compound's approved, active residents into `CompoundPopulation`; answers the number
    of compounds counted. The counting is a read: only the few rows it writes take SQLite's write lock,
    so check-ins go on while it counts."""
    now = utcnow()
    counts = db.session.execute(
        select(Compound.id, func.count(User.id)).select_from(Compound)
        .outerjoin(Household, Household.compound_id == Compound.id)
        .outerjoin(User, and_(User.household_id == Household.id, User.role == "resident",
                              User.residency == "approved", User.is_active.is_(True)))
        .group_by(Compound.id)).all()
    db.session.execute(delete(CompoundPopulation))
    if counts:
        db.session.execute(insert(CompoundPopulation), [
            {"compound_id": compound_id, "residents": residents, "counted_at": now} for compound_id, residents in counts])
    db.session.flush()
    return len(counts)


def _checkin_rows(first: int):
    hour = _hour_expression(CheckIn.occurred_at).label("hour")
    allowed = func.sum(case((CheckIn.decision == "allowed", 1), else_=0)).label("allowed")
    denied = func.sum(case((CheckIn.decision == "allowed", 0), else_=1)).label("denied")
    out = CheckIn.direction == "out"
    allowed_out = func.sum(case((and_(out, CheckIn.decision == "allowed"), 1), else_=0)).label("allowed_out")
    denied_out = func.sum(case((and_(out, CheckIn.decision != "allowed"), 1), else_=0)).label("denied_out")
    return (select(CheckIn.gate_id.label("gate_id"), hour, CheckIn.compound_id.label("compound_id"), allowed, denied,
                   allowed_out, denied_out)
            .where(CheckIn.occurred_at >= _hour_start(first))
            .group_by(CheckIn.gate_id, hour, CheckIn.compound_id))


def _reading_rows(first: int):
    hour = _hour_expression(TemperatureReading.measured_at).label("hour")
    return (select(TemperatureReading.compound_id.label("compound_id"), hour,
                   func.count().label("readings"),
                   func.sum(case((TemperatureReading.high.is_(True), 1), else_=0)).label("high"),
                   func.sum(case((TemperatureReading.outcome == "fever", 1), else_=0)).label("fever"))
            .where(TemperatureReading.measured_at >= _hour_start(first))
            .group_by(TemperatureReading.compound_id, hour))


def _hour_start(hour: int) -> datetime:
    return datetime.fromtimestamp(hour * SECONDS_PER_HOUR, UTC)
