"""The roster rules at their boundaries (pure check_booking), and the local week they count in."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from server.services.roster.roster_rules import (
    MIN_REST,
    ON_LEAVE,
    OVERLAP,
    WEEK_HOURS,
    Booking,
    RosterPolicy,
    check_booking,
    local_week_start,
)

TZ = "Asia/Shanghai"
POLICY = RosterPolicy(min_rest=timedelta(hours=8), max_week_hours=48)
# Monday 2026-03-02 00:00 in Shanghai.
MONDAY = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)


def shift(sid: int, start_hours: float, hours: float = 8) -> Booking:
    """A booking starting ``start_hours`` after local Monday 00:00."""
    start = MONDAY + timedelta(hours=start_hours)
    return Booking(sid, start, start + timedelta(hours=hours))


def rules_broken(candidate, bookings=(), absences=(), policy=POLICY):
    return {v.rule: v.shift_ids for v in check_booking(candidate, bookings, absences, policy, TZ)}


def test_local_week_starts_monday_midnight_local():
    assert local_week_start(TZ, date(2026, 3, 4)) == MONDAY
    assert local_week_start(TZ, date(2026, 3, 2)) == MONDAY
    assert local_week_start(TZ, date(2026, 3, 1)) == MONDAY - timedelta(days=7)


def test_overlap_by_one_minute_is_refused_touching_is_not():
    other = shift(1, 0, 8)
    touching = shift(2, 8, 8)
    overlapping = Booking(3, other.ends_at - timedelta(minutes=1), other.ends_at + timedelta(hours=8))
    no_rest = RosterPolicy(min_rest=timedelta(0), max_week_hours=48)
    assert rules_broken(touching, [other], policy=no_rest) == {}
    assert rules_broken(overlapping, [other], policy=no_rest) == {OVERLAP: (3, 1)}


def test_min_rest_exactly_eight_hours_is_allowed():
    first = shift(1, 0, 8)  # 00:00-08:00
    assert rules_broken(shift(2, 16, 8), [first]) == {}  # 16:00, exactly 8 h rest
    assert rules_broken(shift(3, 16 - 1 / 60, 8), [first]) == {MIN_REST: (3, 1)}
    # And before: a shift ending 8 h before the other starts is fine, one minute later is not.
    later = shift(4, 40, 8)
    assert rules_broken(shift(5, 24, 8), [later]) == {}
    assert rules_broken(shift(6, 24 + 1 / 60, 8), [later]) == {MIN_REST: (6, 4)}


def test_week_hours_exactly_the_limit_is_allowed():
    five = [shift(i, 24 * i, 8) for i in range(5)]  # 40 h
    assert rules_broken(shift(10, 24 * 5, 8), five) == {}  # 48 h
    assert rules_broken(shift(11, 24 * 5, 8 + 1 / 60), five) == {WEEK_HOURS: (11, 0, 1, 2, 3, 4)}


def test_shift_crossing_into_next_week_counts_only_its_part():
    # 40 h in week 1, then Sunday 20:00 -> Monday 08:00: 4 h in week 1 (44 h), 8 h in week 2.
    five = [shift(i, 24 * i, 8) for i in range(5)]
    overnight = shift(20, 24 * 6 + 20, 12)
    assert rules_broken(overnight, five) == {}
    # With 6 h more in week 1 (46 + 4 = 50 h) it breaks the limit of week 1 only.
    six = five + [shift(6, 24 * 5, 6)]
    broken = check_booking(overnight, six, (), POLICY, TZ)
    assert [v.rule for v in broken] == [WEEK_HOURS]
    assert broken[0].detail["hours"] == 50 and broken[0].detail["week_start"] == MONDAY.isoformat()


def test_leave_touching_the_shift_is_fine_overlapping_is_not():
    candidate = shift(1, 8, 8)
    before = (7, MONDAY, candidate.starts_at, "leave")
    into = (8, MONDAY, candidate.starts_at + timedelta(minutes=1), "unavailable")
    assert rules_broken(candidate, absences=[before]) == {}
    broken = check_booking(candidate, [], [into], POLICY, TZ)
    assert [(v.rule, v.detail["leave_ids"]) for v in broken] == [(ON_LEAVE, [8])]


@pytest.mark.parametrize("hours", [8, 12])
def test_the_same_shift_is_not_its_own_conflict(hours):
    candidate = shift(1, 0, hours)
    assert rules_broken(candidate, [candidate]) == {}
