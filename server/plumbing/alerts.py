"""Raising alerts for staff (once per dedupe key) and queueing their WeChat messages."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server.extensions import db
from server.integrations.wechat import wechat_datetime
from server.models.alerts import Alert
from server.models.compounds import Compound
from server.models.people import User
from server.plumbing.caretakers import compound_actors
from server.plumbing.clock import utcnow
from server.plumbing.notifications import IMPORTANT, URGENT, enqueue

ALERT_KINDS = ("fever", "missed_report", "returnee", "welfare", "coverage_gap", "pass_reuse", "low_stock",
               "offline_while_online")
# What a staff member reads on the phone (a WeChat "thing" field: at most 20 characters).
ALERT_TITLES = {
    "fever": "发热预警:复测体温仍偏高",
    "missed_report": "居家隔离人员未按时报体温",
    "returnee": "外地返回人员登记",
    "welfare": "独居老人需上门探望",
    "coverage_gap": "门岗排班缺人",
    "pass_reuse": "通行码疑似被冒用",
    "low_stock": "防疫物资库存不足",
    "offline_while_online": "离线补传记录疑似倒签",
}
# Alerts that need someone at the gate now go first when a staff member's WeChat acceptances are short.
ALERT_PRIORITIES = {"fever": URGENT, "pass_reuse": URGENT}


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
    """Queue a message about the alert to everyone who acts for the compound (its company's or
    caretaker's staff, else the alliance admins): in their inbox, and on WeChat where they bound it;
    answers how many were queued (each at most once per alert)."""
    compound = db.session.get(Compound, alert.compound_id)
    if compound is None:
        return 0
    staff_ids = db.session.scalars(select(User.id).where(compound_actors(compound))).all()
    data = {"thing1": ALERT_TITLES.get(alert.kind, alert.kind), "thing2": compound.name,
            "time3": wechat_datetime(alert.created_at, compound.timezone)}
    for user_id in staff_ids:
        enqueue(user_id, "alert", data, page=f"pages/alerts/detail?id={alert.id}",
                dedupe_key=f"alert:{alert.id}:user:{user_id}", priority=ALERT_PRIORITIES.get(alert.kind, IMPORTANT))
    return len(staff_ids)
