"""Caretaking (托管): the alliance admin entrusts a compound without a company to a member company.

Until then, and after it ends, the alliance admin runs the compound directly. The entrusted company's
staff act there as its staff while the period lasts (`server.scope.staff_compounds`). Every hand-over
and every end is recorded and audited.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError

from server.errors import ConflictError, NotFoundError, UnprocessableError
from server.extensions import db
from server.messages import register
from server.models.caretaking import Caretaking, caretakings_overlap
from server.models.companies import Company
from server.models.compounds import Compound
from server.models.people import User
from server.plumbing import audit
from server.plumbing.clock import utcnow

register({
    "compound_has_company": ("该小区已有物业公司,无需托管", "The compound has a property company; it needs no caretaker"),
    "company_not_member": ("该公司不是联盟的正式成员", "The company is not an active member of the alliance"),
    "caretaking_overlaps": ("该时段内小区已托管给其他公司", "The compound is already entrusted for part of this period"),
    "caretaking_ended": ("该托管已结束", "This caretaking has already ended"),
})

# A hand-over "now" sent by a device whose clock runs a little behind is still now.
CLOCK_SKEW = timedelta(minutes=5)


def caretaking_history(compound: Compound) -> Select:
    """A compound's caretakings, latest first."""
    return select(Caretaking).where(Caretaking.compound_id == compound.id) \
        .order_by(Caretaking.starts_at.desc(), Caretaking.id.desc())


def caretaking_view(caretaking: Caretaking) -> dict:
    """A caretaking with whether it holds now."""
    now = utcnow()
    return {**{c.key: getattr(caretaking, c.key) for c in caretaking.__table__.columns},
            "active": caretaking.starts_at <= now and (caretaking.ends_at is None or caretaking.ends_at > now)}


def get_caretaking(compound: Compound, caretaking_id: int) -> Caretaking:
    """A caretaking of the compound (already in the caller's scope), or 404."""
    caretaking = db.session.scalar(select(Caretaking).where(Caretaking.id == caretaking_id,
                                                            Caretaking.compound_id == compound.id))
    if caretaking is None:
        raise NotFoundError("not_found")
    return caretaking


def hand_over(admin: User, compound: Compound, company: Company, *, starts_at: datetime | None = None,
              ends_at: datetime | None = None, note: str = "") -> Caretaking:
    """Entrust a company-less compound to an active member company from ``starts_at`` (now) to
    ``ends_at`` (until ended); 409 when another caretaking overlaps the period."""
    now = utcnow()
    starts_at = now if starts_at is None or now - CLOCK_SKEW <= starts_at <= now else starts_at
    if starts_at < now:
        raise UnprocessableError("validation_failed", errors={"json": {"starts_at": ["must not be in the past"]}})
    if ends_at is not None and ends_at <= starts_at:
        raise UnprocessableError("validation_failed", errors={"json": {"ends_at": ["must be after starts_at"]}})
    if company.membership != "active" or company.alliance_id != compound.alliance_id:
        raise ConflictError("company_not_member", membership=company.membership)
    _lock(compound)
    if compound.company_id is not None:
        raise ConflictError("compound_has_company")
    _refuse_overlap(compound.id, starts_at, ends_at)
    caretaking = Caretaking(compound_id=compound.id, company_id=company.id, starts_at=starts_at, ends_at=ends_at,
                            note=note, handed_over_by_id=admin.id)
    try:
        with db.session.begin_nested():
            db.session.add(caretaking)
    except IntegrityError as exc:
        # Another hand-over of the compound got in first; PostgreSQL's EXCLUDE constraint said no.
        raise ConflictError("caretaking_overlaps") from exc
    audit.record("caretaking.hand_over", actor=admin, object_type="caretaking", object_id=caretaking.id,
                 compound_id=compound.id, reason=note,
                 detail={"company_id": company.id, "starts_at": starts_at.isoformat(),
                         "ends_at": ends_at.isoformat() if ends_at else None})
    return caretaking


def end_caretaking(admin: User, caretaking: Caretaking, note: str = "") -> Caretaking:
    """End a caretaking now (one not yet begun is withdrawn): the alliance admin runs the compound again."""
    now = utcnow()
    ended = db.session.execute(
        update(Caretaking).where(Caretaking.id == caretaking.id,
                                 Caretaking.ends_at.is_(None) | (Caretaking.ends_at > now))
        .values(ends_at=max(now, caretaking.starts_at), ended_at=now, ended_by_id=admin.id, end_note=note)
        .execution_options(synchronize_session=False)).rowcount
    db.session.refresh(caretaking)
    if ended != 1:
        raise ConflictError("caretaking_ended", ends_at=caretaking.ends_at.isoformat())
    audit.record("caretaking.end", actor=admin, object_type="caretaking", object_id=caretaking.id,
                 compound_id=caretaking.compound_id, reason=note, detail={"company_id": caretaking.company_id})
    return caretaking


def _lock(compound: Compound) -> None:
    """Hold the compound until the commit, so two hand-overs of it take turns (SQLite: the write lock)."""
    db.session.execute(update(Compound).where(Compound.id == compound.id).values(company_id=Compound.company_id)
                       .execution_options(synchronize_session=False))
    db.session.refresh(compound)


def _refuse_overlap(compound_id: int, starts_at: datetime, ends_at: datetime | None) -> None:
    other = db.session.scalar(select(Caretaking.id).where(Caretaking.compound_id == compound_id,
                                                          caretakings_overlap(starts_at, ends_at)).limit(1))
    if other is not None:
        raise ConflictError("caretaking_overlaps", caretaking_id=other)
