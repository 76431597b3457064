"""Bulk printing: every gate's poster and every household's invite slip, decoded by a QR reader from the
page images the PDF is assembled from; the PDF holds one page per poster and per 8 slips."""

from __future__ import annotations

import re

from server.extensions import db
from server.models.compounds import Compound
from server.models.people import Invite
from server.services.gate.print_sheets import SLIP_DPI, Slip, pdf_of, poster_pages, slip_pages
from server.services.people.people import invite_slips, invite_url
from tests.factories import make_household
from tests.qr_reading import read_qr_texts

PAGE = re.compile(rb"/Type\s*/Page\b(?!s)")


def test_every_gate_poster_page_decodes_to_its_gate_url():
    posters = [("黄平路8号院", name, f"https://wuye.example.cn/g/{code}", "请使用微信扫码登记出入")
               for name, code in (("北门", "abcdefghjkmn"), ("南门", "pqrstuvwxyz2"), ("西侧门(已关闭)", "3456789abcde"))]
    pages = poster_pages(posters)
    assert [set(read_qr_texts(page)) for page in pages] == [{url} for _c, _g, url, _i in posters]
    # Bilevel as assembled into the PDF, the codes still read.
    assert [set(read_qr_texts(page.convert("L").point(lambda v: 255 if v >= 160 else 0))) for page in pages] == [
        {url} for _c, _g, url, _i in posters]
    pdf = pdf_of(pages, dpi=150, title="黄平路8号院 场所码")
    assert pdf.startswith(b"%PDF-") and len(PAGE.findall(pdf)) == 3


def test_invite_slips_of_a_whole_compound_decode_to_their_codes(app, world, ctx):
    compound = db.session.get(Compound, world.compound_a.id)
    for room in range(101, 118):  # 17 more households: 18 with the world's own, three pages of 8
        make_household(compound, "2号楼", unit="1", room=str(room))
    invites = invite_slips(db.session.merge(world.staff_a), compound)
    assert len(invites) == 18 and len({i["code"] for i in invites}) == 18
    assert [i["label"] for i in invites][:2] == [f"1号楼1单元{world.household_a.room}", "2号楼1单元101"]
    slips = [Slip(compound.name, i["label"], i["code"], invite_url(i["code"]), "有效期至 2026-12-16")
             for i in invites]
    pages = slip_pages(slips)
    assert len(pages) == 3
    found = set().union(*(set(read_qr_texts(page)) for page in pages))
    assert found == {f"https://wuye.example.cn/i/{i['code']}" for i in invites}
    # Each page holds its own eight (the last its two), in order.
    assert set(read_qr_texts(pages[2])) == {slip.url for slip in slips[16:]}
    pdf = pdf_of(pages, dpi=SLIP_DPI)
    assert len(PAGE.findall(pdf)) == 3
    # The codes are real invites of those households, and a second print reprints them, not new ones.
    stored = {i.household_id: i.code for i in db.session.query(Invite).filter_by(compound_id=compound.id)}
    assert stored == {i["household_id"]: i["code"] for i in invites}
    assert invite_slips(db.session.merge(world.staff_a), compound) == invites
