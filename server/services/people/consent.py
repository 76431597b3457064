"""PIPL: the lawful basis (a person's consent, or a declared public-health emergency), consent given,
seen and withdrawn, and the audit row every bulk read of personal data leaves."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from server.errors import ConflictError, UnprocessableError
from server.extensions import db
from server.messages import register
from server.models.checkins import CheckIn
from server.models.compounds import Compound
from server.models.consent import Consent
from server.models.health import TemperatureReading
from server.models.people import User
from server.plumbing.audit import record
from server.plumbing.clock import utcnow
from server.scope import acting_role

CONSENT = "consent"
EMERGENCY = "public_health_emergency"

ROUTINE_PURPOSE = "日常防疫管理"

register({
    "purpose_required": ("联盟查看个人信息须说明理由", "The alliance must give a purpose to read personal data"),
    "consent_required": ("需先同意采集健康信息(或小区已宣布公共卫生紧急状态)",
                         "Consent to health data processing is required (or a declared public-health emergency)"),
})


def live_consent(user_id: int, purpose: str = "health") -> Consent | None:
    """The person's consent in force for a purpose, if any."""
    return db.session.scalar(select(Consent).where(Consent.user_id == user_id, Consent.purpose == purpose,
                                                   Consent.withdrawn_at.is_(None)))


def lawful_basis_for(compound: Compound, user_id: int | None) -> str | None:
    """The lawful basis for processing a person's health or movement data at a compound, or None."""
    if compound.health_emergency:
        return EMERGENCY
    if user_id is None:
        # A visitor without an account consents in person to the guard who measures them.
        return CONSENT
    return CONSENT if live_consent(user_id) is not None else None


def require_lawful_basis(compound: Compound, user_id: int | None) -> str:
    """The lawful basis, or 409 consent_required when there is none."""
    basis = lawful_basis_for(compound, user_id)
    if basis is None:
        raise ConflictError("consent_required")
    return basis


def give_consent(user: User, purpose: str = "health", text_version: str = "v1") -> Consent:
    """Record the person's consent now (giving it again while in force keeps the first one)."""
    existing = live_consent(user.id, purpose)
    if existing is not None:
        return existing
    consent = Consent(user_id=user.id, purpose=purpose, text_version=text_version, given_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(consent)
    except IntegrityError:
        # A concurrent request recorded it first.
        return live_consent(user.id, purpose)
    return consent


def withdraw_consent(user: User, purpose: str = "health") -> dict[str, int]:
    """Withdraw the person's consent now and delete what was kept on its strength (PIPL art. 47):
    their consent-based readings and check-ins. Records kept under a declared emergency stay.
    Answers the counts deleted, and "consents" ended (0 when none was in force)."""
    ended = db.session.execute(
        update(Consent).where(Consent.user_id == user.id, Consent.purpose == purpose,
                              Consent.withdrawn_at.is_(None)).values(withdrawn_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    deleted = {"consents": ended, "readings": db.session.execute(
        delete(TemperatureReading).where(TemperatureReading.subject_user_id == user.id,
                                         TemperatureReading.lawful_basis == CONSENT)
        .execution_options(synchronize_session=False)).rowcount}
    deleted["checkins"] = db.session.execute(
        delete(CheckIn).where(CheckIn.subject_user_id == user.id, CheckIn.lawful_basis == CONSENT)
        .execution_options(synchronize_session=False)).rowcount
    db.session.flush()
    return deleted


def consent_history(user: User) -> list[Consent]:
    """Every consent the person gave, newest first."""
    return list(db.session.scalars(select(Consent).where(Consent.user_id == user.id)
                                   .order_by(Consent.given_at.desc(), Consent.id.desc())))


def record_bulk_read(user: User, action: str, *, compound_id: int | None, purpose: str | None,
                     object_type: str = "", object_id: object = "", detail: dict | None = None) -> None:
    """Audit a bulk read or export of personal data; the alliance admin must say why, staff's
    routine work is recorded as such."""
    if not purpose:
        if acting_role(user) == "alliance_admin":
            raise UnprocessableError("purpose_required", errors={"query": {"purpose": ["required"]}})
        purpose = ROUTINE_PURPOSE
    record(action, actor=user, object_type=object_type, object_id=object_id, compound_id=compound_id,
           reason=purpose, detail=detail)
