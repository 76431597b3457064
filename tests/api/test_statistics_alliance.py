"""The alliance's areas of the statistics (incidents, supplies): equal to figures computed here from the
raw rows, at every level, and free of personal data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from statistics import median

import time_machine
from sqlalchemy import select

from server.extensions import db
from server.models.incidents import Incident
from server.models.supplies import SupplyItem, SupplyStock
from tests.personal_data import assert_no_personal_data, personal_values

NOW = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)


def _incident(world, compound, *, raised_ago: int, arrival: int | None, needs: int | None, target: int = 10,
              closed: bool = False) -> None:
    raised = NOW - timedelta(minutes=raised_ago)
    db.session.add(Incident(
        alliance_id=world.alliance.id, compound_id=compound.id, kind="flood", place="1号楼", status="closed"
        if closed else "open", target_minutes=target, raised_at=raised,
        first_arrival_at=raised + timedelta(minutes=arrival) if arrival is not None else None,
        needs_met_at=raised + timedelta(minutes=needs) if needs is not None else None,
        closed_at=NOW if closed else None))


def _stock(world, item, quantity, *, company=None, compound=None, threshold=None) -> None:
    db.session.add(SupplyStock(alliance_id=world.alliance.id, item_id=item.id, quantity=quantity,
                               company_id=company.id if company else None,
                               compound_id=compound.id if compound else None, low_threshold=threshold))


def _raw_figures(compound_ids: set[int], company_ids: set[int]) -> dict:
    """The two areas' figures computed straight from the rows, the way a person would count them."""
    since = NOW - timedelta(days=30)
    incidents = [i for i in db.session.scalars(select(Incident)) if i.compound_id in compound_ids
                 and since <= i.raised_at <= NOW]
    arrivals = [(i.first_arrival_at - i.raised_at).total_seconds() / 60 for i in incidents if i.first_arrival_at]
    needs = [(i.needs_met_at - i.raised_at).total_seconds() / 60 for i in incidents if i.needs_met_at]
    stocks = [s for s in db.session.scalars(select(SupplyStock))
              if s.compound_id in compound_ids or s.company_id in company_ids]
    masks = db.session.scalar(select(SupplyItem.id).where(SupplyItem.code == "masks"))
    return {
        "incidents": {
            "incidents_30_days": len(incidents), "open_incidents": sum(i.status == "open" for i in incidents),
            "median_minutes_to_first_arrival": round(median(arrivals), 1) if arrivals else None,
            "median_minutes_to_needs_met": round(median(needs), 1) if needs else None,
            "arrived_within_target": sum(1 for i in incidents if i.first_arrival_at and
                                         (i.first_arrival_at - i.raised_at).total_seconds() / 60 <= i.target_minutes)},
        "masks": sum(s.quantity for s in stocks if s.item_id == masks),
        "low": sum(1 for s in stocks if s.low_threshold is not None and s.quantity < s.low_threshold),
    }


@time_machine.travel(NOW, tick=False)
def test_incidents_and_supplies_equal_the_raw_rows_at_every_level(app, world, as_user):
    with app.app_context():
        _incident(world, world.compound_a, raised_ago=60, arrival=8, needs=25, closed=True)
        _incident(world, world.compound_a, raised_ago=30, arrival=14, needs=None)
        _incident(world, world.compound_b, raised_ago=20, arrival=None, needs=None)
        _incident(world, world.compound_orphan, raised_ago=90, arrival=9, needs=40, target=5, closed=True)
        _incident(world, world.compound_a, raised_ago=60 * 24 * 31, arrival=5, needs=5, closed=True)  # too old
        masks = SupplyItem(alliance_id=world.alliance.id, code="masks", name="口罩", unit="只")
        pumps = SupplyItem(alliance_id=world.alliance.id, code="pumps", name="水泵", unit="台")
        db.session.add_all([masks, pumps])
        db.session.flush()
        _stock(world, masks, 5000, company=world.company_a, threshold=1000)
        _stock(world, masks, 300, compound=world.compound_a, threshold=500)  # below its threshold
        _stock(world, masks, 40, compound=world.compound_b)
        _stock(world, pumps, 2, compound=world.compound_b)
        _stock(world, masks, 7, compound=world.compound_orphan)
        db.session.commit()
        everything = _raw_figures({world.compound_a.id, world.compound_b.id, world.compound_orphan.id},
                                  {world.company_a.id, world.company_b.id})
        company_a = _raw_figures({world.compound_a.id}, {world.company_a.id})
        compound_b = _raw_figures({world.compound_b.id}, set())

    admin = as_user(world.admin)
    alliance = admin.get("/api/v1/statistics/alliance").json
    assert alliance["incidents"] == everything["incidents"]
    assert alliance["supplies"]["masks_on_hand"] == everything["masks"] == 5347
    assert alliance["supplies"]["stocks_below_threshold"] == everything["low"] == 1
    assert alliance["supplies"]["on_hand"] == {"masks": 5347, "pumps": 2}
    row_a = next(r for r in alliance["companies"] if r["id"] == world.company_a.id)
    assert row_a["incidents"] == company_a["incidents"]
    assert row_a["supplies"] == {"stocks_below_threshold": 1, "masks_on_hand": company_a["masks"]}

    staff_a = as_user(world.staff_a).get(f"/api/v1/statistics/companies/{world.company_a.id}").json
    assert staff_a["incidents"] == company_a["incidents"]
    assert staff_a["supplies"]["masks_on_hand"] == 5300
    compound = as_user(world.staff_b).get(f"/api/v1/statistics/compounds/{world.compound_b.id}").json
    assert compound["incidents"] == compound_b["incidents"] == {
        "incidents_30_days": 1, "open_incidents": 1, "median_minutes_to_first_arrival": None,
        "median_minutes_to_needs_met": None, "arrived_within_target": 0}
    assert compound["supplies"]["on_hand"] == {"masks": 40, "pumps": 2}

    personal = personal_values(app)
    for answer in (alliance, staff_a, compound):
        assert_no_personal_data(answer, personal)
    header = admin.get("/api/v1/statistics/alliance/export?format=csv").get_data(as_text=True).splitlines()[0]
    assert "近30天应急事件" in header and "口罩库存" in header
