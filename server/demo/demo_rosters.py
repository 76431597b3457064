"""Demo rosters: this week's and next week's shifts for the demo gates, with guards on them.

黄平路8号院 has no company: the alliance admin posts its day shifts and 京安保安服务公司 lends guard
张本轩 (and a colleague once his 48 hours are used), as in the seeds. 万龙小区's south gate runs
3 x 8 h, auto-filled from 万龙物业's guards; its north gate is closed and needs no shifts.
"""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import select

from server.errors import ApiError
from server.extensions import db
from server.models.people import User
from server.models.rosters import Shift
from server.plumbing.clock import local_today, utcnow
from server.services.roster.roster_autofill import autofill_roster
from server.services.roster.roster_lending import accept_offer, offer_guard, post_loan
from server.services.roster.rosters import add_templates, generate_week

EXTRA_GUARDS = {"万龙物业": ["王强", "刘洋", "陈志明"], "京安保安服务公司": ["赵建军"]}


def _guard(org, company_name: str, name: str, n: int) -> User:
    company = org.companies[company_name]
    guard = User(role="guard", alliance_id=org.alliance.id, display_name=name, openid=f"guard-demo-{n}",
                 phone=f"1390000{n:04d}", company_id=company.id,
                 compound_id=org.compounds["万龙小区"].id if company_name == "万龙物业" else None)
    db.session.add(guard)
    db.session.flush()
    return guard


def load(org) -> None:
    """Add two weeks of roster to the demo alliance (see the module docstring)."""
    extra = {company: [_guard(org, company, name, 100 + 10 * i + k) for k, name in enumerate(names)]
             for i, (company, names) in enumerate(EXTRA_GUARDS.items())}
    admin = db.session.scalar(select(User).where(User.role == "alliance_admin", User.alliance_id == org.alliance.id))
    hp, wl = org.compounds["黄平路8号院"], org.compounds["万龙小区"]
    today = local_today(hp.timezone)
    weeks = (today, today + timedelta(days=7))

    add_templates(org.gates["黄平路8号院/正门"], {"hours": 12, "start_time": time(7, 0)})
    for day in weeks:
        generate_week(hp, day)
    lenders = [org.guards["zhang"], *extra["京安保安服务公司"]]
    for shift in db.session.scalars(select(Shift).where(Shift.compound_id == hp.id).order_by(Shift.starts_at)).all():
        loan = post_loan(admin, shift, note="老旧小区无物业,请联盟协调保安")
        for guard in lenders:
            try:
                offer = offer_guard(org.staff["jingan"], loan, guard.id)
                accept_offer(admin, offer, loan)
                break
            except ApiError:
                continue  # this guard's week is full: try the next, else the post stays open

    for gate in ("万龙小区/南门", "万龙小区/北门"):
        add_templates(org.gates[gate], {"preset": "3x8", "start_time": time(6, 0)})
    for day in weeks:
        generate_week(wl, day)
        autofill_roster(org.staff["wanlong"], [wl], day, not_before=utcnow() - timedelta(hours=8), max_seconds=5)
    db.session.flush()
