"""Synthetic grocery deliveries: requests by households each day with two items each; old ones
confirmed, today's still open in every status of the queue."""

from __future__ import annotations

from datetime import timedelta

REQUESTS_PER_HOUSEHOLD_DAY = 0.01
OPEN_STATUSES = ("submitted", "submitted", "claimed", "purchasing", "on_the_way")
REQUEST_COLUMNS = ("id", "compound_id", "household_id", "requester_id", "client_id", "fingerprint", "status",
                   "budget_note", "drop_point", "contactless", "for_elderly", "for_infant", "needs_medicine",
                   "urgency", "note", "claimed_by_id", "claimed_at", "delivered_at", "confirmed_at",
                   "auto_confirmed", "close_reason", "cost_note", "created_at")
ITEM_COLUMNS = ("id", "request_id", "position", "name", "quantity", "unit", "note", "outcome", "outcome_note")
GOODS = (("大米", "袋"), ("鸡蛋", "盒"), ("青菜", "斤"), ("牛奶", "箱"), ("退烧药", "盒"))


def extend(district) -> dict[str, int]:
    """Add delivery requests and their items for every day of traffic."""
    rng, now, loader = district.rng, district.now, district.loader
    requests, items = [], []
    for days_ago in range(district.days - 1, -1, -1):
        day_start = district.day_start(days_ago)
        for compound_id in district.compound_ids:
            residents = district.residents_by_compound[compound_id]
            staff = district.staff_id_by_compound[compound_id]
            count = int(len(district.household_ids_by_compound[compound_id]) * REQUESTS_PER_HOUSEHOLD_DAY
                        + rng.random())
            first = loader.next_id("delivery_requests", count)
            for rid in range(first, first + count):
                created = day_start + timedelta(hours=rng.randrange(7, 21), seconds=rng.randrange(3600))
                if created > now:
                    continue
                user_id, household_id = residents[rng.randrange(len(residents))]
                medicine, elderly = rng.random() < 0.1, rng.random() < 0.15
                status = rng.choice(OPEN_STATUSES) if days_ago == 0 else "confirmed"
                claimed = status != "submitted"
                delivered = created + timedelta(hours=3) if status == "confirmed" else None
                requests.append((rid, compound_id, household_id, user_id, f"d{rid}", "synth", status, "", "door",
                                 True, elderly, False, medicine, 2 * medicine + elderly, "",
                                 staff if claimed else None, created + timedelta(minutes=30) if claimed else None,
                                 delivered, delivered, False, "", "", created))
                first_item = loader.next_id("delivery_items", 2)
                for position, (name, unit) in enumerate(rng.sample(GOODS, 2)):
                    items.append((first_item + position, rid, position, name, 1.0, unit, "",
                                  "bought" if status == "confirmed" else "pending", ""))
        if len(requests) > 20_000 or days_ago == 0:
            loader.write("delivery_requests", REQUEST_COLUMNS, requests)
            loader.write("delivery_items", ITEM_COLUMNS, items)
            requests, items = [], []
    return {"delivery_requests": loader.written.get("delivery_requests", 0),
            "delivery_items": loader.written.get("delivery_items", 0)}
