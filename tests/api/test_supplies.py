"""The supplies ledger through the API: the seed's mask sharing end to end, scope, transfers, thresholds,
the CSV export, and racing withdrawals and transfers on real threads (never below zero)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models.alerts import Alert
from server.models.alliance import Alliance
from server.models.audit import AuditEntry
from server.models.notifications import Notification
from tests.factories import make_company, make_compound, make_user

URL = "/api/v1/supplies"


def company(c) -> dict:
    return {"kind": "company", "id": c}


def compound(c) -> dict:
    return {"kind": "compound", "id": c}


@dataclass
class Story:
    """The seed's alliance: a big company with masks, two small ones with a compound each."""

    big: int
    small1: int
    small2: int
    yard1: int
    yard2: int
    staff_big: object
    staff_small1: object
    staff_small2: object


def build_story(app, world) -> Story:
    """Add the seed's three companies (and the small ones' compounds) to the standard world."""
    with app.app_context():
        alliance = db.session.merge(world.alliance)
        big, small1, small2 = (make_company(alliance, n) for n in ("万科物业", "京安物业", "龙锦物业"))
        yard1, yard2 = make_compound(alliance, small1, "京安小区"), make_compound(alliance, small2, "龙锦小区")
        staff = [make_user(alliance, "staff", company=c, name=n)
                 for c, n in ((big, "万科客服"), (small1, "京安客服"), (small2, "龙锦客服"))]
        db.session.commit()
        return Story(big.id, small1.id, small2.id, yard1.id, yard2.id, *staff)


@pytest.fixture
def story(app, world) -> Story:
    return build_story(app, world)


def ok(response, status=201):
    assert response.status_code == status, response.json
    return response.json


def offer(client, item, giver, receiver, quantity, note=""):
    return client.post(f"{URL}/transfers", json={"item": item, "from": giver, "to": receiver,
                                                 "quantity": quantity, "note": note})


def test_the_big_company_shares_its_masks_and_the_ledger_shows_where_each_went(story, world, as_user):
    big, small1, small2 = as_user(story.staff_big), as_user(story.staff_small1), as_user(story.staff_small2)
    ok(big.post(f"{URL}/receipts", json={"item": "masks", "holder": company(story.big), "quantity": 10000,
                                         "source": "集团配备"}))
    to1 = ok(offer(big, "masks", company(story.big), company(story.small1), 3000, "支援一线保安"))
    to2 = ok(offer(big, "masks", company(story.big), company(story.small2), 2000))
    assert (to1["status"], to1["in_transit"], to1["from"]["name"], to1["to"]["name"]) == \
        ("offered", True, "万科物业", "京安物业")
    # Offered: out of the giver's stock at once, in transit, and visible to the receiver.
    [mine] = ok(big.get(f"{URL}/stock?item=masks"), 200)
    assert (mine["quantity"], mine["in_transit_out"]) == (5000, 5000)
    assert [t["id"] for t in ok(small1.get(f"{URL}/transfers?status=in_transit"), 200)["items"]] == [to1["id"]]
    assert ok(small2.get(f"{URL}/transfers"), 200)["total"] == 1

    accepted = ok(small1.post(f"{URL}/transfers/{to1['id']}/accept"), 200)
    assert accepted["status"] == "accepted" and accepted["accepted_by_id"] == story.staff_small1.id
    received = ok(small1.post(f"{URL}/transfers/{to1['id']}/receive"), 200)
    assert received["status"] == "received" and received["received_at"] and not received["in_transit"]
    ok(small2.post(f"{URL}/transfers/{to2['id']}/accept"), 200)
    ok(small2.post(f"{URL}/transfers/{to2['id']}/receive"), 200)

    # The small companies take masks to their compounds and use some there.
    ok(small1.post(f"{URL}/moves", json={"item": "masks", "from": company(story.small1), "to": compound(story.yard1),
                                         "quantity": 1000}))
    used = ok(small1.post(f"{URL}/uses", json={"item": "masks", "holder": compound(story.yard1), "quantity": 300,
                                               "note": "门岗保安每日更换"}))
    assert (used["quantity"], used["balance_after"]) == (-300, 700)
    ok(small2.post(f"{URL}/moves", json={"item": "masks", "from": company(story.small2), "to": compound(story.yard2),
                                         "quantity": 500}))
    ok(small2.post(f"{URL}/uses", json={"item": "masks", "holder": compound(story.yard2), "quantity": 120}))
    ok(small2.post(f"{URL}/uses", json={"item": "masks", "holder": compound(story.yard2), "quantity": 80}))

    ledger = ok(as_user(world.admin).get(f"{URL}/ledger?item=masks&page_size=100"), 200)
    summary = {h["holder"]["name"]: (h["received"], h["transferred_in"], h["transferred_out"], h["used"], h["on_hand"])
               for h in ledger["holders"]}
    assert summary == {
        "万科物业": (10000, 0, 5000, 0, 5000),
        "京安物业": (0, 3000, 1000, 0, 2000),
        "龙锦物业": (0, 2000, 500, 0, 1500),
        "京安小区": (0, 1000, 0, 300, 700),
        "龙锦小区": (0, 500, 0, 200, 300),
    }
    # Every mask is accounted for: on hand somewhere, or used at a compound.
    assert sum(h["on_hand"] + h["used"] for h in ledger["holders"]) == 10000
    entries = ledger["items"]
    assert ledger["total"] == len(entries) == 12
    # By holder, each holder's entries in order with a running total.
    holders = [(e["holder"]["kind"], e["holder"]["id"]) for e in entries]
    assert holders == sorted(holders, key=lambda h: (h[0] != "company", h[1]))
    running: dict = {}
    for e in entries:
        key = (e["holder"]["kind"], e["holder"]["id"])
        running[key] = running.get(key, 0) + e["quantity"]
        assert e["balance_after"] == running[key], e
    out_of_big = [e for e in entries if e["holder"]["name"] == "万科物业" and e["kind"] == "transfer_out"]
    assert sorted((e["counterpart"]["name"], -e["quantity"]) for e in out_of_big) == [("京安物业", 3000),
                                                                                     ("龙锦物业", 2000)]

    # A small company sees its own holders only, and where its masks came from.
    theirs = ok(small1.get(f"{URL}/ledger?item=masks"), 200)
    assert {h["holder"]["name"] for h in theirs["holders"]} == {"京安物业", "京安小区"}
    [got] = [e for e in theirs["items"] if e["kind"] == "transfer_in" and e["holder"]["kind"] == "company"]
    assert got["counterpart"]["name"] == "万科物业" and got["actor_name"] == "京安客服"
    # by holder, with the holder filter
    one = ok(small1.get(f"{URL}/ledger?item=masks&holder=compound:{story.yard1}"), 200)
    assert [(e["kind"], e["quantity"], e["balance_after"]) for e in one["items"]] == [("transfer_in", 1000, 1000),
                                                                                     ("use", -300, 700)]


