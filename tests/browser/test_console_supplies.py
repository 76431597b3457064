"""Supplies transfers in the console, in a real Chromium: company A's staff offers masks to company B,
B's staff (in a browser of their own, phone sized) accepts and receives them, and both ledgers show the
change on the page and in the database; an offer beyond the stock shows the API's error; a declined
offer and a cancelled one return the items to the giver; the alliance admin sends from the compounds
no company runs and sees the transfers without acting for either side."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from server.extensions import db
from server.models.supplies import SupplyItem, SupplyStock, SupplyTransfer
from tests.browser.conftest import screenshot, sign_in

URL = "/api/v1/supplies"


def console_as(open_page, tokens, path: str, viewport: str = "desktop"):
    """A page signed in with tokens, opened at path."""
    page = open_page(viewport)
    sign_in(page, tokens)
    page.goto(path)
    return page


def stock_of(app, world, code: str, **holder) -> int:
    """The holder's stock of an item, read from the database."""
    with app.app_context():
        row = db.session.scalar(select(SupplyStock).join(SupplyItem, SupplyItem.id == SupplyStock.item_id).where(
            SupplyItem.alliance_id == world.alliance.id, SupplyItem.code == code,
            *[getattr(SupplyStock, k) == v for k, v in holder.items()]))
        return row.quantity if row else 0


def receive_stock(as_user, user, code: str, holder: dict, quantity: int) -> None:
    """Stock from outside the alliance, through the API."""
    response = as_user(user).post(f"{URL}/receipts", json={"item": code, "holder": holder, "quantity": quantity})
    assert response.status_code == 201, response.json


def offer_form(page, to: str, code: str, quantity: int, note: str = ""):
    """Fill and send the transfer form (from the default holder: the company's warehouse)."""
    form = page.locator("#transfer-form")
    form.get_by_label("调入方").select_option(to)
    form.get_by_label("物资").select_option(code)
    form.get_by_label("数量").fill(str(quantity))
    form.get_by_label("备注").fill(note)
    form.get_by_role("button", name="发出调拨").click()
    return form


def test_masks_offered_to_another_company_are_accepted_and_received(app, world, open_page, tokens_for, as_user):
    a, b = world.company_a.id, world.company_b.id
    receive_stock(as_user, world.staff_a, "masks", {"kind": "company", "id": a}, 500)
    giver = console_as(open_page, tokens_for(world.staff_a), "/console/supplies")
    expect(giver.locator("#tr-available")).to_have_text("可调出 500 只")
    offer_form(giver, f"company:{b}", "masks", 200, "支援乙物业门岗")
    offered = giver.locator("#transfer-list tbody tr").first
    expect(offered).to_contain_text("待接受")
    expect(offered).to_contain_text("口罩 200 只")
    expect(giver.locator(f"#stock tr[data-holder='company:{a}'][data-item='masks']")).to_contain_text("300 只")
    assert stock_of(app, world, "masks", company_id=a) == 300

    receiver = console_as(open_page, tokens_for(world.staff_b), "/console/supplies", "phone")
    incoming = receiver.locator("#transfer-list tbody tr").first
    expect(incoming).to_contain_text("调入")
    screenshot(receiver, "console-supplies-incoming")
    incoming.get_by_role("button", name="接受").click()
    receive = receiver.locator("#transfer-list tbody tr").first.get_by_role("button", name="确认收到 200 只")
    receive.click()
    expect(receiver.locator("#transfer-list tbody tr").first).to_contain_text("已收货")
    expect(receiver.locator(f"#stock tr[data-holder='company:{b}'][data-item='masks']")).to_contain_text("200 只")
    expect(receiver.locator("#ledger")).to_contain_text("调入 甲物业")
    screenshot(receiver, "console-supplies-received")
    assert stock_of(app, world, "masks", company_id=b) == 200

    giver.reload()
    expect(giver.locator("#transfer-list tbody tr").first).to_contain_text("已收货")
    expect(giver.locator("#ledger")).to_contain_text("调出 乙物业")
    expect(giver.locator(f"#stock tr[data-holder='company:{a}'][data-item='masks']")).to_contain_text("300 只")
    screenshot(giver, "console-supplies-transfers")
    giver.get_by_role("button", name="English").click()
    expect(giver.locator("#transfer-list tbody tr").first).to_contain_text("Masks 200 pcs")
    expect(giver.locator("#transfer-form")).to_contain_text("300 pcs available")
    screenshot(giver, "console-supplies-transfers-en")
    with app.app_context():
        transfer = db.session.scalar(select(SupplyTransfer))
        assert (transfer.status, transfer.quantity, transfer.to_company_id) == ("received", 200, b)
        assert transfer.accepted_by_id == transfer.received_by_id == world.staff_b.id


def test_an_offer_beyond_the_stock_is_refused_a_declined_and_a_cancelled_one_return(
        app, world, open_page, tokens_for, as_user, console_errors):
    console_errors.allow("status of 409")
    a = world.company_a.id
    receive_stock(as_user, world.staff_a, "gloves", {"kind": "company", "id": a}, 100)
    giver = console_as(open_page, tokens_for(world.staff_a), "/console/supplies")
    offer_form(giver, f"compound:{world.compound_b.id}", "gloves", 150)
    expect(giver.locator("#tr-error")).to_contain_text("库存不足")
    offer_form(giver, f"compound:{world.compound_b.id}", "gloves", 60, "先送一批")
    expect(giver.locator("#transfer-list tbody tr", has_text="60 副")).to_contain_text("待接受")
    assert stock_of(app, world, "gloves", company_id=a) == 40

    receiver = console_as(open_page, tokens_for(world.staff_b), "/console/supplies")
    row = receiver.locator("#transfer-list tbody tr").first
    row.get_by_role("button", name="拒绝").click()
    row.get_by_label("原因(可不填)").fill("已有库存")
    row.get_by_role("button", name="确认拒绝").click()
    expect(receiver.locator("#transfer-list tbody tr").first).to_contain_text("已拒绝")
    expect(receiver.locator("#transfer-list tbody tr").first).to_contain_text("已有库存")
    assert stock_of(app, world, "gloves", company_id=a) == 100

    offer_form(giver, f"company:{world.company_b.id}", "gloves", 30)
    row = giver.locator("#transfer-list tbody tr", has_text="30 副")
    expect(row).to_contain_text("待接受")
    row.get_by_role("button", name="撤回").click()
    row.get_by_role("button", name="确认撤回").click()
    expect(row).to_contain_text("已撤回")
    expect(giver.locator(f"#stock tr[data-holder='company:{a}'][data-item='gloves']")).to_contain_text("100 副")
    assert stock_of(app, world, "gloves", company_id=a) == 100
    with app.app_context():
        assert sorted(db.session.scalars(select(SupplyTransfer.status))) == ["cancelled", "declined"]
    admin = console_as(open_page, tokens_for(world.admin), "/console/supplies")
    expect(admin.locator("#transfer-list tbody tr")).to_have_count(2)
    assert admin.locator("#tr-from option").all_inner_texts() == ["老旧小区"]
    assert admin.locator("#transfer-list button").count() == 0
    assert admin.locator("#transfer-list .badge", has_text="调出").count() == 0  # neither side is the admin's
    screenshot(admin, "console-supplies-admin")
