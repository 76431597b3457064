"""Synthetic quarantine orders: a few households a day ordered home for 14 days, most already over."""

from __future__ import annotations

from datetime import timedelta

ORDERS_PER_HOUSEHOLD_DAY = 0.0005
ORDER_COLUMNS = ("id", "compound_id", "household_id", "user_id", "reason", "from_city", "note", "lawful_basis",
                 "starts_at", "ends_at", "created_by_id", "created_at")


def extend(district) -> dict[str, int]:
    """Add home-quarantine orders over the days of traffic."""
    rng, loader = district.rng, district.loader
    orders = []
    for days_ago in range(district.days - 1, -1, -1):
        starts = district.day_start(days_ago) + timedelta(hours=10)
        for compound_id in district.compound_ids:
            households = district.household_ids_by_compound[compound_id]
            count = int(len(households) * ORDERS_PER_HOUSEHOLD_DAY + rng.random())
            first = loader.next_id("quarantine_orders", count)
            for oid in range(first, first + count):
                orders.append((oid, compound_id, rng.choice(households), None,
                               rng.choice(("returned_from_city", "close_contact")), "上海", "",
                               "public_health_emergency", starts, starts + timedelta(days=14),
                               district.staff_id_by_compound[compound_id], starts))
    loader.write("quarantine_orders", ORDER_COLUMNS, orders)
    return {"quarantine_orders": len(orders)}
