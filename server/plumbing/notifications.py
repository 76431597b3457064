"""The notification outbox: services enqueue in the request's transaction; `flask wuye notify` sends.

Every notification is also a message in its user's in-app inbox, the channel that always works. On
WeChat it is sent only while the user holds an unspent one-time acceptance (一次性订阅) of its
template: each acceptance allows one message. When acceptances are short the ones that matter most
go first (`priority`), and a routine message is sent only while the user holds more than `reserve`
acceptances, so the milestones still to come (a delivery claimed, out for delivery, delivered) keep theirs.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server.extensions import db
from server.models.notifications import Notification

# The order a user's messages compete for their acceptances, highest first.
URGENT = 3      # act now: a fever at the gate, a pass used twice
IMPORTANT = 2   # what the person waits for: an alert, a delivery milestone, a quarantine order, a reminder
ROUTINE = 1     # progress readable in the inbox: a request received, purchasing, confirmed
KIND_PRIORITIES = {
    "alert": IMPORTANT,
    "report_reminder": IMPORTANT,
    "quarantine_placed": IMPORTANT,
    "quarantine_extended": IMPORTANT,
    "quarantine_lifted": IMPORTANT,
    "delivery_status": ROUTINE,
}


def enqueue(user_id: int, kind: str, data: dict[str, str], *, page: str = "",
            dedupe_key: str | None = None, priority: int | None = None, reserve: int = 0) -> Notification:
    """Queue a message for a user (inbox always, WeChat while an acceptance is held); at most once per dedupe key.

    ``data`` holds the full values by WeChat field key (``thing1``): the inbox shows them whole, the
    sender fits them to WeChat's limits. ``reserve``: acceptances to keep for messages still to come.
    """
    if dedupe_key is not None:
        existing = db.session.scalar(select(Notification).where(Notification.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    notification = Notification(user_id=user_id, kind=kind, data=data, page=page, dedupe_key=dedupe_key,
                                priority=KIND_PRIORITIES.get(kind, IMPORTANT) if priority is None else priority,
                                reserve=max(0, reserve))
    try:
        with db.session.begin_nested():
            db.session.add(notification)
    except IntegrityError:
        return db.session.scalar(select(Notification).where(Notification.dedupe_key == dedupe_key))
    return notification
