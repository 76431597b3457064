"""The demo alliance from the seeds: Huilongguan street's alliance, 黄平路8号院 and 万龙小区.

Each later capability adds its part in a module `server/demo/demo_<domain>.py` defining
`load(org: DemoOrg)`; they run after the organisation exists, in name order.
"""

from __future__ import annotations

import importlib
import pkgutil
import zlib
from dataclasses import dataclass, field

from server.extensions import db
from server.models.alliance import Alliance
from server.models.companies import Company
from server.models.compounds import Building, Compound, Gate, Household
from server.models.people import User
from server.services.gate.gates import new_gate_code
from server.services.people.people import create_password_user

DEMO_PASSWORD = "wuye-demo-2020"
DEMO_LOGINS = [
    f"alliance admin: POST /api/v1/auth/password {{\"username\": \"admin\", \"password\": \"{DEMO_PASSWORD}\"}}"
    " (runs 黄平路8号院, which has no property company, as its staff)",
    f"staff 万龙物业: username wanlong, password {DEMO_PASSWORD}",
    f"staff 京安保安: username jingan, password {DEMO_PASSWORD}",
    f"staff 万科物业 (the big company that shares its masks): username vanke, password {DEMO_PASSWORD}",
    "guard 张本轩 at 黄平路8号院: POST /api/v1/auth/wechat {\"code\": \"dev:guard-zhang\"}",
    "resident of 黄平路8号院 1号楼1单元101: {\"code\": \"dev:resident-hp-1\"}",
    "resident of 万龙小区 1号楼1单元101: {\"code\": \"dev:resident-wl-1\"}",
]

COMPANY_NAMES = ["万科物业", "万龙物业", "京安保安服务公司", "龙锦物业", "北郊物业", "融泽物业"]


@dataclass
class DemoOrg:
    """What the organisation part of the demo created, for the other demo modules."""

    alliance: Alliance
    companies: dict[str, Company] = field(default_factory=dict)
    compounds: dict[str, Compound] = field(default_factory=dict)
    gates: dict[str, Gate] = field(default_factory=dict)
    households: dict[str, list[Household]] = field(default_factory=dict)
    staff: dict[str, User] = field(default_factory=dict)
    guards: dict[str, User] = field(default_factory=dict)
    residents: dict[str, User] = field(default_factory=dict)


def load_demo() -> DemoOrg:
    """Create the demo alliance and run every demo_<domain> module."""
    alliance = Alliance(name="回龙观街道物业联盟", region="北京市昌平区回龙观街道")
    db.session.add(alliance)
    db.session.flush()
    org = DemoOrg(alliance)
    for name in COMPANY_NAMES:
        company = Company(alliance_id=alliance.id, name=name)
        db.session.add(company)
        org.companies[name] = company
    db.session.flush()

    create_password_user("alliance_admin", alliance.id, {"username": "admin", "password": DEMO_PASSWORD,
                                                          "display_name": "陈旭"})
    org.staff["wanlong"] = create_password_user(
        "staff", alliance.id, {"username": "wanlong", "password": DEMO_PASSWORD, "display_name": "万龙物业客服"},
        company_id=org.companies["万龙物业"].id)
    org.staff["jingan"] = create_password_user(
        "staff", alliance.id, {"username": "jingan", "password": DEMO_PASSWORD, "display_name": "京安调度"},
        company_id=org.companies["京安保安服务公司"].id)

    # 黄平路8号院: an old compound with no property company; 276 households, ~1000 residents.
    hp = _compound(org, "黄平路8号院", None, "北京市昌平区黄平路8号院")
    _gate(org, hp, "正门", "main", True)
    org.households[hp.name] = _households(hp, buildings=6, units=2, per_unit=23)
    # 万龙小区: managed by its employer's logistics company; flooded buildings 1 and 2 in 2020.
    wl = _compound(org, "万龙小区", org.companies["万龙物业"], "北京市昌平区回龙观万龙小区")
    _gate(org, wl, "南门", "main", True)
    _gate(org, wl, "北门", "side", False)
    org.households[wl.name] = _households(wl, buildings=2, units=3, per_unit=12)

    org.guards["zhang"] = _wechat_user(alliance, "guard-zhang", "张本轩", role="guard",
                                       company=org.companies["京安保安服务公司"], compound=hp)
    org.guards["li"] = _wechat_user(alliance, "guard-li", "李卫东", role="guard",
                                    company=org.companies["万龙物业"], compound=wl)
    for i, household in enumerate(org.households[hp.name][:6], start=1):
        org.residents[f"hp-{i}"] = _wechat_user(alliance, f"resident-hp-{i}", ["王秀兰", "刘建国", "赵淑珍",
                                                "孙志强", "周桂英", "吴海"][i - 1], household=household)
    for i, household in enumerate(org.households[wl.name][:4], start=1):
        org.residents[f"wl-{i}"] = _wechat_user(alliance, f"resident-wl-{i}", ["郑丽", "冯军", "陈芳", "褚明"][i - 1],
                                                household=household)
    db.session.flush()

    import server.demo as package

    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if module_info.name.startswith("demo_"):
            importlib.import_module(f"server.demo.{module_info.name}").load(org)
    db.session.flush()
    return org


def _compound(org: DemoOrg, name: str, company: Company | None, address: str) -> Compound:
    compound = Compound(alliance_id=org.alliance.id, company_id=company.id if company else None,
                        name=name, address=address, health_emergency=True)
    db.session.add(compound)
    db.session.flush()
    org.compounds[name] = compound
    return compound


def _gate(org: DemoOrg, compound: Compound, name: str, kind: str, is_open: bool) -> Gate:
    gate = Gate(compound_id=compound.id, name=name, kind=kind, is_open=is_open, code=new_gate_code())
    db.session.add(gate)
    db.session.flush()
    org.gates[f"{compound.name}/{name}"] = gate
    return gate


def _households(compound: Compound, buildings: int, units: int, per_unit: int) -> list[Household]:
    households = []
    for b in range(1, buildings + 1):
        building = Building(compound_id=compound.id, name=f"{b}号楼")
        db.session.add(building)
        db.session.flush()
        for u in range(1, units + 1):
            for k in range(per_unit):
                room = f"{k // 4 + 1}{k % 4 + 1:02d}"
                households.append(Household(compound_id=compound.id, building_id=building.id,
                                            unit=str(u), room=room))
    db.session.add_all(households)
    db.session.flush()
    return households


def _wechat_user(alliance: Alliance, openid: str, name: str, role: str = "resident", company=None,
                 compound=None, household=None) -> User:
    user = User(role=role, alliance_id=alliance.id, openid=openid, display_name=name,
                phone=f"138{zlib.crc32(openid.encode()) % 10**8:08d}",
                company_id=company.id if company else None, compound_id=compound.id if compound else None,
                household_id=household.id if household else None,
                residency="approved" if household else None)
    db.session.add(user)
    db.session.flush()
    return user
