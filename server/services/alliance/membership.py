"""Membership of the alliance: the admin invites a company, the company joins, the admin may suspend it.

Suspension takes away what the alliance gives (its summary, offering guards for loans, caretaking of
compounds without a company, and later mutual-aid notifications: `server.scope.alliance_of` and
`active_member_condition`); the company's own compounds, residents and guards are served as before,
since residents must not lose their property service over a dispute between companies.
"""

from __future__ import annotations

from sqlalchemy import select, update

from server.errors import ConflictError
from server.extensions import db
from server.messages import register
from server.models.caretaking import Caretaking
from server.models.companies import Company
from server.models.people import User
from server.plumbing import audit
from server.plumbing.clock import utcnow
from server.services.alliance.caretaking import end_caretaking
from server.services.organisation.companies import create_company

register({
    "membership_changed": ("该公司的成员状态已变更", "The company's membership is not in a state that allows this"),
})


def invite_company(admin: User, data: dict) -> Company:
    """Add a company to the alliance as invited: it becomes a member when its staff accept."""
    company = create_company(admin, data)
    company.membership, company.invited_at, company.joined_at = "invited", utcnow(), None
    db.session.flush()
    audit.record("alliance.invite", actor=admin, object_type="company", object_id=company.id,
                 detail={"name": company.name})
    return company


def accept_membership(staff: User) -> Company:
    """The staff of an invited company accept: the company is an active member from now."""
    company = db.session.get(Company, staff.company_id) if staff.company_id is not None else None
    if company is None:
        raise ConflictError("membership_changed", membership=None)
    _change(company, ("invited",), membership="active", joined_at=utcnow())
    audit.record("alliance.join", actor=staff, object_type="company", object_id=company.id)
    return company


def suspend_company(admin: User, company: Company, reason: str) -> Company:
    """Suspend a member: it loses the alliance's features, and the compounds entrusted to it return to
    the alliance admin at once (its active and future caretakings end)."""
    now = utcnow()
    _change(company, ("active", "invited"), membership="suspended", suspended_at=now, suspended_reason=reason)
    entrusted = db.session.scalars(select(Caretaking).where(
        Caretaking.company_id == company.id, Caretaking.ends_at.is_(None) | (Caretaking.ends_at > now))).all()
    for caretaking in entrusted:
        end_caretaking(admin, caretaking, f"公司被暂停联盟成员资格:{reason}"[:500])
    audit.record("alliance.suspend", actor=admin, object_type="company", object_id=company.id, reason=reason,
                 detail={"ended_caretaking_ids": [c.id for c in entrusted]})
    return company


def reinstate_company(admin: User, company: Company) -> Company:
    """Lift a suspension: the company is an active member again (caretakings are not restored)."""
    _change(company, ("suspended",), membership="active", suspended_at=None, suspended_reason="",
            joined_at=company.joined_at or utcnow())
    audit.record("alliance.reinstate", actor=admin, object_type="company", object_id=company.id)
    return company


def _change(company: Company, sources: tuple[str, ...], **values) -> None:
    # Conditional update: of two concurrent changes (suspend and accept) exactly one applies.
    applied = db.session.execute(update(Company).where(Company.id == company.id, Company.membership.in_(sources))
                                 .values(**values).execution_options(synchronize_session=False)).rowcount
    db.session.refresh(company)
    if applied != 1:
        raise ConflictError("membership_changed", membership=company.membership)
