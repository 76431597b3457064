"""Plain functions that create rows for tests, and a client that signs requests as a user."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from flask import Flask

from server.auth import start_session
from server.extensions import db
from server.models.alliance import Alliance
from server.models.companies import Company
from server.models.compounds import Building, Compound, Gate, Household
from server.models.people import User
from server.services.gate.gates import new_gate_code

_seq = itertools.count(1)


def make_company(alliance: Alliance, name: str | None = None) -> Company:
    """A company of the alliance."""
    company = Company(alliance_id=alliance.id, name=name or f"公司{next(_seq)}")
    db.session.add(company)
    db.session.flush()
    return company


def make_compound(alliance: Alliance, company: Company | None, name: str | None = None, **kw) -> Compound:
    """A compound managed by the company (or by none)."""
    compound = Compound(alliance_id=alliance.id, company_id=company.id if company else None,
                        name=name or f"小区{next(_seq)}", **kw)
    db.session.add(compound)
    db.session.flush()
    return compound


def make_gate(compound: Compound, name: str | None = None, **kw) -> Gate:
    """A gate of the compound (open, main, unless told)."""
    gate = Gate(compound_id=compound.id, name=name or f"门{next(_seq)}", code=new_gate_code(), **kw)
    db.session.add(gate)
    db.session.flush()
    return gate


def make_household(compound: Compound, building_name: str = "1号楼", unit: str = "1", room: str | None = None) -> Household:
    """A household in a (possibly new) building of the compound."""
    building = db.session.query(Building).filter_by(compound_id=compound.id, name=building_name).one_or_none()
    if building is None:
        building = Building(compound_id=compound.id, name=building_name)
        db.session.add(building)
        db.session.flush()
    household = Household(compound_id=compound.id, building_id=building.id, unit=unit,
                          room=room or str(100 + next(_seq)))
    db.session.add(household)
    db.session.flush()
    return household


def make_user(alliance: Alliance, role: str, *, company: Company | None = None, compound: Compound | None = None,
              household: Household | None = None, name: str = "张三", **kw) -> User:
    """A user of any role; residents with a household are approved unless told."""
    n = next(_seq)
    user = User(role=role, alliance_id=alliance.id, display_name=name, phone=f"1380013{n:04d}",
                company_id=company.id if company else None, compound_id=compound.id if compound else None,
                household_id=household.id if household else None,
                residency=kw.pop("residency", "approved" if household else None),
                openid=f"openid-{n}" if role in ("resident", "guard") else None,
                username=f"user{n}" if role in ("staff", "alliance_admin") else None, **kw)
    db.session.add(user)
    db.session.flush()
    return user


@dataclass
class World:
    """The standard world most tests start from (ids, since objects outlive their session)."""

    alliance: Alliance
    company_a: Company
    company_b: Company
    compound_a: Compound
    compound_b: Compound
    compound_orphan: Compound
    gate_a: Gate
    gate_b: Gate
    household_a: Household
    household_b: Household
    admin: User
    staff_a: User
    staff_b: User
    guard_a: User
    guard_b: User
    resident_a: User
    resident_b: User

    def by_role(self) -> dict[str, User]:
        """One user of each role (company A's side)."""
        return {"resident": self.resident_a, "guard": self.guard_a, "staff": self.staff_a,
                "alliance_admin": self.admin}


def build_world() -> World:
    """Create the standard world in the current session (flushed, not committed)."""
    alliance = Alliance(name="测试联盟")
    db.session.add(alliance)
    db.session.flush()
    company_a, company_b = make_company(alliance, "甲物业"), make_company(alliance, "乙物业")
    compound_a = make_compound(alliance, company_a, "甲小区")
    compound_b = make_compound(alliance, company_b, "乙小区")
    orphan = make_compound(alliance, None, "老旧小区")
    gate_a, gate_b = make_gate(compound_a, "正门"), make_gate(compound_b, "正门")
    household_a, household_b = make_household(compound_a), make_household(compound_b)
    return World(
        alliance, company_a, company_b, compound_a, compound_b, orphan, gate_a, gate_b, household_a, household_b,
        admin=make_user(alliance, "alliance_admin", name="联盟管理员"),
        staff_a=make_user(alliance, "staff", company=company_a, name="甲客服"),
        staff_b=make_user(alliance, "staff", company=company_b, name="乙客服"),
        guard_a=make_user(alliance, "guard", company=company_a, compound=compound_a, name="甲保安"),
        guard_b=make_user(alliance, "guard", company=company_b, compound=compound_b, name="乙保安"),
        resident_a=make_user(alliance, "resident", household=household_a, name="王秀兰"),
        resident_b=make_user(alliance, "resident", household=household_b, name="李建国"),
    )


class UserClient:
    """A test client that sends one user's bearer token and JSON bodies."""

    def __init__(self, app: Flask, token: str):
        self._client = app.test_client()
        self.headers = {"Authorization": f"Bearer {token}"}

    def open(self, method: str, url: str, json=None, headers: dict | None = None, **kw):
        """Send a request as the user."""
        return self._client.open(url, method=method, json=json, headers={**self.headers, **(headers or {})}, **kw)

    def get(self, url, **kw):
        """GET as the user."""
        return self.open("GET", url, **kw)

    def post(self, url, json=None, **kw):
        """POST as the user."""
        return self.open("POST", url, json=json, **kw)

    def patch(self, url, json=None, **kw):
        """PATCH as the user."""
        return self.open("PATCH", url, json=json, **kw)

    def put(self, url, json=None, **kw):
        """PUT as the user."""
        return self.open("PUT", url, json=json, **kw)

    def delete(self, url, **kw):
        """DELETE as the user."""
        return self.open("DELETE", url, **kw)


def client_for(app: Flask, user: User) -> UserClient:
    """Sign the user in (a real session and token) and return a client for them."""
    with app.app_context():
        tokens = start_session(db.session.merge(user))
        db.session.commit()
    return UserClient(app, tokens.access_token)
