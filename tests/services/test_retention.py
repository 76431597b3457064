"""`flask wuye purge`: rows older than the retention period go, in batches; younger rows stay."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models.alerts import Alert
from server.models.audit import AuditEntry
from server.models.checkins import CheckIn, Visitor
from server.models.health import QuarantineExtension, QuarantineOrder, TemperatureReading
from server.models.notifications import Notification
from server.models.trips import Trip
from tests.factories import build_world

NOW = datetime(2026, 4, 1, 4, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def w(app):
    """The standard world, committed (the purge commits its batches)."""
    with app.app_context():
        yield build_world()
        db.session.rollback()


def _reading(w, at, n):
    db.session.add(TemperatureReading(compound_id=w.compound_a.id, subject_user_id=w.resident_a.id, source="self",
                                      celsius=36.5, lawful_basis="consent", measured_at=at, created_at=at,
                                      author_id=w.resident_a.id, client_id=f"r{n}"))


def _checkin(w, at, n):
    db.session.add(CheckIn(compound_id=w.compound_a.id, gate_id=w.gate_a.id, subject_user_id=w.resident_a.id,
                           direction="in", method="guard_scan", decision="allowed", reason="ok",
                           author_id=w.guard_a.id, client_id=f"c{n}", fingerprint="f", lawful_basis="consent",
                           server_time=at))


def _order(w, start, end, lifted=None):
    order = QuarantineOrder(compound_id=w.compound_a.id, user_id=w.resident_a.id, reason="other",
                            starts_at=start, ends_at=end, lifted_at=lifted)
    db.session.add(order)
    db.session.flush()
    return order


def test_purge_deletes_only_rows_older_than_28_days(w, app):
    edge = NOW - 28 * DAY
    for n, at in enumerate([edge - timedelta(seconds=1), edge - 3 * DAY, edge - 10 * DAY]):
        _reading(w, at, n)
        _checkin(w, at, n)
    for n, at in enumerate([edge, edge + DAY, NOW], start=10):
        _reading(w, at, n)
        _checkin(w, at, n)
    old = _order(w, edge - 20 * DAY, edge - DAY)
    db.session.add(QuarantineExtension(order_id=old.id, previous_ends_at=edge - 2 * DAY, new_ends_at=edge - DAY))
    lifted_long_ago = _order(w, edge - 40 * DAY, NOW + DAY, lifted=edge - 30 * DAY)
    recently_ended = _order(w, edge - 10 * DAY, edge + DAY)
    long_running = _order(w, edge - 5 * DAY, NOW + 10 * DAY)
    # Every kind of alert repeats health or movement data: all go once old enough, acknowledged or not.
    from server.plumbing.alerts import ALERT_KINDS

    for kind in ALERT_KINDS:
        db.session.add(Alert(compound_id=w.compound_a.id, kind=kind, created_at=edge - DAY))
        db.session.add(Alert(compound_id=w.compound_a.id, kind=kind, created_at=edge - DAY,
                             acknowledged_at=edge - DAY, acknowledged_by_id=w.staff_a.id))
        db.session.add(Alert(compound_id=w.compound_a.id, kind=kind, created_at=edge + DAY))
    for name, created, left in [("old", edge - 3 * DAY, edge - 2 * DAY), ("stayed", edge - 3 * DAY, edge + DAY),
                                ("new", edge + DAY, None)]:
        db.session.add(Visitor(compound_id=w.compound_a.id, kind="walk_in", name=name, phone="13900000000",
                               expected_date=created.date(), created_at=created, left_at=left))
    for city, until in (("武汉", edge - DAY), ("上海", edge + DAY)):
        db.session.add(Trip(compound_id=w.compound_a.id, user_id=w.resident_a.id, from_city=city, source="self",
                            returned_at=until - 14 * DAY, attention_until=until))
    db.session.commit()

    # Inbox messages: an old one read, an old one still being sent (kept), a recent one.
    for created, status in ((edge - DAY, "sent"), (edge - DAY, "pending"), (edge + DAY, "inbox_only")):
        db.session.add(Notification(user_id=w.resident_a.id, kind="alert", data={"thing1": "x"}, status=status,
                                    created_at=created))
    db.session.commit()

    from server.services.people.retention import purge

    counts = purge(NOW, batch=2)
    assert db.session.scalars(select(Trip.from_city)).all() == ["上海"]

    assert counts == {"checkins": 3, "visitors": 1, "temperature_readings": 3, "quarantine_orders": 2,
                      "alerts": 2 * len(ALERT_KINDS), "notifications": 1, "trips": 1}
    assert sorted(v.name for v in db.session.scalars(select(Visitor))) == ["new", "stayed"]
    assert sorted(r.client_id for r in db.session.scalars(select(TemperatureReading))) == ["r10", "r11", "r12"]
    assert sorted(c.client_id for c in db.session.scalars(select(CheckIn))) == ["c10", "c11", "c12"]
    kept = {o.id for o in db.session.scalars(select(QuarantineOrder))}
    assert kept == {recently_ended.id, long_running.id} and lifted_long_ago.id not in kept
    assert db.session.scalars(select(QuarantineExtension)).all() == []
    kept_alerts = db.session.scalars(select(Alert)).all()
    assert sorted(a.kind for a in kept_alerts) == sorted(ALERT_KINDS)
    assert all(a.created_at == edge + DAY for a in kept_alerts)
    assert sorted(n.status for n in db.session.scalars(select(Notification))) == ["inbox_only", "pending"]
    [audit] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "retention.purge")).all()
    assert audit.detail["temperature_readings"] == 3 and audit.actor_role == "system"


def test_retention_days_come_from_config(w, app):
    _reading(w, NOW - 8 * DAY, 1)
    _reading(w, NOW - 6 * DAY, 2)
    db.session.commit()
    app.config["RETENTION_DAYS"] = 7
    try:
        from server.services.people.retention import purge

        assert purge(NOW)["temperature_readings"] == 1
    finally:
        app.config["RETENTION_DAYS"] = 28


def test_the_purge_command_runs(w, app):
    _reading(w, datetime.now(UTC) - 40 * DAY, 1)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["wuye", "purge", "--pause", "0"])
    assert result.exit_code == 0, result.output
    # First what it is about to do (a scheduler's log, and the purge benchmark's signal), then what it did.
    assert result.output.splitlines()[0] == "purging records older than 28 days"
    assert "temperature_readings 1" in result.output.splitlines()[-1]


def test_a_timed_purge_deletes_the_same_rows_in_small_batches(w, app):
    """Sized by time, batches start at MIN_BATCH and still reach every old row, and no new one."""
    from sqlalchemy import event

    from server.services.people.retention import MIN_BATCH, purge

    for n in range(60):
        _reading(w, NOW - 40 * DAY + n * timedelta(minutes=1), n)
    _reading(w, NOW - DAY, 99)
    db.session.commit()
    deletes: list[int] = []

    def count(_conn, _cursor, statement, parameters, _context, _executemany):
        if statement.lstrip().upper().startswith("DELETE FROM TEMPERATURE_READINGS"):
            deletes.append(len(parameters) if isinstance(parameters, (tuple, list)) else statement.count("%("))

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        counts = purge(NOW, batch=500, batch_seconds=1e-9)  # any batch is "too slow": the size stays minimal
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert counts["temperature_readings"] == 60
    assert deletes == [MIN_BATCH] * 3, deletes
    assert [r.client_id for r in db.session.scalars(select(TemperatureReading))] == ["r99"]


def test_batches_that_start_where_the_last_ended_miss_no_tied_row(w, app):
    """Each batch reads from the last one's time on (not from the oldest end, past the index entries of
    rows just deleted): rows sharing one time across a batch's edge all go, younger rows stay."""
    from sqlalchemy import event

    from server.services.people.retention import purge

    tied = NOW - 40 * DAY
    for n in range(45):  # one moment, more rows than two batches of 20 hold
        _reading(w, tied, n)
    for n in range(5):
        _reading(w, tied + timedelta(minutes=n + 1), 100 + n)
    _reading(w, NOW - DAY, 99)
    db.session.commit()
    reads: list[tuple] = []

    def keep(_conn, _cursor, statement, parameters, _context, _executemany):
        if statement.lstrip().upper().startswith("SELECT TEMPERATURE_READINGS.ID"):
            reads.append(parameters)

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        counts = purge(NOW, batch=20)
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    assert counts["temperature_readings"] == 50
    assert [r.client_id for r in db.session.scalars(select(TemperatureReading))] == ["r99"]
    # The first read has the cutoff alone; every later one also the floor (4 reads: 20, 20, 10, none).
    assert len(reads) == 4 and len(reads[0]) + 1 == len(reads[1]), reads


@pytest.mark.parametrize(("size", "elapsed", "expected"), [
    (100, 0.005, 200),    # twice as fast as the target: doubled, not more
    (100, 0.001, 200),    # far faster: still only doubled
    (400, 0.020, 200),    # twice too slow: halved
    (400, 10.0, 20),      # a stall: down to the least batch
    (400, 0.004, 500),    # never above --batch
])
def test_the_next_batch_is_sized_toward_the_target_time(size, elapsed, expected):
    from server.services.people.retention import next_batch_size

    assert next_batch_size(size, elapsed, 0.010, 500) == expected
