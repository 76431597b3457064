"""Bulk printing through the API: one PDF of every gate poster of a compound, one PDF of a compound's or
a building's household invite slips (their QR decoding: tests/services/test_print_sheets.py)."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from server.extensions import db
from server.models.compounds import Building, Compound, Gate
from server.models.people import Invite
from tests.factories import make_gate, make_household

PAGE = re.compile(rb"/Type\s*/Page\b(?!s)")


def test_every_static_gate_poster_in_one_pdf(app, world, as_user):
    with app.app_context():
        compound = db.session.get(Compound, world.compound_a.id)
        make_gate(compound, "南门", kind="side")
        make_gate(compound, "西侧门", kind="side", is_open=False)
        rotating = make_gate(compound, "北门", rotating_code=True).id
        db.session.commit()
    staff = as_user(world.staff_a)
    response = staff.get(f"/api/v1/compounds/{world.compound_a.id}/posters.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-") and len(PAGE.findall(response.data)) == 3
    assert response.headers["X-Skipped-Gates"] == str(rotating)
    assert as_user(world.admin).get(f"/api/v1/compounds/{world.compound_a.id}/posters.pdf").status_code == 200
    assert as_user(world.staff_b).get(f"/api/v1/compounds/{world.compound_a.id}/posters.pdf").status_code == 404
    with app.app_context():
        for gate in db.session.scalars(select(Gate).where(Gate.compound_id == world.compound_a.id)):
            gate.rotating_code = True
        db.session.commit()
    none = staff.get(f"/api/v1/compounds/{world.compound_a.id}/posters.pdf")
    assert none.status_code == 409 and none.json["reason"] == "no_static_posters"


def test_invite_slips_for_a_compound_or_a_building_in_one_print(app, world, as_user):
    with app.app_context():
        compound = db.session.get(Compound, world.compound_a.id)
        for room in range(101, 110):
            make_household(compound, "2号楼", unit="1", room=str(room))
        building_2 = db.session.scalar(select(Building.id).where(Building.name == "2号楼",
                                                                  Building.compound_id == compound.id))
        other_building = db.session.scalar(select(Building.id).where(Building.compound_id == world.compound_b.id))
        db.session.commit()
    staff = as_user(world.staff_a)
    url = f"/api/v1/compounds/{world.compound_a.id}/invite-slips"
    whole = staff.post(url, json={})
    assert whole.status_code == 200 and whole.mimetype == "application/pdf"
    assert len(PAGE.findall(whole.data)) == 2  # 10 households, 8 to a page
    with app.app_context():
        codes = dict(db.session.execute(select(Invite.household_id, Invite.code)
                                        .where(Invite.compound_id == world.compound_a.id)).all())
    assert len(codes) == 10
    # One building: its 9 households, on two pages; nothing new issued, the earlier codes stand.
    building = staff.post(url, json={"building_id": building_2})
    assert building.status_code == 200 and len(PAGE.findall(building.data)) == 2
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Invite)) == 10
    assert staff.post(url, json={"building_id": other_building}).status_code == 404
    assert staff.post(url, json={"building_id": "2号楼"}).json["errors"]["json"]["building_id"] == ["应为整数"]
    assert as_user(world.staff_b).post(url, json={}).status_code == 404
    empty = as_user(world.admin).post(f"/api/v1/compounds/{world.compound_orphan.id}/invite-slips", json={})
    # The alliance admin runs the company-less compound, so prints its slips; it has no households yet.
    assert (empty.status_code, empty.json["reason"]) == (404, "no_households")


def test_the_invite_qr_opens_a_page_that_says_how_to_use_it(client):
    page = client.get("/i/ABCD2345")
    assert page.status_code == 200 and "ABCD2345" in page.get_data(as_text=True)
    assert "<script>" not in client.get("/i/<script>").get_data(as_text=True)
