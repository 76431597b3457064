"""PIPL retention: health and movement records are deleted once older than RETENTION_DAYS.

Deletes go in small batches, each its own short transaction, so the gate's inserts never wait
long behind the purge. Runs outside a request (`flask wuye purge`), so it commits.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import InstrumentedAttribute

from server.extensions import db
from server.models.alerts import Alert
from server.models.checkins import CheckIn, Visitor
from server.models.health import QuarantineOrder, TemperatureReading
from server.models.notifications import Notification
from server.models.trips import Trip
from server.plumbing.audit import record
from server.plumbing.clock import utcnow

BATCH = 500
# Each batch is sized to take about this long: it holds the write lock (all of SQLite's, or the deleted
# rows' on PostgreSQL) that long, so a gate's check-in waits at most about that behind the purge.
BATCH_SECONDS = 0.010
MIN_BATCH = 20


def retention_cutoff(now: datetime | None = None, days: int | None = None) -> datetime:
    """The moment before which records are too old to keep."""
    days = current_app.config["RETENTION_DAYS"] if days is None else days
    return (now or utcnow()) - timedelta(days=days)


def purge(now: datetime | None = None, *, days: int | None = None, batch: int = BATCH, pause: float = 0.0,
          batch_seconds: float | None = None, progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Delete check-ins, visitors, readings, ended orders, alerts, trips and inbox messages older than the retention period;
    answers the counts deleted and writes one audit row. Commits each batch: at most `batch` rows, and
    with `batch_seconds`, as many as take about that long (`next_batch_size`).

    Every alert kind goes: each repeats health or movement data (a temperature, a missed report, a
    returnee's cities, a reused pass, a welfare check's last sighting), acknowledged or not.
    """
    cutoff = retention_cutoff(now, days)
    last_seen = func.coalesce(Visitor.left_at, Visitor.arrived_at, Visitor.created_at)
    # Each target is taken oldest first by an indexed time column, so a batch reads only what it deletes.
    targets: list[tuple[str, type, ColumnElement[bool], InstrumentedAttribute]] = [
        ("checkins", CheckIn, CheckIn.server_time < cutoff, CheckIn.server_time),
        # Visitors carry names, phones and travel history: they go once their visit is that old.
        ("visitors", Visitor, (Visitor.created_at < cutoff) & (last_seen < cutoff), Visitor.created_at),
        ("temperature_readings", TemperatureReading, TemperatureReading.measured_at < cutoff,
         TemperatureReading.measured_at),
        ("quarantine_orders", QuarantineOrder, QuarantineOrder.ends_at < cutoff, QuarantineOrder.ends_at),
        ("quarantine_orders", QuarantineOrder, QuarantineOrder.lifted_at < cutoff, QuarantineOrder.lifted_at),
        ("alerts", Alert, Alert.created_at < cutoff, Alert.created_at),
        # Inbox messages repeat the same (an alert, a quarantine order); one still being sent waits.
        ("notifications", Notification, (Notification.created_at < cutoff)
         & Notification.status.not_in(("pending", "sending")), Notification.created_at),
        # A declared trip is travel history: it goes once its attention period is that old.
        ("trips", Trip, Trip.attention_until < cutoff, Trip.attention_until),
    ]
    counts: dict[str, int] = {}
    for name, model, too_old, oldest_first in targets:
        counts[name] = counts.get(name, 0) + _delete_in_batches(model, too_old, oldest_first, batch, pause,
                                                                batch_seconds)
        if progress is not None:
            progress(name, counts[name])
    record("retention.purge", object_type="retention", reason="PIPL retention period",
           detail={"cutoff": cutoff.isoformat(), **counts})
    db.session.commit()
    return counts


def next_batch_size(size: int, elapsed: float, target: float, maximum: int) -> int:
    """The next batch's row count: scaled toward `target` seconds, at most doubled, within MIN_BATCH..maximum."""
    scale = min(2.0, target / max(elapsed, 1e-6))
    return max(min(MIN_BATCH, maximum), min(maximum, int(size * scale)))


def _delete_in_batches(model: type, condition: ColumnElement[bool], oldest_first: InstrumentedAttribute,
                       batch: int, pause: float, batch_seconds: float | None) -> int:
    total, floor = 0, None
    # A timed purge starts small: its first batches read cold pages and would hold the lock longest.
    size = batch if batch_seconds is None else min(batch, MIN_BATCH)
    while True:
        started = time.perf_counter()
        # Each batch starts where the last one ended (ties included): on PostgreSQL the index entries
        # of the rows just deleted stay until a vacuum, and a scan from the oldest end would walk all of
        # them again at every batch. A row older than the floor arriving meanwhile (a device's late
        # upload) waits for the next run.
        oldest = select(model.id, oldest_first).where(condition)
        if floor is not None:
            oldest = oldest.where(oldest_first >= floor)
        rows = db.session.execute(oldest.order_by(oldest_first).limit(size)).all()
        if not rows:
            return total
        ids, floor = [row[0] for row in rows], rows[-1][1]
        total += db.session.execute(delete(model).where(model.id.in_(ids))
                                    .execution_options(synchronize_session=False)).rowcount
        db.session.commit()
        if batch_seconds is not None:
            size = next_batch_size(size, time.perf_counter() - started, batch_seconds, batch)
        if pause:
            time.sleep(pause)
