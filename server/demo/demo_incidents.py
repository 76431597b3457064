"""Demo mutual aid: the seed's flood at 万龙小区, two days ago, and each company's record from it.

60 cm of water in buildings 1 and 2; 万龙物业 raised it and asked for 10 people and 2 pumps.
京安保安服务公司 sent 6 guards and a pump, 龙锦物业 4 workers and a pump: the whole team was on
site within 10 minutes, and 万龙物业 closed the incident with a summary. The admin commended both.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from server.extensions import db
from server.models.people import User
from server.plumbing.clock import utcnow
from server.services.alliance.company_record import add_entry
from server.services.alliance.incident_pledges import arrive, depart, pledge_help
from server.services.alliance.incidents import close_incident, raise_incident

TEAMS = {  # company: (role, names), pump
    "京安保安服务公司": ("guard", ["孙国华", "马俊", "杨立新", "胡斌", "郭亮", "何伟"]),
    "龙锦物业": ("staff", ["林涛", "高峰", "罗明", "梁勇"]),
}


def _member(org, company_name: str, role: str, name: str, n: int) -> User:
    user = User(role=role, alliance_id=org.alliance.id, display_name=name, phone=f"1370000{n:04d}",
                company_id=org.companies[company_name].id,
                openid=f"flood-team-{n}" if role == "guard" else None)
    db.session.add(user)
    db.session.flush()
    return user


def load(org) -> None:
    """Raise, answer and close the 万龙小区 flood (see the module docstring)."""
    admin = db.session.scalar(select(User).where(User.role == "alliance_admin", User.alliance_id == org.alliance.id))
    dispatcher = User(role="staff", alliance_id=org.alliance.id, display_name="龙锦物业值班",
                      company_id=org.companies["龙锦物业"].id)
    db.session.add(dispatcher)
    db.session.flush()
    senders = {"京安保安服务公司": org.staff["jingan"], "龙锦物业": dispatcher}
    t0 = utcnow() - timedelta(days=2)
    incident = raise_incident(org.staff["wanlong"], {
        "compound_id": org.compounds["万龙小区"].id, "kind": "flood",
        "place": "1号楼、2号楼地下室及楼前道路,积水约60厘米",
        "description": "暴雨导致小区积水,地下室进水,需要抽水泵和抢险人员",
        "needs": [{"item": "people", "quantity": 10, "note": "抢险队员"},
                  {"item": "pump", "quantity": 2, "note": "抽水泵"}]}, now=t0)
    n = 200
    for k, (company, (role, names)) in enumerate(TEAMS.items()):
        people = []
        for name in names:
            n += 1
            people.append(_member(org, company, role, name, n).id)
        pledge = pledge_help(senders[company], incident, {
            "people": people, "items": [{"item": "pump", "quantity": 1}], "note": "立即出发"},
            now=t0 + timedelta(minutes=1 + k))
        depart(pledge, incident, now=t0 + timedelta(minutes=2 + k))
        arrive(pledge, incident, now=t0 + timedelta(minutes=7 + 2 * k))
    close_incident(org.staff["wanlong"], incident,
                   "抢险队10人携2台抽水泵9分钟内全部到达,3小时排净积水,1号楼、2号楼地下室恢复正常,无人员伤亡。",
                   now=t0 + timedelta(hours=3))
    for company in TEAMS:
        add_entry(admin, org.companies[company], {"kind": "commendation", "incident_id": incident.id,
                                                  "remark": "万龙小区汛情抢险,10分钟内到达现场"})
