"""Property companies: created and edited by the alliance admin."""

from __future__ import annotations

from sqlalchemy import select

from server.errors import ConflictError
from server.extensions import db
from server.models.caretaking import Caretaking
from server.models.companies import Company
from server.models.compounds import Compound
from server.models.people import User
from server.plumbing.clock import utcnow


def create_company(admin: User, data: dict) -> Company:
    """Add a company to the admin's alliance; names are unique within it."""
    _ensure_unique_name(admin.alliance_id, data["name"])
    company = Company(alliance_id=admin.alliance_id, membership="active", joined_at=utcnow(), **data)
    db.session.add(company)
    db.session.flush()
    return company


def update_company(company: Company, data: dict) -> Company:
    """Change a company's name or contact."""
    if "name" in data and data["name"] != company.name:
        _ensure_unique_name(company.alliance_id, data["name"])
    for key, value in data.items():
        setattr(company, key, value)
    db.session.flush()
    return company


def delete_company(company: Company) -> None:
    """Remove a company that manages no compound, employs nobody and never took care of a compound."""
    in_use = db.session.scalar(select(Compound.id).where(Compound.company_id == company.id).limit(1)) or \
        db.session.scalar(select(User.id).where(User.company_id == company.id).limit(1)) or \
        db.session.scalar(select(Caretaking.id).where(Caretaking.company_id == company.id).limit(1))
    if in_use:
        raise ConflictError("in_use")
    db.session.delete(company)
    db.session.flush()


def _ensure_unique_name(alliance_id: int, name: str) -> None:
    exists = db.session.scalar(select(Company.id).where(Company.alliance_id == alliance_id, Company.name == name))
    if exists:
        raise ConflictError("duplicate", errors={"json": {"name": ["already used in this alliance"]}})