def test_the_ledger_exports_as_an_audited_formula_safe_csv(app, story, as_user):
    big = as_user(story.staff_big)
    ok(big.post(f"{URL}/receipts", json={"item": "masks", "holder": company(story.big), "quantity": 50,
                                         "source": "=HYPERLINK(\"http://x\")"}))
    ok(big.post(f"{URL}/uses", json={"item": "masks", "holder": company(story.big), "quantity": 5}))
    response = big.get(f"{URL}/ledger.csv?item=masks")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0][:3] == ["时间", "持有方类型", "持有方"]
    assert [(r[2], r[5], r[6], r[7], r[8]) for r in rows[1:]] == [("万科物业", "入库", "50", "", "50"),
                                                                  ("万科物业", "使用", "", "5", "45")]
    assert rows[1][11] == "'=HYPERLINK(\"http://x\")"
    with app.app_context():
        [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "supplies.ledger_export")).all()
        assert entry.actor_id == story.staff_big.id and entry.detail["rows"] == 2

    # The same ledger as a workbook: numbers stay numbers, the formula stays text, audited again.
    import openpyxl

    book = big.get(f"{URL}/ledger.xlsx?item=masks")
    assert book.status_code == 200 and book.mimetype.endswith("spreadsheetml.sheet")
    sheet = openpyxl.load_workbook(io.BytesIO(book.data)).active
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert cells[0][:3] == ["时间", "持有方类型", "持有方"]
    assert [(r[2], r[5], r[6], r[7], r[8]) for r in cells[1:]] == [("万科物业", "入库", 50, None, 50),
                                                                   ("万科物业", "使用", None, 5, 45)]
    assert cells[1][11] == '=HYPERLINK("http://x")' and sheet.cell(row=2, column=12).data_type == "s"
    with app.app_context():
        assert len(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "supplies.ledger_export")).all()) == 2


