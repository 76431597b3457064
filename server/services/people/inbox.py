"""The in-app inbox (站内消息): every notification, read or unread, whether or not WeChat delivered it."""

from __future__ import annotations

import string

from sqlalchemy import func, select, update

from server.errors import NotFoundError
from server.extensions import db
from server.models.notifications import Notification
from server.models.people import User
from server.plumbing.clock import utcnow
from server.plumbing.pagination import paginate

# What each kind of message is called in the inbox (WeChat shows its template's own title).
KIND_TITLES = {
    "alert": "小区预警",
    "delivery_status": "送菜进度",
    "report_reminder": "体温上报提醒",
    "quarantine_placed": "居家隔离通知",
    "quarantine_extended": "居家隔离延长",
    "quarantine_lifted": "居家隔离解除",
    "incident": "联盟应急求助",
    "low_stock": "防疫物资库存不足",
}


def _field_order(key: str) -> tuple[int, str]:
    digits = key[len(key.rstrip(string.digits)):]
    return (int(digits) if digits else 0, key)


def message_view(note: Notification) -> dict:
    """One message as the inbox shows it: a title, the fields in the template's order, read or not."""
    fields = [str(note.data[key]) for key in sorted(note.data or {}, key=_field_order) if note.data[key] != ""]
    return {
        "id": note.id, "kind": note.kind, "title": KIND_TITLES.get(note.kind, "通知"), "body": " · ".join(fields),
        "fields": dict(note.data or {}), "page": note.page, "created_at": note.created_at,
        "read": note.read_at is not None, "read_at": note.read_at, "sent_on_wechat": note.status == "sent",
    }


def unread_count(user: User) -> int:
    """How many of the user's messages are unread."""
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def list_messages(user: User, args: dict) -> dict:
    """A page of the user's messages, newest first (only unread ones with ``unread``), and the unread count."""
    query = select(Notification).where(Notification.user_id == user.id)
    if args.get("unread"):
        query = query.where(Notification.read_at.is_(None))
    body = paginate(query.order_by(Notification.id.desc()), args)
    body["items"] = [message_view(note) for note in body["items"]]
    body["unread"] = unread_count(user)
    return body


def mark_read(user: User, message_id: int) -> dict:
    """Mark one of the user's messages read (another user's is a 404); answers the message."""
    note = db.session.scalar(select(Notification).where(Notification.id == message_id,
                                                        Notification.user_id == user.id))
    if note is None:
        raise NotFoundError()
    if note.read_at is None:
        note.read_at = utcnow()
        db.session.flush()
    return message_view(note)


def mark_all_read(user: User) -> int:
    """Mark every unread message of the user read; answers how many."""
    done = db.session.execute(update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    db.session.flush()
    return done
