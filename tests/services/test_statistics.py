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
    rows = [{"compound_id": world.compound_a.id, "gate_id": world.gate_a.id, "direction": "in", "method": "manual",
             "decision": "allowed" if n % 3 else "denied", "reason": "ok", "flags": [], "author_id": world.guard_a.id,
             "client_id": f"edge-{n}", "fingerprint": "x", "server_time": at, "occurred_at": at,
             "lawful_basis": "necessary_for_entry", "reply": {}} for n, at in enumerate(EDGES)]
    db.session.execute(insert(CheckIn), rows)
    connection = db.session.connection()
    for row in rows:
        allowed = int(row["decision"] == "allowed")
        connection.execute(CHECKIN_COUNTER[connection.dialect.name], {
            "gate_id": row["gate_id"], "hour": hour_of(row["occurred_at"]), "compound_id": row["compound_id"],
            "allowed": allowed, "denied": 1 - allowed})
    live = sorted(db.session.execute(select(CheckinHourly.hour, CheckinHourly.allowed, CheckinHourly.denied)).all())
    assert [h for h, _, _ in live] == sorted({hour_of(at) for at in EDGES})
    assert rebuild_rollups() == {"checkin_hourly": 3, "reading_hourly": 0}
    rebuilt = sorted(db.session.execute(select(CheckinHourly.hour, CheckinHourly.allowed, CheckinHourly.denied)).all())
    assert rebuilt == live
    # From a later moment only the later hours are recounted; earlier ones keep their counts.
    assert rebuild_rollups(EDGES[1] + timedelta(minutes=1))["checkin_hourly"] == 1
    assert sorted(db.session.execute(select(CheckinHourly.hour, CheckinHourly.allowed,
                                            CheckinHourly.denied)).all()) == live
