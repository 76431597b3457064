"""Synthetic mutual aid and supplies: a closed incident at a compound now and then with its needs, and
each compound's stock of the alliance's supplies with a weekly receipt in the ledger."""

from __future__ import annotations

from datetime import timedelta

INCIDENT_EVERY_DAYS = 20
SUPPLIES = (("mask", "口罩", "个"), ("disinfectant", "消毒液", "瓶"), ("gloves", "手套", "双"),
            ("thermometer", "体温枪", "把"), ("suit", "防护服", "套"))


def extend(district) -> dict[str, int]:
    """Add incidents (with needs) and supplies (items, stocks, receipts)."""
    rng, loader, now = district.rng, district.loader, district.now
    incidents, needs = [], []
    for compound_id in district.compound_ids:
        for days_ago in range(rng.randrange(INCIDENT_EVERY_DAYS), district.days, INCIDENT_EVERY_DAYS):
            raised = district.day_start(days_ago) + timedelta(hours=rng.randrange(24))
            iid = loader.next_id("incidents")
            incidents.append((iid, district.alliance_id, compound_id, rng.choice(("flood", "outbreak", "power_cut")),
                              "3号楼", "", "closed", 10, district.staff_id_by_compound[compound_id], raised,
                              raised + timedelta(hours=6), "处置完毕"))
            first_need = loader.next_id("incident_needs", 2)
            needs += [(first_need, iid, "people", 4, ""), (first_need + 1, iid, "pump", 2, "")]
    loader.write("incidents", ("id", "alliance_id", "compound_id", "kind", "place", "description", "status",
                               "target_minutes", "raised_by_id", "raised_at", "closed_at", "summary"), incidents)
    loader.write("incident_needs", ("id", "incident_id", "item", "quantity", "note"), needs)

    first_item = loader.next_id("supply_items", len(SUPPLIES))
    tag = f"{first_item}"  # codes are unique per alliance: a second district in one alliance gets its own
    loader.write("supply_items", ("id", "alliance_id", "code", "name", "unit", "created_at"),
                 [(first_item + i, district.alliance_id, f"{code}-{tag}", f"{name}{tag}", unit, now)
                  for i, (code, name, unit) in enumerate(SUPPLIES)])
    stocks, entries = [], []
    for compound_id in district.compound_ids:
        first_stock = loader.next_id("supply_stocks", len(SUPPLIES))
        for i in range(len(SUPPLIES)):
            balance = 0
            for days_ago in range(district.days - 1, -1, -7):
                balance += 500
                entries.append((loader.next_id("supply_entries"), district.alliance_id, first_item + i, compound_id,
                                "receipt", 500, balance, "红十字会", "", district.staff_id_by_compound[compound_id],
                                district.day_start(days_ago) + timedelta(hours=9)))
            stocks.append((first_stock + i, district.alliance_id, first_item + i, compound_id, balance, 100, 0, now))
    loader.write("supply_stocks", ("id", "alliance_id", "item_id", "compound_id", "quantity", "low_threshold",
                                   "low_crossings", "updated_at"), stocks)
    loader.write("supply_entries", ("id", "alliance_id", "item_id", "compound_id", "kind", "quantity",
                                    "balance_after", "source", "reason", "actor_id", "created_at"), entries)
    return {"incidents": len(incidents), "supply_entries": len(entries)}
