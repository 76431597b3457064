"""Who holds supplies, and who may see or move them.

A holder is a company (its warehouse) or a compound. Staff see and move their own company's stock and
that of the compounds in their scope (`scope.compound_condition`: their company's compounds, and any
the scope module gives them); the alliance admin sees every holder of the alliance and moves the stock
of the compounds no company runs. A holder of another alliance, or one out of scope, is a 404.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, or_, select

from server import messages
from server.errors import ForbiddenError, NotFoundError
from server.extensions import db
from server.models.companies import Company
from server.models.compounds import Compound
from server.models.people import User
from server.scope import compound_condition

HOLDER_KINDS = ("company", "compound")

messages.register({
    "holder_read_only": ("只能查看该持有方的物资,不能操作", "You may see this holder's supplies but not move them"),
})


@dataclass(frozen=True)
class Holder:
    """A company's warehouse or a compound, as the ledger names it."""

    kind: str
    id: int
    name: str = ""

    @property
    def company_id(self) -> int | None:
        """The company id when the holder is a company."""
        return self.id if self.kind == "company" else None

    @property
    def compound_id(self) -> int | None:
        """The compound id when the holder is a compound."""
        return self.id if self.kind == "compound" else None

    def columns(self, prefix: str = "") -> dict:
        """The holder as the two columns every supplies table stores (optionally `from_`/`to_`)."""
        return {f"{prefix}company_id": self.company_id, f"{prefix}compound_id": self.compound_id}

    def as_dict(self) -> dict:
        """The holder as the API shows it."""
        return {"kind": self.kind, "id": self.id, "name": self.name}


def holder_of(company_id: int | None, compound_id: int | None, names: dict | None = None) -> Holder:
    """The holder a row's two columns name (with its name from `names` when given)."""
    key = ("company", company_id) if company_id is not None else ("compound", compound_id)
    return Holder(key[0], key[1], (names or {}).get(key, ""))


def holder_names(alliance_id: int) -> dict[tuple[str, int], str]:
    """The names of every holder of the alliance, by (kind, id)."""
    names = {("company", i): n for i, n in db.session.execute(
        select(Company.id, Company.name).where(Company.alliance_id == alliance_id))}
    names.update({("compound", i): n for i, n in db.session.execute(
        select(Compound.id, Compound.name).where(Compound.alliance_id == alliance_id))})
    return names


def parse_holder(text: str) -> tuple[str, int] | None:
    """`company:3` or `compound:7` as (kind, id); None when malformed."""
    kind, _, number = text.partition(":")
    if kind not in HOLDER_KINDS or not number.isascii() or not number.isdigit() or len(number) > 10 \
            or not 1 <= int(number) <= 2**31 - 1:
        return None
    return kind, int(number)


def visible_holder_condition(user: User, company_column, compound_column) -> ColumnElement[bool]:
    """A SQL condition: the row's holder (given by its two columns) is one the caller may see."""
    if user.role == "alliance_admin":
        return or_(company_column.in_(select(Company.id).where(Company.alliance_id == user.alliance_id)),
                   compound_condition(user, compound_column))
    if user.role == "staff":
        return or_(company_column == user.company_id, compound_condition(user, compound_column))
    return false()


def _acts_for_compound(user: User, compound: Compound) -> bool:
    if user.role == "alliance_admin":
        return compound.company_id is None  # the admin runs the compounds no company runs
    return user.role == "staff"  # in scope already: the staff's own, or entrusted, compound


def get_holder(user: User, kind: str, holder_id: int, *, act: bool = False) -> Holder:
    """A holder the caller may see (with `act`: may move stock of), or 404 (403 when only visible)."""
    if kind == "company":
        company = db.session.get(Company, holder_id)
        if company is None or company.alliance_id != user.alliance_id or \
                (user.role == "staff" and company.id != user.company_id) or \
                user.role not in ("staff", "alliance_admin"):
            raise NotFoundError("not_found")
        if act and user.role != "staff":
            raise ForbiddenError("holder_read_only")
        return Holder("company", company.id, company.name)
    compound = db.session.scalar(select(Compound).where(
        Compound.id == holder_id, Compound.alliance_id == user.alliance_id,
        compound_condition(user, Compound.id) if user.role in ("staff", "alliance_admin") else false()))
    if compound is None:
        raise NotFoundError("not_found")
    if act and not _acts_for_compound(user, compound):
        raise ForbiddenError("holder_read_only")
    return Holder("compound", compound.id, compound.name)


def alliance_holder(user: User, kind: str, holder_id: int) -> Holder:
    """Any holder of the caller's alliance (a transfer's receiver), or 404."""
    model = Company if kind == "company" else Compound
    row = db.session.get(model, holder_id)
    if row is None or row.alliance_id != user.alliance_id:
        raise NotFoundError("not_found")
    return Holder(kind, row.id, row.name)


def may_act(user: User, holder: Holder) -> bool:
    """Whether the caller may move the holder's stock."""
    try:
        get_holder(user, holder.kind, holder.id, act=True)
    except (NotFoundError, ForbiddenError):
        return False
    return True