def test_staff_see_and_move_only_their_own_holders(app, story, world, as_user):
    big, small1, admin = as_user(story.staff_big), as_user(story.staff_small1), as_user(world.admin)
    ok(big.post(f"{URL}/receipts", json={"item": "masks", "holder": company(story.big), "quantity": 100}))
    # another company's warehouse or compound: as if it did not exist
    assert small1.get(f"{URL}/stock?holder=company:{story.big}").status_code == 404
    assert small1.post(f"{URL}/uses", json={"item": "masks", "holder": company(story.big),
                                            "quantity": 1}).status_code == 404
    assert big.post(f"{URL}/receipts", json={"item": "masks", "holder": compound(story.yard1),
                                             "quantity": 1}).status_code == 404
    assert ok(small1.get(f"{URL}/stock"), 200) == []
    assert ok(small1.get(f"{URL}/ledger?item=masks"), 200)["total"] == 0
    # the admin sees everything but moves only the stock of compounds no company runs
    assert [s["holder"]["name"] for s in ok(admin.get(f"{URL}/stock"), 200)] == ["万科物业"]
    refused = admin.post(f"{URL}/uses", json={"item": "masks", "holder": company(story.big), "quantity": 1})
    assert (refused.status_code, refused.json["reason"]) == (403, "holder_read_only")
    orphan = compound(world.compound_orphan.id)
    ok(admin.post(f"{URL}/receipts", json={"item": "sandbags", "holder": orphan, "quantity": 40, "source": "街道"}))
    ok(admin.post(f"{URL}/uses", json={"item": "sandbags", "holder": orphan, "quantity": 15}))
    # a company of another alliance sees nothing of this one
    with app.app_context():
        other = Alliance(name="别的联盟")
        db.session.add(other)
        db.session.flush()
        stranger = make_user(other, "staff", company=make_company(other, "外盟物业"), name="外盟客服")
        db.session.commit()
    outsider = as_user(stranger)
    transfer = ok(offer(big, "masks", company(story.big), company(story.small1), 10))
    assert outsider.get(f"{URL}/transfers/{transfer['id']}").status_code == 404
    assert outsider.post(f"{URL}/transfers/{transfer['id']}/accept").status_code == 404
    assert ok(outsider.get(f"{URL}/transfers"), 200)["total"] == 0
    assert outsider.get(f"{URL}/stock?holder=company:{story.big}").status_code == 404
    assert offer(big, "masks", company(story.big), {"kind": "company", "id": stranger.company_id},
                 1).status_code == 404
    # a third company may not act on a transfer between two others
    assert as_user(story.staff_small2).post(f"{URL}/transfers/{transfer['id']}/accept").status_code == 404


def test_a_declined_or_cancelled_transfer_returns_to_the_giver(story, as_user):
    big, small1 = as_user(story.staff_big), as_user(story.staff_small1)
    ok(big.post(f"{URL}/receipts", json={"item": "gloves", "holder": company(story.big), "quantity": 100}))
    first = ok(offer(big, "gloves", company(story.big), company(story.small1), 60))
    short = offer(big, "gloves", company(story.big), company(story.small1), 60)
    assert (short.status_code, short.json["reason"], short.json["available"]) == (409, "stock_insufficient", 40)
    # the giver cannot accept its own offer, the receiver cannot cancel it
    assert big.post(f"{URL}/transfers/{first['id']}/accept").json["reason"] == "transfer_receiver_only"
    assert small1.post(f"{URL}/transfers/{first['id']}/cancel").json["reason"] == "transfer_giver_only"
    declined = ok(small1.post(f"{URL}/transfers/{first['id']}/decline", json={"reason": "已有库存"}), 200)
    assert (declined["status"], declined["close_reason"], declined["closed_by_id"]) == \
        ("declined", "已有库存", story.staff_small1.id)
    assert small1.post(f"{URL}/transfers/{first['id']}/receive").json["reason"] == "transfer_not_open"
    assert ok(big.get(f"{URL}/stock?item=gloves"), 200)[0]["quantity"] == 100
    second = ok(offer(big, "gloves", company(story.big), compound(story.yard1), 30))
    ok(small1.post(f"{URL}/transfers/{second['id']}/accept"), 200)
    cancelled = ok(big.post(f"{URL}/transfers/{second['id']}/cancel", json={"reason": "车辆故障"}), 200)
    assert cancelled["status"] == "cancelled"
    again = small1.post(f"{URL}/transfers/{second['id']}/receive")
    assert (again.status_code, again.json["status"]) == (409, "cancelled")
    stock = ok(big.get(f"{URL}/stock?item=gloves"), 200)
    assert [(s["holder"]["name"], s["quantity"], s["in_transit_out"]) for s in stock] == [("万科物业", 100, 0)]
    kinds = [(e["kind"], e["quantity"]) for e in ok(big.get(f"{URL}/ledger?item=gloves"), 200)["items"]]
    assert kinds == [("receipt", 100), ("transfer_out", -60), ("transfer_return", 60), ("transfer_out", -30),
                     ("transfer_return", 30)]


