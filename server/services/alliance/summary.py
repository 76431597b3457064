"""The alliance at a glance: its member companies with their compounds, and counts (aggregates only).

No personal data: names of companies and compounds, and counts of households, staff and guards.
The alliance admin sees every company with its membership; staff see the active members.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select

from server.models.alliance import Alliance
from server.models.caretaking import Caretaking, caretaking_active
from server.models.companies import Company
from server.models.compounds import Compound, Household
from server.models.people import User
from server.plumbing.clock import utcnow
from server.plumbing.replica import reads


def alliance_summary(viewer: User, alliance: Alliance) -> dict:
    """Name, member companies with their compounds, compounds without a company and who runs them, and
    counts of households, staff and guards per compound, per company and in total."""
    companies_query = select(Company).where(Company.alliance_id == alliance.id).order_by(Company.id)
    if viewer.role != "alliance_admin":
        companies_query = companies_query.where(Company.membership == "active")
    companies = reads().scalars(companies_query).all()
    compounds = reads().scalars(select(Compound).where(Compound.alliance_id == alliance.id)
                                   .order_by(Compound.id)).all()
    households = dict(reads().execute(
        select(Household.compound_id, func.count()).join(Compound, Compound.id == Household.compound_id)
        .where(Compound.alliance_id == alliance.id).group_by(Household.compound_id)).all())
    people: dict[int, dict[str, int]] = defaultdict(lambda: {"staff": 0, "guard": 0})
    for company_id, role, count in reads().execute(
            select(User.company_id, User.role, func.count())
            .where(User.alliance_id == alliance.id, User.role.in_(("staff", "guard")), User.is_active.is_(True))
            .group_by(User.company_id, User.role)):
        people[company_id][role] = count
    entrusted = dict(reads().execute(
        select(Caretaking.compound_id, Caretaking.company_id).join(Compound, Compound.id == Caretaking.compound_id)
        .where(Compound.alliance_id == alliance.id, caretaking_active(utcnow()))).all())
    visible = {c.id for c in companies}

    def compound_view(compound: Compound) -> dict:
        return {"id": compound.id, "name": compound.name, "households": households.get(compound.id, 0)}

    company_views = []
    for company in companies:
        own = [compound_view(c) for c in compounds if c.company_id == company.id]
        cared = [compound_view(c) for c in compounds if c.company_id is None and entrusted.get(c.id) == company.id]
        view = {"id": company.id, "name": company.name, "membership": company.membership,
                "compounds": own, "caretaken_compounds": cared,
                "households": sum(c["households"] for c in own),
                "staff": people[company.id]["staff"], "guards": people[company.id]["guard"]}
        if viewer.role == "alliance_admin":
            view |= {"invited_at": company.invited_at, "joined_at": company.joined_at,
                     "suspended_at": company.suspended_at}
        company_views.append(view)
    without_company = [{**compound_view(c), "run_by": "company" if c.id in entrusted else "alliance",
                        "caretaker_company_id": entrusted.get(c.id) if entrusted.get(c.id) in visible else None}
                       for c in compounds if c.company_id is None]
    members = [c for c in company_views if c["membership"] == "active"]
    return {
        "id": alliance.id, "name": alliance.name, "region": alliance.region,
        "companies": company_views, "compounds_without_company": without_company,
        "totals": {"member_companies": len(members), "compounds": len(compounds),
                   "households": sum(households.values()),
                   "staff": sum(v["staff"] for v in people.values()), "guards": sum(v["guard"] for v in people.values())},
    }
