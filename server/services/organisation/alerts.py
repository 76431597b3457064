"""Alerts for staff: listed by scope and acknowledged (raised through `server.plumbing.alerts`)."""

from __future__ import annotations

from sqlalchemy import Select, select

from server.errors import ConflictError
from server.extensions import db
from server.messages import register
from server.models.alerts import Alert
from server.models.people import User
from server.plumbing.clock import utcnow
from server.scope import compound_condition, get_in_compound_scope

register({
    "alert_acknowledged": ("该提醒已被处理", "This alert was already acknowledged"),
})


def alerts_query(user: User, *, compound_id: int | None = None, kind: str | None = None,
                 open_only: bool = False) -> Select:
    """The alerts the caller may see, newest first, optionally filtered."""
    query = select(Alert).where(compound_condition(user, Alert.compound_id))
    if compound_id is not None:
        query = query.where(Alert.compound_id == compound_id)
    if kind is not None:
        query = query.where(Alert.kind == kind)
    if open_only:
        query = query.where(Alert.acknowledged_at.is_(None))
    return query.order_by(Alert.created_at.desc(), Alert.id.desc())


def acknowledge(user: User, alert_id: int, note: str = "") -> Alert:
    """Mark an alert in scope as handled; a second acknowledgement is 409 alert_acknowledged."""
    alert = get_in_compound_scope(user, Alert, alert_id)
    now = utcnow()
    # Conditional update: of two staff acknowledging at once exactly one wins.
    done = db.session.execute(
        Alert.__table__.update().where(Alert.id == alert.id, Alert.acknowledged_at.is_(None))
        .values(acknowledged_at=now, acknowledged_by_id=user.id)).rowcount
    if done != 1:
        db.session.refresh(alert)
        raise ConflictError("alert_acknowledged", acknowledged_at=alert.acknowledged_at.isoformat())
    db.session.refresh(alert)
    if note:
        alert.detail = {**(alert.detail or {}), "note": note}
        db.session.flush()
    return alert
