"""Demo supplies: 万科物业 shares its masks with the small companies, as in the first seed.

In February 2020 masks were short; the alliance asked 万科物业, the street's large company, to give
part of the masks its group had supplied, and they were handed out to the small companies. Here
万科物业 receives its group's masks, offers some to 万龙物业 and 京安保安服务公司, who accept and
receive them; 万龙物业 takes some to 万龙小区 and uses them there, 京安 hands some to its guards at
黄平路8号院. The street gives 黄平路8号院 (no company: the alliance admin runs it) disinfectant, and
万龙小区 keeps the 2 pumps of the flood. `GET /api/v1/supplies/ledger?item=masks` tells where each went.
"""

from __future__ import annotations

from sqlalchemy import select

from server.demo.load import DEMO_PASSWORD
from server.extensions import db
from server.models.people import User
from server.services.alliance import supplies, supply_transfers
from server.services.alliance.supply_catalogue import find_item
from server.services.alliance.supply_holders import Holder
from server.services.people.people import create_password_user

VANKE_LOGIN = "vanke"  # staff of 万科物业, password as every demo account


def load(org) -> None:
    """Add the supplies story to the demo alliance (see the module docstring)."""
    vanke = org.companies["万科物业"]
    org.staff[VANKE_LOGIN] = create_password_user(
        "staff", org.alliance.id, {"username": VANKE_LOGIN, "password": DEMO_PASSWORD,
                                   "display_name": "万科物业行政"}, company_id=vanke.id)
    admin = db.session.scalar(select(User).where(User.role == "alliance_admin", User.alliance_id == org.alliance.id))
    giver, wanlong, jingan = org.staff[VANKE_LOGIN], org.staff["wanlong"], org.staff["jingan"]
    masks, disinfectant, pumps = (find_item(giver, code) for code in ("masks", "disinfectant", "pumps"))
    at_vanke = Holder("company", vanke.id, vanke.name)
    at_wanlong = Holder("company", org.companies["万龙物业"].id, "万龙物业")
    at_jingan = Holder("company", org.companies["京安保安服务公司"].id, "京安保安服务公司")
    wl, hp = org.compounds["万龙小区"], org.compounds["黄平路8号院"]
    at_wl, at_hp = Holder("compound", wl.id, wl.name), Holder("compound", hp.id, hp.name)

    supplies.record_receipt(giver, masks, at_vanke, 20000, "万科集团统一配备", "")
    for receiver, staff, quantity in ((at_wanlong, wanlong, 3000), (at_jingan, jingan, 2000)):
        transfer = supply_transfers.offer_transfer(giver, masks, at_vanke, receiver, quantity,
                                                   "联盟协调:支援小型物业一线人员")
        supply_transfers.accept(staff, transfer)
        supply_transfers.receive(staff, transfer)
    supply_transfers.move(wanlong, masks, at_wanlong, at_wl, 1000, "发往万龙小区门岗")
    supplies.set_threshold(wanlong, masks, at_wl, 300)
    supplies.record_use(wanlong, masks, at_wl, 240, "门岗和保洁人员一周用量")
    supplies.record_use(jingan, masks, at_jingan, 180, "发放给黄平路8号院门岗保安")
    # One more offer still on its way: in transit until 京安 accepts and receives it.
    supply_transfers.offer_transfer(giver, masks, at_vanke, at_jingan, 1000, "第二批")

    supplies.record_receipt(admin, disinfectant, at_hp, 60, "回龙观街道办事处", "")
    supplies.record_use(admin, disinfectant, at_hp, 12, "楼道和大门消杀")
    supplies.record_receipt(wanlong, pumps, at_wl, 2, "万龙物业自购", "防汛")
    db.session.flush()
