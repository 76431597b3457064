"""Demo grocery deliveries: three households of 万龙小区 in home quarantine with open requests."""

from __future__ import annotations

from datetime import timedelta

from server.extensions import db
from server.models.health import QuarantineOrder
from server.plumbing.clock import utcnow
from server.services.delivery.deliveries import create_delivery
from server.services.delivery.delivery_lifecycle import claim_delivery

QUARANTINE_DAYS = 14
# resident key, minutes since submission, urgency tags, items (name, quantity, unit)
DEMO_REQUESTS = [
    ("wl-1", 95, ["medicine", "elderly"], [("降压药(硝苯地平)", 1, "盒"), ("小米", 2, "斤"), ("鸡蛋", 10, "个")]),
    ("wl-2", 40, ["infant"], [("婴儿奶粉", 1, "罐"), ("香蕉", 1.5, "斤")]),
    ("wl-3", 20, [], [("白菜", 1, "棵"), ("猪肉", 1, "斤"), ("西红柿", 2, "斤"), ("挂面", 2, "袋")]),
]


def load(org) -> None:
    """Put three 万龙小区 households in home quarantine and give each an open delivery request."""
    compound = org.compounds["万龙小区"]
    now = utcnow()
    requests = []
    for key, minutes_ago, tags, items in DEMO_REQUESTS:
        resident = org.residents[key]
        db.session.add(QuarantineOrder(
            compound_id=compound.id, household_id=resident.household_id, reason="returned_from_city",
            from_city="武汉", starts_at=now - timedelta(days=3), ends_at=now + timedelta(days=QUARANTINE_DAYS - 3),
            created_by_id=org.staff["wanlong"].id))
        db.session.flush()
        request = create_delivery(resident, {
            "client_id": f"demo-{key}", "items": [{"name": n, "quantity": q, "unit": u} for n, q, u in items],
            "budget_note": "微信转账给接单人", "drop_point": "door", "contactless": True, "urgency": tags,
        })
        request.created_at = now - timedelta(minutes=minutes_ago)
        requests.append(request)
    db.session.flush()
    # The most urgent one is already being handled, so the queue shows every stage.
    claim_delivery(org.staff["wanlong"], requests[0])
