"""The staff console's resident actions in a real Chromium at 1366x768: the invite slips printed from the
households page decode (QR read back from the PDF's own page images) to codes that redeem, and a
resident's declared return from another city becomes a quarantine order from the quarantine page."""

from __future__ import annotations

import io
import re
import struct
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from server.extensions import db
from server.models.alliance import Alliance
from server.models.compounds import Compound
from server.models.health import QuarantineOrder
from server.models.people import Invite, User
from server.models.trips import Trip
from tests.browser.conftest import console_as, screenshot
from tests.factories import make_household, make_user
from tests.qr_reading import read_qr_texts

BEIJING = ZoneInfo("Asia/Shanghai")
PDF_IMAGE = re.compile(rb"/Width (\d+)\s*/Height (\d+)\s*/Filter \[ /CCITTFaxDecode \].*?/BlackIs1 (true|false)"
                       rb".*?/Length (\d+)\s*>>\s*stream\r?\n", re.S)


def pdf_page_images(pdf: bytes) -> list[Image.Image]:
    """The page images of a PDF made of CCITT G4 images (as print_sheets.pdf_of writes them), each wrapped
    in a minimal TIFF so Pillow decodes it: the printed pixels, not the images they were made from."""
    images = []
    for match in PDF_IMAGE.finditer(pdf):
        width, height, black_is_1, length = int(match[1]), int(match[2]), match[3] == b"true", int(match[4])
        data = pdf[match.end():match.end() + length]
        tags = [(256, 4, width), (257, 4, height), (258, 3, 1), (259, 3, 4), (262, 3, int(black_is_1)),
                (273, 4, 8), (278, 4, height), (279, 4, len(data))]
        ifd = struct.pack("<H", len(tags)) + b"".join(
            struct.pack("<HHII", tag, kind, 1, value) if kind == 4 else struct.pack("<HHIHH", tag, kind, 1, value, 0)
            for tag, kind, value in tags) + b"\0\0\0\0"
        images.append(Image.open(io.BytesIO(b"II*\0" + struct.pack("<I", 8 + len(data)) + data + ifd)).convert("L"))
    return images


def test_invite_slips_print_to_a_pdf_whose_codes_redeem(app, world, open_page, tokens_for, as_user):
    with app.app_context():
        household = make_household(db.session.get(Compound, world.compound_a.id), "2号楼", unit="3", room="502")
        newcomer = make_user(db.session.get(Alliance, world.alliance.id), "resident", name="陈晓梅")
        db.session.commit()
        household_id, newcomer_id = household.id, newcomer.id
    page = console_as(open_page, tokens_for(world.staff_a), "/console/households")
    page.locator("#household-list li", has_text="2号楼3单元502").wait_for()
    screenshot(page, "console-households-slips")
    with page.expect_download() as info:
        page.get_by_role("button", name="打印全部邀请码(PDF)").click()
    assert info.value.suggested_filename == f"invite-slips-{world.compound_a.id}.pdf"
    with open(info.value.path(), "rb") as pdf:
        content = pdf.read()
    assert content.startswith(b"%PDF-")
    pages = pdf_page_images(content)
    assert len(pages) == 1
    found = set(read_qr_texts(pages[0]))
    with app.app_context():
        invites = {i.household_id: i.code for i in db.session.scalars(select(Invite).where(Invite.kind == "household"))}
    assert set(invites) == {world.household_a.id, household_id}
    assert found == {f"https://wuye.example.cn/i/{code}" for code in invites.values()}
    # The code read from the paper binds the newcomer to 2号楼3单元502, waiting for approval.
    code = next(url for url in found if url.endswith(invites[household_id])).rsplit("/", 1)[1]
    bound = as_user(newcomer).post("/api/v1/me/invite", json={"code": code})
    assert bound.status_code == 200, bound.json
    again = as_user(world.resident_b).post("/api/v1/me/invite", json={"code": code})
    assert again.status_code in (409, 422)  # single use
    page.reload()
    row = page.locator(f"#pending tr[data-id='{newcomer_id}']")
    expect(row).to_contain_text("2号楼3单元502")
    row.get_by_role("button", name="通过").click()
    page.locator(f"#residents tr[data-id='{newcomer_id}']", has_text="已通过").wait_for()
    with app.app_context():
        user = db.session.get(User, newcomer_id)
        assert (user.household_id, user.residency) == (household_id, "approved")
        assert db.session.scalar(select(Invite.used_by_id).where(Invite.code == code)) == newcomer_id


def test_a_declared_return_becomes_a_quarantine_order_from_the_console(app, world, open_page, tokens_for, as_user):
    with app.app_context():  # the lawful basis for an order without the resident's consent
        db.session.get(Compound, world.compound_a.id).health_emergency = True
        db.session.commit()
    yesterday = datetime.now(BEIJING).date() - timedelta(days=1)
    declared = as_user(world.resident_a).post("/api/v1/me/trips", json={"from_city": "武汉", "returned_on": yesterday.isoformat()})
    assert declared.status_code == 201, declared.json
    trip_id = declared.json["id"]
    page = console_as(open_page, tokens_for(world.staff_a), "/console/quarantine")
    trip = page.locator(f"#trips li[data-id='{trip_id}']")
    expect(trip).to_contain_text("武汉")
    expect(trip).to_contain_text("王秀兰")  # who declared it
    expect(page.locator("#quarantine")).to_contain_text("暂无")  # no order yet
    screenshot(page, "console-quarantine-trip")
    trip.get_by_role("button", name="转为居家隔离").click()
    row = page.locator("#orders tbody tr").first
    expect(row).to_contain_text("武汉")
    expect(row).to_contain_text("隔离中")
    expect(trip).to_contain_text("已转隔离")
    screenshot(page, "console-quarantine-from-trip")
    with app.app_context():
        order = db.session.scalars(select(QuarantineOrder)).one()
        assert (order.user_id, order.from_city, order.reason) == (world.resident_a.id, "武汉", "returned_from_city")
        assert db.session.get(Trip, trip_id).quarantine_order_id == order.id
        order_id = order.id
    assert as_user(world.resident_a).get("/api/v1/me/quarantine").json["active"]["id"] == order_id  # the resident sees it
