"""Secrets the server generates itself and keeps encrypted under WUYE_SECRET_KEY (the pass-id mask)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base
from server.plumbing.clock import utcnow


class ServerSecret(Base):
    """One named secret, made once and shared by every process; rotating WUYE_SECRET_KEY keeps it."""

    __tablename__ = "server_secrets"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
