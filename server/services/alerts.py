"""Alerts for staff: raised once per dedupe key, listed by scope, acknowledged; staff are notified."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError

from server.errors import ConflictError
from server.extensions import db
from server.messages import register
from server.models.alerts import Alert
from server.models.compounds import Compound
from server.models.people import User
from server.scope import compound_condition, get_in_compound_scope
from server.services.clock import utcnow
from server.services.notifications import enqueue

ALERT_KINDS = ("fever", "missed_report", "returnee", "welfare", "coverage_gap", "pass_reuse")
# What a staff member reads on the phone (a WeChat "thing" field: at most 20 characters).
ALERT_TITLES = {
    "fever": "发热预警:复测体温仍偏高",
    "missed_report": "居家隔离人员未按时报体温",
    "returnee": "外地返回人员登记",
    "welfare": "独居老人需上门探望",
    "coverage_gap": "门岗排班缺人",
    "pass_reuse": "通行码疑似被冒用",
}

register({
    "alert_acknowledged": ("该提醒已被处理", "This alert was already acknowledged"),
})


def raise_alert(compound_id: int, kind: str, *, subject_user_id: int | None = None,
                household_id: int | None = None, detail: dict | None = None,
                dedupe_key: str | None = None) -> Alert:
    """Create an alert (or return the existing one with the same dedupe key)."""
    if dedupe_key is not None:
        existing = db.session.scalar(select(Alert).where(Alert.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    alert = Alert(compound_id=compound_id, kind=kind, subject_user_id=subject_user_id,
                  household_id=household_id, detail=detail or {}, dedupe_key=dedupe_key, created_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(alert)
    except IntegrityError:
        # Another worker raised it between our look and our insert.
        return db.session.scalar(select(Alert).where(Alert.dedupe_key == dedupe_key))
    return alert


def notify_staff(alert: Alert) -> int:
    """Queue a WeChat message about the alert to every active staff member of the compound's company
    who signed in with WeChat; answers how many were queued (each at most once per alert)."""
    compound = db.session.get(Compound, alert.compound_id)
    if compound is None or compound.company_id is None:
        return 0
    staff_ids = db.session.scalars(select(User.id).where(
        User.role == "staff", User.company_id == compound.company_id, User.is_active.is_(True),
        User.openid.is_not(None))).all()
    local = alert.created_at.astimezone(ZoneInfo(compound.timezone))
    data = {"thing1": ALERT_TITLES.get(alert.kind, alert.kind), "thing2": compound.name,
            "time3": local.strftime("%Y-%m-%d %H:%M")}
    for user_id in staff_ids:
        enqueue(user_id, "alert", data, page=f"pages/alerts/detail?id={alert.id}",
                dedupe_key=f"alert:{alert.id}:user:{user_id}")
    return len(staff_ids)


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
