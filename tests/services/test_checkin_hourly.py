"""The gate board's counts of a day: closed hours from the hourly rollup, the rest from the raw rows, and the
answer always equal to counting the raw rows, whether the day's rollup is whole, partial, missing or stale."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, insert, update

from server.extensions import db
from server.models.checkins import CheckIn
from server.models.compounds import Compound
from server.models.statistics import CheckinHourly, hour_of
from server.plumbing.clock import local_day_bounds
from server.services.alliance.rollups import rebuild_rollups
from server.services.gate.checkin_hourly import counts_from_raw, hourly_counts
from server.services.gate.checkin_rows import _count
from tests.factories import make_gate

DAY = date(2020, 2, 3)
SHANGHAI = "Asia/Shanghai"


def _traffic(world, tz_name: str, day: date, now: datetime, seed: int = 3) -> list[dict]:
    """A day of check-ins at two gates of compound A (both directions, some denied) up to `now`, the day before,
    and compound B's; bulk-inserted and counted by a rebuild, as the synthetic and demo data are."""
    rng = random.Random(seed)
    compound = db.session.get(Compound, world.compound_a.id)
    compound.timezone = tz_name
    gates = [world.gate_a.id, make_gate(compound).id]
    start, _end = local_day_bounds(tz_name, day)
    rows = []
    for n in range(400):
        at = start - timedelta(hours=3) + (now - start + timedelta(hours=3)) * rng.random()
        rows.append(_row(world, n, rng.choice(gates), at, rng.choice(("in", "out")),
                         "denied" if rng.random() < 0.15 else "allowed"))
    rows.append(_row(world, 999, world.gate_b.id, now - timedelta(hours=2), "in", "allowed",
                     compound_id=world.compound_b.id))
    db.session.execute(insert(CheckIn), rows)
    rebuild_rollups()
    return rows


def _row(world, n: int, gate_id: int, at: datetime, direction: str, decision: str, compound_id=None) -> dict:
    return {"compound_id": compound_id or world.compound_a.id, "gate_id": gate_id, "direction": direction,
            "method": "manual", "decision": decision, "reason": "ok", "flags": [], "author_id": world.guard_a.id,
            "client_id": f"h-{n}", "fingerprint": "x", "server_time": at, "occurred_at": at,
            "lawful_basis": "necessary_for_entry", "reply": {}, "person_name": "登记"}


def _live(world, n: int, gate_id: int, at: datetime, direction: str, decision: str) -> None:
    """A check-in written as the gate writes one: the row and its hour's counter in the same transaction."""
    row = _row(world, n, gate_id, at, direction, decision)
    db.session.execute(insert(CheckIn), [row])
    _count(row)


def _both_ways(world, tz_name: str, day: date, now: datetime):
    tz = ZoneInfo(tz_name)
    start, end = local_day_bounds(tz_name, day)
    return hourly_counts(world.compound_a.id, tz, start, end, now), counts_from_raw(world.compound_a.id, tz, start, end)


def _hour(at: datetime) -> int:
    return hour_of(at)


def test_whole_partial_missing_and_stale_rollups_answer_as_the_raw_rows(ctx, world):
    now = datetime(2020, 2, 3, 13, 25, tzinfo=ZoneInfo(SHANGHAI)).astimezone(UTC)
    rows = _traffic(world, SHANGHAI, DAY, now)
    # The open hour, written live.
    for n in range(5):
        _live(world, 1000 + n, world.gate_a.id, now - timedelta(minutes=n), ("in", "out")[n % 2], "allowed")
    fast, raw = _both_ways(world, SHANGHAI, DAY, now)
    assert fast == raw and sum(raw.values()) > 200
    # Late rows bulk-loaded into a closed hour without counting (a partial hour), and a closed hour live.
    nine = datetime(2020, 2, 3, 9, 10, tzinfo=ZoneInfo(SHANGHAI)).astimezone(UTC)
    db.session.execute(insert(CheckIn), [_row(world, 2000, world.gate_a.id, nine, "out", "allowed")])
    _live(world, 2001, world.gate_a.id, nine + timedelta(minutes=5), "in", "denied")
    # A missing hour: its rollup rows deleted; a stale one: counted before the direction was.
    db.session.execute(delete(CheckinHourly).where(CheckinHourly.hour == _hour(nine) - 2))
    db.session.execute(update(CheckinHourly).where(CheckinHourly.hour == _hour(nine) - 1)
                       .values(allowed_out=None))
    # Raw rows gone, counts kept (a resident's consent withdrawn deletes their rows, not the counts).
    ten = [r for r in rows if _hour(r["occurred_at"]) == _hour(nine) + 1]
    assert ten
    db.session.execute(delete(CheckIn).where(CheckIn.client_id == ten[0]["client_id"]))
    # The whole day before: nothing of it is read.
    db.session.execute(delete(CheckinHourly).where(CheckinHourly.hour < _hour(nine) - 12))
    fast, raw = _both_ways(world, SHANGHAI, DAY, now)
    assert fast == raw
    # Every rollup row of the day gone: the raw rows answer alone.
    db.session.execute(delete(CheckinHourly))
    fast, raw = _both_ways(world, SHANGHAI, DAY, now)
    assert fast == raw


def test_closed_hours_are_read_from_the_rollup_and_the_open_hour_from_the_raw_rows(ctx, world):
    now = datetime(2020, 2, 3, 13, 25, tzinfo=ZoneInfo(SHANGHAI)).astimezone(UTC)
    _traffic(world, SHANGHAI, DAY, now)
    eleven = _hour(datetime(2020, 2, 3, 11, 0, tzinfo=ZoneInfo(SHANGHAI)))
    # A split by direction only the rollup holds (the totals still agree with the raw rows), at 11:00 and now.
    for hour in (eleven, _hour(now)):
        db.session.execute(update(CheckinHourly).where(CheckinHourly.hour == hour, CheckinHourly.gate_id == world.gate_a.id)
                           .values(allowed_out=CheckinHourly.allowed, denied_out=CheckinHourly.denied))
    fast, raw = _both_ways(world, SHANGHAI, DAY, now)
    assert {k: v for k, v in fast.items() if k[:3] == (world.gate_a.id, 11, "in")} == {}
    assert any(k[:3] == (world.gate_a.id, 13, "in") for k in fast)  # the open hour: raw
    others = {k: v for k, v in fast.items() if k[1] != 11}
    assert others == {k: v for k, v in raw.items() if k[1] != 11}


@pytest.mark.parametrize(("tz_name", "day", "local_now"), [
    ("Asia/Kolkata", date(2020, 2, 3), (18, 40)),           # half an hour off UTC: no UTC hour is a local one
    ("America/New_York", date(2020, 11, 1), (23, 30)),     # the clocks go back: 25 hours, 01:00 twice
    ("America/New_York", date(2020, 3, 8), (22, 5)),        # the clocks go forward: 23 hours
])
def test_other_zones_and_clock_changes(ctx, world, tz_name, day, local_now):
    now = datetime(day.year, day.month, day.day, *local_now, tzinfo=ZoneInfo(tz_name)).astimezone(UTC)
    _traffic(world, tz_name, day, now, seed=len(tz_name))
    fast, raw = _both_ways(world, tz_name, day, now)
    assert fast == raw and sum(raw.values()) > 200
