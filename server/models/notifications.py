"""The notification outbox drained by `flask wuye notify`, and the shared WeChat access token."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, CreatedAt
from server.plumbing.clock import utcnow

NOTIFICATION_STATUSES = ("pending", "sending", "sent", "failed", "unsubscribed")


class Notification(CreatedAt, Base):
    """A WeChat subscribe message waiting to be sent, or its outcome."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed', 'unsubscribed')", name="status"),
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


class WeChatAccessToken(Base):
    """The one cached access token every process shares (stable_token)."""

    __tablename__ = "wechat_access_tokens"

    app_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(512))
    expires_at: Mapped[datetime]
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
