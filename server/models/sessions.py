"""Sign-in sessions and their rotating refresh tokens (reuse revokes the whole family)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, CreatedAt
from server.plumbing.clock import utcnow


class AuthSession(CreatedAt, Base):
    """One sign-in: the family of its refresh tokens; revoking it ends its access tokens too."""

    __tablename__ = "auth_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(32))
    # WeChat's session_key is kept here, server-side only, for decrypting user data later.
    wechat_session_key: Mapped[str | None] = mapped_column(String(64))


class RefreshToken(Base):
    """A refresh token by its jti; used once, then replaced."""

    __tablename__ = "refresh_tokens"

    jti: Mapped[str] = mapped_column(String(32), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("auth_sessions.id", ondelete="CASCADE"), index=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
