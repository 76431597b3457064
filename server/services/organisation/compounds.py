"""Compounds, buildings and households."""

from __future__ import annotations

from sqlalchemy import Select, select

from server.errors import ConflictError, UnprocessableError
from server.extensions import db
from server.messages import register
from server.models.caretaking import Caretaking
from server.models.companies import Company
from server.models.compounds import Building, Compound, Household
from server.models.people import User
from server.plumbing.clock import utcnow

register({
    "compound_entrusted": ("该小区正在托管中,请先结束托管", "The compound is entrusted to a company; end the caretaking first"),
})


def create_compound(admin: User, data: dict) -> Compound:
    """Add a compound to the alliance, managed by a company or by none (old compounds)."""
    _check_company(admin.alliance_id, data.get("company_id"))
    if db.session.scalar(select(Compound.id).where(Compound.alliance_id == admin.alliance_id,
                                                   Compound.name == data["name"])):
        raise ConflictError("duplicate", errors={"json": {"name": ["already used in this alliance"]}})
    compound = Compound(alliance_id=admin.alliance_id, **data)
    db.session.add(compound)
    db.session.flush()
    return compound


def update_compound(editor: User, compound: Compound, data: dict) -> Compound:
    """Edit a compound; only the alliance admin may hand it to another company."""
    if "company_id" in data and editor.role != "alliance_admin":
        raise UnprocessableError("validation_failed",
                                 errors={"json": {"company_id": ["only the alliance admin may change this"]}})
    if "company_id" in data:
        _check_company(compound.alliance_id, data["company_id"])
        if data["company_id"] is not None and _entrusted(compound):
            raise ConflictError("compound_entrusted")
    for key, value in data.items():
        setattr(compound, key, value)
    db.session.flush()
    return compound


def _entrusted(compound: Compound) -> bool:
    """Whether the compound has a caretaking now or later (end it before giving the compound a company)."""
    now = utcnow()
    return db.session.scalar(select(Caretaking.id).where(
        Caretaking.compound_id == compound.id, Caretaking.ends_at.is_(None) | (Caretaking.ends_at > now),
        Caretaking.ends_at.is_(None) | (Caretaking.ends_at > Caretaking.starts_at)).limit(1)) is not None


def _check_company(alliance_id: int, company_id: int | None) -> None:
    if company_id is None:
        return
    company = db.session.get(Company, company_id)
    if company is None or company.alliance_id != alliance_id:
        raise UnprocessableError("validation_failed", errors={"json": {"company_id": ["no such company"]}})


def create_building(compound: Compound, name: str) -> Building:
    """Add a building to a compound."""
    if db.session.scalar(select(Building.id).where(Building.compound_id == compound.id, Building.name == name)):
        raise ConflictError("duplicate", errors={"json": {"name": ["already used in this compound"]}})
    building = Building(compound_id=compound.id, name=name)
    db.session.add(building)
    db.session.flush()
    return building


def create_household(compound: Compound, data: dict) -> Household:
    """Add a household to a building of the compound."""
    building = db.session.get(Building, data["building_id"])
    if building is None or building.compound_id != compound.id:
        raise UnprocessableError("validation_failed", errors={"json": {"building_id": ["no such building here"]}})
    unit = data.get("unit", "")
    exists = db.session.scalar(select(Household.id).where(
        Household.building_id == building.id, Household.unit == unit, Household.room == data["room"]))
    if exists:
        raise ConflictError("duplicate", errors={"json": {"room": ["this household already exists"]}})
    household = Household(compound_id=compound.id, building_id=building.id, unit=unit, room=data["room"])
    db.session.add(household)
    db.session.flush()
    return household


def household_label(household: Household, building_name: str) -> str:
    """A household's address as people say it: 3号楼2单元101."""
    unit = f"{household.unit}单元" if household.unit else ""
    return f"{building_name}{unit}{household.room}"


def households_query(compound: Compound, building_id: int | None = None) -> Select:
    """A compound's households (of one building when given), in address order."""
    query = select(Household).where(Household.compound_id == compound.id)
    if building_id is not None:
        query = query.where(Household.building_id == building_id)
    return query.order_by(Household.building_id, Household.unit, Household.room)


def household_views(households: list[Household]) -> list[dict]:
    """Households with their address label, their buildings read in one query."""
    ids = {h.building_id for h in households}
    names = dict(db.session.execute(select(Building.id, Building.name).where(Building.id.in_(ids))).all()) \
        if ids else {}
    return [{**{c.key: getattr(h, c.key) for c in h.__table__.columns},
             "label": household_label(h, names[h.building_id])} for h in households]


def household_view(household: Household) -> dict:
    """One household with its address label."""
    return household_views([household])[0]
