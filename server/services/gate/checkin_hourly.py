"""A compound's check-ins per gate, local hour, direction and decision over a span of its day (the gate board).

Closed hours are read from the hourly rollup (`checkin_hourly`, counted in each check-in's own
transaction), the open hour and any hour the rollup cannot answer exactly from the raw rows. An hour
is taken from the rollup only when its rows are broken down by direction and add up to the raw rows'
count of that hour (one index count): a rollup that is missing, partial (rows bulk-loaded without
counting, an hour counted before the direction columns existed) or ahead of the raw rows (a resident's
consent withdrawn deletes their rows, not the counts) falls back to the raw rows, so the answer is
always the raw rows' answer.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta, tzinfo

from sqlalchemy import func, select

from server.extensions import db
from server.models.checkins import CheckIn
from server.models.statistics import SECONDS_PER_HOUR, CheckinHourly, hour_of

_TICK = timedelta(microseconds=1)


def counts_from_raw(compound_id: int, tz: tzinfo, start: datetime, end: datetime) -> Counter:
    """(gate id, local hour, direction, decision) -> check-ins, counted from the raw rows in [start, end)."""
    counts: Counter = Counter()
    for gate_id, occurred_at, direction, decision in db.session.execute(
            select(CheckIn.gate_id, CheckIn.occurred_at, CheckIn.direction, CheckIn.decision)
            .where(CheckIn.compound_id == compound_id, CheckIn.occurred_at >= start, CheckIn.occurred_at < end)):
        counts[(gate_id, occurred_at.astimezone(tz).hour, direction, decision)] += 1
    return counts


def hourly_counts(compound_id: int, tz: tzinfo, start: datetime, end: datetime, now: datetime) -> Counter:
    """The same counts as `counts_from_raw`, the closed hours read from the rollup where it is exact."""
    closed = {}
    for hour in range(hour_of(start), min(hour_of(end - _TICK) + 1, hour_of(now))):
        local = _local_hour(hour, tz)
        if local is not None and _at(hour) >= start and _at(hour + 1) <= end:
            closed[hour] = local
    rolled = _exact_rollup_hours(compound_id, closed)
    counts: Counter = Counter()
    for hour, rows in rolled.items():
        for gate_id, allowed, denied, allowed_out, denied_out in rows:
            for key, n in (((gate_id, closed[hour], "out", "allowed"), allowed_out),
                           ((gate_id, closed[hour], "out", "denied"), denied_out),
                           ((gate_id, closed[hour], "in", "allowed"), allowed - allowed_out),
                           ((gate_id, closed[hour], "in", "denied"), denied - denied_out)):
                if n:
                    counts[key] += n
    cursor = start
    for hour in sorted(rolled):
        if _at(hour) > cursor:
            counts.update(counts_from_raw(compound_id, tz, cursor, _at(hour)))
        cursor = _at(hour + 1)
    if cursor < end:
        counts.update(counts_from_raw(compound_id, tz, cursor, end))
    return counts


def _at(hour: int) -> datetime:
    return datetime.fromtimestamp(hour * SECONDS_PER_HOUR, UTC)


def _local_hour(hour: int, tz: tzinfo) -> int | None:
    """The local hour a whole UTC hour falls in, or None when it straddles two (a zone off by half an hour)."""
    first, last = _at(hour).astimezone(tz), (_at(hour + 1) - _TICK).astimezone(tz)
    return first.hour if first.minute == 0 and first.second == 0 and last.hour == first.hour else None


def _exact_rollup_hours(compound_id: int, hours: dict[int, int]) -> dict[int, list[tuple]]:
    """The hours whose rollup rows are broken down by direction and add up to the raw rows' count; their rows."""
    if not hours:
        return {}
    rows = defaultdict(list)
    for hour, *counts in db.session.execute(
            select(CheckinHourly.hour, CheckinHourly.gate_id, CheckinHourly.allowed, CheckinHourly.denied,
                   CheckinHourly.allowed_out, CheckinHourly.denied_out)
            .where(CheckinHourly.compound_id == compound_id, CheckinHourly.hour >= min(hours),
                   CheckinHourly.hour <= max(hours))):
        rows[hour].append(tuple(counts))
    # Read after the rollup: a check-in committed in between makes its hour disagree, and it is read raw.
    ordered = sorted(hours)
    raw = db.session.execute(select(*(
        select(func.count()).select_from(CheckIn)
        .where(CheckIn.compound_id == compound_id, CheckIn.occurred_at >= _at(hour), CheckIn.occurred_at < _at(hour + 1))
        .scalar_subquery() for hour in ordered))).one()
    exact = {}
    for hour, raw_count in zip(ordered, raw, strict=True):
        found = rows.get(hour, [])
        if all(r[3] is not None and r[4] is not None for r in found) and sum(r[1] + r[2] for r in found) == raw_count:
            exact[hour] = found
    return exact
