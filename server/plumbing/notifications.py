"""The notification outbox: services enqueue in the request's transaction; `flask wuye notify` sends."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server.extensions import db
from server.models.notifications import Notification


def enqueue(user_id: int, kind: str, data: dict[str, str], *, page: str = "",
            dedupe_key: str | None = None) -> Notification:
    """Queue a WeChat subscribe message for a user; sent later, at most once per dedupe key."""
    if dedupe_key is not None:
        existing = db.session.scalar(select(Notification).where(Notification.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    notification = Notification(user_id=user_id, kind=kind, data=data, page=page, dedupe_key=dedupe_key)
    try:
        with db.session.begin_nested():
            db.session.add(notification)
    except IntegrityError:
        return db.session.scalar(select(Notification).where(Notification.dedupe_key == dedupe_key))
    return notification
