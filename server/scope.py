"""The caller's scope, in one place: which compounds a request may touch.

A resident sees only their household's compound; a guard acts at their home post always, plus any
compound where a shift they were lent for is in progress; staff see their company's compounds; the
alliance admin every compound of the alliance. The scope comes from the token's user, never from ids
in the request; out of scope answers 404.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy import ColumnElement, false, select, true

from server.errors import NotFoundError
from server.extensions import db
from server.models.compounds import Compound, Household
from server.models.people import User

T = TypeVar("T")

# Where a guard may act besides the home post (the roster's lent shifts). Wired once by create_app,
# never filled as a side effect of an import: what a guard may do must not depend on import order.
GUARD_COMPOUND_PROVIDERS: tuple[Callable[[User], set[int]], ...] = ()
GUARD_GATE_CHECKS: tuple[Callable[[User, int, datetime | None], bool], ...] = ()


def wire_guard_scope(compound_providers: tuple, gate_checks: tuple) -> None:
    """Set the extra compounds (`provider(user) -> ids`) and gate checks (`check(user, gate_id, at)`)
    that widen a guard's scope beyond the home post; called by create_app."""
    global GUARD_COMPOUND_PROVIDERS, GUARD_GATE_CHECKS
    GUARD_COMPOUND_PROVIDERS = tuple(compound_providers)
    GUARD_GATE_CHECKS = tuple(gate_checks)


def guard_acts_at_gate(user: User, gate_id: int, compound_id: int, at: datetime | None = None) -> bool:
    """A guard acts at every gate of the home post; elsewhere only where a gate check allows it at `at`
    (now, or when an offline scan was made: a lent guard uploads the shift's scans after it ended)."""
    if compound_id == user.compound_id:
        return True
    return any(check(user, gate_id, at) for check in GUARD_GATE_CHECKS)


def guard_compound_ids(user: User) -> set[int]:
    """The compounds a guard may act at now: the home post plus any provider's (e.g. lent shifts)."""
    ids = {user.compound_id} if user.compound_id is not None else set()
    for provider in GUARD_COMPOUND_PROVIDERS:
        ids |= provider(user)
    return ids


def resident_compound_id(user: User) -> int | None:
    """The compound of a resident's approved household."""
    if user.approved_household_id is None:
        return None
    return db.session.scalar(select(Household.compound_id).where(Household.id == user.approved_household_id))


def compound_condition(user: User, column) -> ColumnElement[bool]:
    """A SQL condition restricting a compound-id column to the caller's scope."""
    if user.role == "alliance_admin":
        return column.in_(select(Compound.id).where(Compound.alliance_id == user.alliance_id))
    if user.role == "staff":
        return column.in_(select(Compound.id).where(Compound.company_id == user.company_id))
    if user.role == "guard":
        ids = guard_compound_ids(user)
        return column.in_(ids) if ids else false()
    if user.role == "resident":
        compound_id = resident_compound_id(user)
        return column == compound_id if compound_id is not None else false()
    return false()


def in_scope(user: User, compound_id: int) -> bool:
    """Whether the caller's scope covers a compound."""
    return bool(db.session.scalar(select(true()).where(compound_condition(user, Compound.id),
                                                        Compound.id == compound_id)))


def get_compound(user: User, compound_id: int) -> Compound:
    """A compound in the caller's scope, or 404."""
    compound = db.session.scalar(
        select(Compound).where(Compound.id == compound_id, compound_condition(user, Compound.id)))
    if compound is None:
        raise NotFoundError("not_found")
    return compound


def get_in_compound_scope(user: User, model: type[T], object_id: int) -> T:
    """An object with a compound_id column, in the caller's scope, or 404."""
    obj = db.session.scalar(
        select(model).where(model.id == object_id, compound_condition(user, model.compound_id)))
    if obj is None:
        raise NotFoundError("not_found")
    return obj
