"""Notifications: each is an in-app inbox message (站内消息) and, while an acceptance is held, a WeChat
subscribe message sent by `flask wuye notify`; the one-time acceptances; the shared WeChat access token."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, CreatedAt
from server.plumbing.clock import utcnow

# inbox_only: kept in the inbox, not sent on WeChat (no acceptance held, no WeChat bound, no template).
NOTIFICATION_STATUSES = ("pending", "sending", "sent", "failed", "unsubscribed", "inbox_only")


class Notification(CreatedAt, Base):
    """A message to one user: always in their inbox; on WeChat when sent (its outcome in `status`)."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed', 'unsubscribed', 'inbox_only')",
                        name="status"),
        CheckConstraint("reserve >= 0", name="reserve"),
        Index("ix_notifications_user_id_read_at", "user_id", "read_at"),
        # The retention purge takes the oldest messages first.
        Index("ix_notifications_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    template_id: Mapped[str] = mapped_column(String(64), default="")
    page: Mapped[str] = mapped_column(String(128), default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    locked_until: Mapped[datetime | None]
    # The drain run that claimed the row: only it may record the outcome.
    claim_token: Mapped[str | None] = mapped_column(String(32))
    dedupe_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # Higher goes first when a user's acceptances are short (see server.plumbing.notifications).
    priority: Mapped[int] = mapped_column(SmallInteger, default=1, server_default="1")
    # Acceptances kept back for more important messages still to come: sent on WeChat only while the
    # user holds more than this many.
    reserve: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    read_at: Mapped[datetime | None]


class WeChatSubscription(Base):
    """The one-time subscriptions (一次性订阅) a user accepted for a template and not yet spent."""

    __tablename__ = "wechat_subscriptions"
    __table_args__ = (
        UniqueConstraint("user_id", "template_id"),
        CheckConstraint("remaining >= 0", name="remaining"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    template_id: Mapped[str] = mapped_column(String(64))
    remaining: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WeChatAccessToken(Base):
    """The one cached access token every process shares (stable_token)."""

    __tablename__ = "wechat_access_tokens"

    app_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(512))
    expires_at: Mapped[datetime]
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
