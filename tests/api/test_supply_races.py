"""Racing supplies writes on real threads, each with its own connection (SQLite and PostgreSQL): two
withdrawals or transfers never drive stock below zero, a decline and a cancel return the items once,
opposite moves never deadlock, and a retry sent twice at once is recorded once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models.alerts import Alert
from server.models.supplies import SupplyEntry, SupplyItem, SupplyStock
from tests.api.test_supplies import URL, Story, build_story, company, compound, offer, ok
from tests.concurrency import run_together


@pytest.fixture
def story(app, world) -> Story:
    return build_story(app, world)


def _stock_of(app, holder_column, holder_id, code="masks") -> tuple[int, list[int]]:
    with app.app_context():
        item_id = db.session.scalar(select(SupplyItem.id).where(SupplyItem.code == code))
        quantity = db.session.scalar(select(SupplyStock.quantity).where(
            SupplyStock.item_id == item_id, getattr(SupplyStock, holder_column) == holder_id))
        balances = db.session.scalars(select(SupplyEntry.balance_after).where(
            SupplyEntry.item_id == item_id, getattr(SupplyEntry, holder_column) == holder_id)
            .order_by(SupplyEntry.id)).all()
        return quantity, balances


def test_racing_withdrawals_never_drive_stock_below_zero(app, story, as_user):
    clients = [as_user(story.staff_small1) for _ in range(4)]
    yard = compound(story.yard1)
    ok(clients[0].post(f"{URL}/receipts", json={"item": "masks", "holder": yard, "quantity": 100}))
    ok(clients[0].put(f"{URL}/thresholds", json={"item": "masks", "holder": yard, "threshold": 50}), 200)
    answers = run_together([lambda c=c: c.post(f"{URL}/uses", json={"item": "masks", "holder": yard, "quantity": 40})
                            for c in clients])
    assert sorted(a.status_code for a in answers) == [201, 201, 409, 409], [a.json for a in answers]
    assert {a.json["available"] for a in answers if a.status_code == 409} == {20}
    quantity, balances = _stock_of(app, "compound_id", story.yard1)
    assert quantity == 20 and balances == [100, 60, 20]
    with app.app_context():  # one crossing below 50, one alert
        assert db.session.scalar(select(func.count()).where(Alert.kind == "low_stock")) == 1


def test_racing_transfers_never_drive_stock_below_zero(app, story, as_user):
    clients = [as_user(story.staff_big) for _ in range(3)]
    giver = company(story.big)
    ok(clients[0].post(f"{URL}/receipts", json={"item": "masks", "holder": giver, "quantity": 100}))
    receivers = [company(story.small1), company(story.small2), compound(story.yard1)]
    answers = run_together([lambda c=c, r=r: offer(c, "masks", giver, r, 60) for c, r in zip(clients, receivers,
                                                                                          strict=True)])
    assert sorted(a.status_code for a in answers) == [201, 409, 409], [a.json for a in answers]
    assert all(a.json["reason"] == "stock_insufficient" and a.json["available"] == 40
               for a in answers if a.status_code == 409)
    # a move and a use racing for the rest: both fit only one at a time
    small1 = [as_user(story.staff_small1) for _ in range(2)]
    ok(small1[0].post(f"{URL}/receipts", json={"item": "pumps", "holder": company(story.small1), "quantity": 2}))
    move_use = run_together([
        lambda: small1[0].post(f"{URL}/moves", json={"item": "pumps", "from": company(story.small1),
                                                     "to": compound(story.yard1), "quantity": 2}),
        lambda: small1[1].post(f"{URL}/uses", json={"item": "pumps", "holder": company(story.small1), "quantity": 1}),
    ])
    assert sorted(a.status_code for a in move_use) == [201, 409], [a.json for a in move_use]
    quantity, balances = _stock_of(app, "company_id", story.big)
    assert quantity == 40 and balances == [100, 40]
    pumps_here, _ = _stock_of(app, "company_id", story.small1, "pumps")
    pumps_there, _ = _stock_of(app, "compound_id", story.yard1, "pumps")
    assert (pumps_here, pumps_there or 0) in ((1, 0), (0, 2))


def test_racing_decline_and_cancel_return_the_items_once(app, story, as_user):
    big, small1 = as_user(story.staff_big), as_user(story.staff_small1)
    ok(big.post(f"{URL}/receipts", json={"item": "masks", "holder": company(story.big), "quantity": 10}))
    for _ in range(3):
        transfer = ok(offer(big, "masks", company(story.big), company(story.small1), 10))
        answers = run_together([lambda t=transfer: big.post(f"{URL}/transfers/{t['id']}/cancel"),
                                lambda t=transfer: small1.post(f"{URL}/transfers/{t['id']}/decline")])
        assert sorted(a.status_code for a in answers) == [200, 409], [a.json for a in answers]
        quantity, balances = _stock_of(app, "company_id", story.big)
        assert quantity == 10 and balances[-1] == 10


def test_moves_in_opposite_directions_at_once_both_go_through(app, story, as_user):
    """The two stock rows are always changed in id order, so opposite moves wait for each other, never deadlock."""
    clients = [as_user(story.staff_small1) for _ in range(2)]
    warehouse, yard = company(story.small1), compound(story.yard1)
    ok(clients[0].post(f"{URL}/receipts", json={"item": "gloves", "holder": warehouse, "quantity": 50}))
    ok(clients[0].post(f"{URL}/receipts", json={"item": "gloves", "holder": yard, "quantity": 50}))
    for _ in range(4):
        answers = run_together([
            lambda: clients[0].post(f"{URL}/moves", json={"item": "gloves", "from": warehouse, "to": yard,
                                                          "quantity": 10}),
            lambda: clients[1].post(f"{URL}/moves", json={"item": "gloves", "from": yard, "to": warehouse,
                                                          "quantity": 5}),
        ])
        assert [a.status_code for a in answers] == [201, 201], [a.json for a in answers]
    assert _stock_of(app, "company_id", story.small1, "gloves")[0] == 30
    assert _stock_of(app, "compound_id", story.yard1, "gloves")[0] == 70


def test_a_retried_write_is_recorded_once(app, story, as_user):
    small1 = as_user(story.staff_small1)
    yard = compound(story.yard1)
    body = {"client_id": "console-1", "item": "masks", "holder": yard, "quantity": 30}
    first = small1.post(f"{URL}/receipts", json=body)
    again = small1.post(f"{URL}/receipts", json=body)
    assert (first.status_code, again.status_code) == (201, 200) and first.json["id"] == again.json["id"]
    changed = small1.post(f"{URL}/receipts", json={**body, "quantity": 31})
    assert (changed.status_code, changed.json["reason"]) == (409, "idempotency_mismatch")
    use = {"item": "masks", "holder": yard, "quantity": 10}
    key = {"Idempotency-Key": "use-7"}
    assert [small1.post(f"{URL}/uses", json=use, headers=key).status_code for _ in range(2)] == [201, 200]
    # the same retry sent twice at once, from two tabs: one records, the other answers the same entry
    clients = [as_user(story.staff_small1) for _ in range(2)]
    for n in range(4):  # 20 left, 5 each time: the last copy finds the stock gone and still answers the entry
        answers = run_together([lambda c=c, n=n: c.post(f"{URL}/uses", json={**use, "quantity": 5,
                                                                              "client_id": f"race-{n}"})
                                for c in clients])
        assert sorted(a.status_code for a in answers) == [200, 201], [a.json for a in answers]
        assert answers[0].json["id"] == answers[1].json["id"]
    assert _stock_of(app, "compound_id", story.yard1)[0] == 0
    ok(small1.post(f"{URL}/receipts", json={"item": "masks", "holder": yard, "quantity": 5}))
    moved = [small1.post(f"{URL}/moves", json={"client_id": "mv", "item": "masks", "from": yard,
                                               "to": company(story.small1), "quantity": 5}) for _ in range(2)]
    assert [m.status_code for m in moved] == [201, 200] and moved[0].json["id"] == moved[1].json["id"]
    assert _stock_of(app, "compound_id", story.yard1)[0] == 0
