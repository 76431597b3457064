"""Compounds, buildings and households."""

from __future__ import annotations

from sqlalchemy import select

from server.errors import ConflictError, UnprocessableError
from server.extensions import db
from server.models.companies import Company
from server.models.compounds import Building, Compound, Household
from server.models.people import User


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
    for key, value in data.items():
        setattr(compound, key, value)
    db.session.flush()
    return compound


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
