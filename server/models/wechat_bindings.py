"""One-time codes that bind a staff or admin password account to the WeChat that redeems them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base
from server.plumbing.clock import utcnow


class WeChatBindCode(Base):
    """A bind code shown once to a signed-in account; only its SHA-256 is kept; short-lived, single use."""

    __tablename__ = "wechat_bind_codes"
    __table_args__ = (Index("ix_wechat_bind_codes_user_id_created_at", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
