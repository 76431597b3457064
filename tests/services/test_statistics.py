"""The hourly rollups: the SQL hour of a rebuild equals the Python hour of the live counter, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from server.extensions import db
from server.models.checkins import CheckIn
from server.models.statistics import CHECKIN_COUNTER, CheckinHourly, hour_of
from server.services.alliance.rollups import rebuild_rollups

EDGES = [datetime(2026, 12, 2, 0, 59, 59, 999999, tzinfo=UTC), datetime(2026, 12, 2, 1, 0, tzinfo=UTC),
         datetime(2026, 12, 2, 1, 0, 0, 1, tzinfo=UTC), datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC)]


def test_rebuilt_hours_equal_the_live_counters_hours(ctx, world):
    rows = [{"compound_id": world.compound_a.id, "gate_id": world.gate_a.id, "direction": ("in", "out")[n % 2],
             "method": "manual",
             "decision": "allowed" if n % 3 else "denied", "reason": "ok", "flags": [], "author_id": world.guard_a.id,
             "client_id": f"edge-{n}", "fingerprint": "x", "server_time": at, "occurred_at": at,
             "lawful_basis": "necessary_for_entry", "reply": {}} for n, at in enumerate(EDGES)]
    db.session.execute(insert(CheckIn), rows)
    connection = db.session.connection()
    for row in rows:
        allowed, out = int(row["decision"] == "allowed"), int(row["direction"] == "out")
        connection.execute(CHECKIN_COUNTER[connection.dialect.name], {
            "gate_id": row["gate_id"], "hour": hour_of(row["occurred_at"]), "compound_id": row["compound_id"],
            "allowed": allowed, "denied": 1 - allowed, "allowed_out": allowed * out, "denied_out": (1 - allowed) * out})
    counted = select(CheckinHourly.hour, CheckinHourly.allowed, CheckinHourly.denied, CheckinHourly.allowed_out,
                     CheckinHourly.denied_out)
    live = sorted(db.session.execute(counted).all())
    assert [row[0] for row in live] == sorted({hour_of(at) for at in EDGES})
    assert sum(row[3] + row[4] for row in live) == 2
    assert rebuild_rollups() == {"checkin_hourly": 3, "reading_hourly": 0}
    rebuilt = sorted(db.session.execute(counted).all())
    assert rebuilt == live
    # From a later moment only the later hours are recounted; earlier ones keep their counts.
    assert rebuild_rollups(EDGES[1] + timedelta(minutes=1))["checkin_hourly"] == 1
    assert sorted(db.session.execute(counted).all()) == live


def test_a_counter_not_given_the_direction_leaves_the_hour_unsplit(ctx, world):
    """A writer that does not give the direction counts (an older one) makes its hour NULL, and it stays NULL."""
    connection = db.session.connection()
    for allowed_out in (None, 1):
        params = {"gate_id": world.gate_a.id, "hour": 1000, "compound_id": world.compound_a.id, "allowed": 1,
                  "denied": 0}
        connection.execute(CHECKIN_COUNTER[connection.dialect.name],
                           params if allowed_out is None else {**params, "allowed_out": 1, "denied_out": 0})
    assert db.session.execute(select(CheckinHourly.allowed, CheckinHourly.allowed_out,
                                     CheckinHourly.denied_out)).one() == (2, None, None)