def test_bad_input_is_refused_with_field_messages(story, as_user):
    big = as_user(story.staff_big)
    holder = company(story.big)
    cases = [
        ({"item": "masks", "holder": holder, "quantity": 0}, "receipts"),
        ({"item": "masks", "holder": holder, "quantity": -5}, "uses"),
        ({"item": "masks", "holder": holder, "quantity": "3"}, "uses"),
        ({"item": "masks", "holder": {"kind": "street", "id": 1}, "quantity": 3}, "receipts"),
        ({"item": "masks", "holder": holder, "delta": 0, "reason": "盘点"}, "adjustments"),
        ({"item": "masks", "holder": holder, "delta": -3}, "adjustments"),
    ]
    for body, path in cases:
        assert big.post(f"{URL}/{path}", json=body).status_code == 422, (path, body)
    assert big.post(f"{URL}/receipts", json={"item": "caviar", "holder": holder, "quantity": 1}).status_code == 404
    assert big.get(f"{URL}/ledger?item=masks&holder=warehouse:1").status_code == 422
    assert big.get(f"{URL}/ledger").status_code == 422
    same = offer(big, "masks", holder, holder, 1)
    assert same.status_code == 422
    own = offer(big, "masks", holder, company(story.big), 1)
    assert own.status_code == 422
    adjust = big.post(f"{URL}/adjustments", json={"item": "masks", "holder": holder, "delta": -1, "reason": "破损"})
    assert (adjust.status_code, adjust.json["available"]) == (409, 0)


def test_the_admin_extends_the_catalogue(world, as_user):
    admin = as_user(world.admin)
    codes = [i["code"] for i in ok(as_user(world.staff_a).get(f"{URL}/items"), 200)]
    assert codes == ["masks", "disinfectant", "gloves", "thermometers", "pumps", "sandbags"]
    item = ok(admin.post(f"{URL}/items", json={"code": "wipes", "name": "消毒湿巾", "unit": "包"}))
    assert (item["name"], item["unit"]) == ("消毒湿巾", "包")
    assert admin.post(f"{URL}/items", json={"code": "wipes", "name": "别名", "unit": "包"}).json["reason"] == \
        "item_exists"
    assert admin.post(f"{URL}/items", json={"code": "Wipes!", "name": "x", "unit": "包"}).status_code == 422
    assert as_user(world.staff_a).post(f"{URL}/items", json={"code": "x1", "name": "x", "unit": "个"}).status_code == 403
    staff = as_user(world.staff_a)
    entry = ok(staff.post(f"{URL}/receipts", json={"item": "wipes", "holder": company(world.company_a.id),
                                                   "quantity": 12}))
    assert entry["item"]["unit"] == "包" and entry["balance_after"] == 12


def test_falling_below_a_threshold_alerts_once_per_crossing(app, story, as_user):
    small1 = as_user(story.staff_small1)
    yard = compound(story.yard1)
    ok(small1.post(f"{URL}/receipts", json={"item": "disinfectant", "holder": yard, "quantity": 150}))
    set_ = ok(small1.put(f"{URL}/thresholds", json={"item": "disinfectant", "holder": yard, "threshold": 100}), 200)
    assert (set_["low_threshold"], set_["low"]) == (100, False)
    for n in (40, 20, 30):  # 110, 90 (crossing), 60
        ok(small1.post(f"{URL}/uses", json={"item": "disinfectant", "holder": yard, "quantity": n}))
    with app.app_context():
        alerts = db.session.scalars(select(Alert).where(Alert.kind == "low_stock")).all()
        assert [(a.compound_id, a.detail["quantity"], a.detail["threshold"]) for a in alerts] == \
            [(story.yard1, 90, 100)]
    ok(small1.post(f"{URL}/receipts", json={"item": "disinfectant", "holder": yard, "quantity": 100}))  # 160
    ok(small1.post(f"{URL}/uses", json={"item": "disinfectant", "holder": yard, "quantity": 70}))  # 90 again
    assert ok(small1.get(f"{URL}/stock?holder=compound:{story.yard1}"), 200)[0]["low"] is True
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Alert.kind == "low_stock")) == 2
    # A company's warehouse: its staff get a message instead.
    warehouse = company(story.small1)
    ok(small1.post(f"{URL}/receipts", json={"item": "masks", "holder": warehouse, "quantity": 20}))
    ok(small1.put(f"{URL}/thresholds", json={"item": "masks", "holder": warehouse, "threshold": 10}), 200)
    ok(small1.post(f"{URL}/uses", json={"item": "masks", "holder": warehouse, "quantity": 15}))
    with app.app_context():
        messages = db.session.scalars(select(Notification).where(Notification.kind == "low_stock")).all()
        assert [(m.user_id, m.data["number3"], m.data["number4"]) for m in messages] == \
            [(story.staff_small1.id, "5", "10")]
    # only staff of the holder may set its threshold
    assert as_user(story.staff_big).put(f"{URL}/thresholds", json={"item": "masks", "holder": warehouse,
                                                                   "threshold": 1}).status_code == 404
