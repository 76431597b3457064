"""The supplies ledger's rules below the API: the database refuses negative stock and inconsistent
entries, running totals and low-stock crossings are exact, and the demo's mask sharing adds up."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from server.errors import ConflictError
from server.extensions import db
from server.models.alerts import Alert
from server.models.people import User
from server.models.supplies import SupplyEntry, SupplyStock, SupplyTransfer
from server.services.alliance import supplies, supply_ledger, supply_transfers
from server.services.alliance.supply_catalogue import STANDARD_ITEMS, find_item, list_items
from server.services.alliance.supply_holders import Holder


@pytest.fixture
def w(ctx, world):
    return type(world)(**{k: db.session.merge(v) for k, v in vars(world).items()})


def _masks_at(w):
    item = find_item(w.staff_a, "masks")
    holder = Holder("compound", w.compound_a.id, w.compound_a.name)
    return item, holder


def test_the_database_refuses_negative_stock(w):
    item, holder = _masks_at(w)
    supplies.record_receipt(w.staff_a, item, holder, 5, "", "")
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(update(SupplyStock).values(quantity=SupplyStock.quantity - 6))
        db.session.flush()
    db.session.rollback()
    for bad in ({"kind": "use", "quantity": 3, "balance_after": 8}, {"kind": "receipt", "quantity": -1, "balance_after": 4},
                {"kind": "adjustment", "quantity": 1, "balance_after": 6},  # no reason
                {"kind": "transfer_in", "quantity": 1, "balance_after": 6},  # no transfer
                {"kind": "use", "quantity": -9, "balance_after": -4}):
        db.session.add(SupplyEntry(alliance_id=w.alliance.id, item_id=item.id, compound_id=holder.id, **bad))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_taking_more_than_there_is_changes_nothing(w):
    item, holder = _masks_at(w)
    with pytest.raises(ConflictError) as refused:
        supplies.record_use(w.staff_a, item, holder, 1, "")
    assert (refused.value.reason, refused.value.extra["available"]) == ("stock_insufficient", 0)
    supplies.record_receipt(w.staff_a, item, holder, 10, "", "")
    with pytest.raises(ConflictError) as refused:
        supplies.record_adjustment(w.staff_a, item, holder, -11, "盘点")
    assert refused.value.extra == {"available": 10, "requested": 11, "item": "masks"}
    assert supplies.available(item, holder) == 10
    assert [e.balance_after for e in db.session.scalars(select(SupplyEntry).order_by(SupplyEntry.id))] == [10]


def test_running_totals_and_one_alert_per_crossing(w):
    item, holder = _masks_at(w)
    supplies.set_threshold(w.staff_a, item, holder, 10)
    for delta in (+30, -15, -6, -4, +20, -25, +3):  # 30 15 9* 5 25 0* 3
        if delta > 0:
            supplies.record_receipt(w.staff_a, item, holder, delta, "", "")
        else:
            supplies.record_use(w.staff_a, item, holder, -delta, "")
    balances = db.session.scalars(select(SupplyEntry.balance_after).order_by(SupplyEntry.id)).all()
    assert balances == [30, 15, 9, 5, 25, 0, 3]
    alerts = db.session.scalars(select(Alert).where(Alert.kind == "low_stock").order_by(Alert.id)).all()
    assert [(a.detail["quantity"], a.dedupe_key.rsplit(":", 1)[1]) for a in alerts] == [(9, "1"), (0, "2")]


def test_the_catalogue_is_seeded_once_per_alliance(w):
    assert [i.code for i in list_items(w.staff_a)] == list(STANDARD_ITEMS)
    assert [i.code for i in list_items(w.admin)] == list(STANDARD_ITEMS)


def test_the_demo_shares_the_masks_and_the_ledger_adds_up(ctx):
    from server.demo.load import load_demo

    org = load_demo()
    admin = db.session.scalar(select(User).where(User.role == "alliance_admin", User.alliance_id == org.alliance.id))
    masks = find_item(admin, "masks")
    summary = {s["holder"]["name"]: s for s in supply_ledger.holder_summaries(admin, masks)}
    assert {name: (s["on_hand"], s["used"], s["in_transit_out"], s["in_transit_in"]) for name, s in summary.items()} == {
        "万科物业": (14000, 0, 1000, 0),
        "万龙物业": (2000, 0, 0, 0),
        "京安保安服务公司": (1820, 180, 0, 1000),
        "万龙小区": (760, 240, 0, 0),
    }
    in_transit = db.session.scalar(select(SupplyTransfer).where(SupplyTransfer.status == "offered"))
    assert sum(s["on_hand"] + s["used"] for s in summary.values()) + in_transit.quantity == 20000
    # the second batch arrives: nothing is in transit any more
    jingan = org.staff["jingan"]
    supply_transfers.receive(jingan, supply_transfers.accept(jingan, in_transit))
    summary = {s["holder"]["name"]: s for s in supply_ledger.holder_summaries(admin, masks)}
    assert summary["京安保安服务公司"]["on_hand"] == 2820
    assert sum(s["on_hand"] + s["used"] for s in summary.values()) == 20000
    db.session.rollback()
