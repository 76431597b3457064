"""Synthetic visitors: walk-ins registered by the guard, each in and out through the main gate; a few of
today's are still inside."""

from __future__ import annotations

from datetime import timedelta

from server.demo.synth_checkins import CHECKIN_COLUMNS

VISITORS_PER_HOUSEHOLD_DAY = 0.02
VISITOR_COLUMNS = ("id", "compound_id", "household_id", "registered_by_id", "kind", "name", "phone",
                   "expected_date", "from_city", "purpose", "travel_cities", "returnee", "status", "lawful_basis",
                   "client_id", "created_at", "arrived_at", "left_at")


def extend(district) -> dict[str, int]:
    """Add walk-in visitors and their passages for every day of traffic."""
    rng, now, loader = district.rng, district.now, district.loader
    totals = {"visitors": 0, "visitor_checkins": 0}
    for days_ago in range(district.days - 1, -1, -1):
        day_start = district.day_start(days_ago)
        visitors, checkins = [], []
        for compound_id in district.compound_ids:
            households = district.household_ids_by_compound[compound_id]
            gate = district.gate_ids_by_compound[compound_id][0]
            count = int(len(households) * VISITORS_PER_HOUSEHOLD_DAY + rng.random())
            first = loader.next_id("visitors", count)
            for vid in range(first, first + count):
                arrived = day_start + timedelta(hours=rng.choice((9, 10, 11, 14, 15, 16, 19)),
                                                seconds=rng.randrange(3600))
                if arrived > now:
                    continue
                left = arrived + timedelta(minutes=rng.randrange(20, 240))
                guard = district.guard_ids_by_compound[compound_id][rng.randrange(3)]  # the main gate's
                status = "left" if left <= now else "inside"
                visitors.append((vid, compound_id, rng.choice(households), guard, "walk_in", "访客",
                                 f"139{rng.randrange(10**8):08d}", (day_start + timedelta(hours=12)).date(), "青岛",
                                 "探亲", [], False, status, "public_health_emergency", f"v{vid}", arrived, arrived,
                                 left if status == "left" else None))
                for direction, at in (("in", arrived), ("out", left)):
                    if at <= now:
                        checkins.append([None, compound_id, gate, None, None, "", direction, "manual", "allowed",
                                         "ok", [], None, "", guard, guard, f"v{vid}-{direction}", "synth", at, at,
                                         "public_health_emergency", {}, vid])
        loader.write("visitors", VISITOR_COLUMNS, visitors)
        first = loader.next_id("checkins", len(checkins))
        loader.write("checkins", (*CHECKIN_COLUMNS, "visitor_id"),
                     [(first + i, *row[1:]) for i, row in enumerate(checkins)])
        totals["visitors"] += len(visitors)
        totals["visitor_checkins"] += len(checkins)
    return totals
