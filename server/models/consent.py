"""PIPL consent: a resident's separate consent to the processing of health and movement data."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base
from server.plumbing.clock import utcnow

CONSENT_PURPOSES = ("health",)


class Consent(Base):
    """One consent given at a time, withdrawn later or never; history is kept, never overwritten."""

    __tablename__ = "consents"
    __table_args__ = (
        CheckConstraint("purpose IN ('health')", name="purpose"),
        CheckConstraint("withdrawn_at IS NULL OR withdrawn_at >= given_at", name="period"),
        # At most one live consent per person and purpose.
        Index("uq_consents_live", "user_id", "purpose", unique=True,
              sqlite_where=text("withdrawn_at IS NULL"), postgresql_where=text("withdrawn_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16), default="health")
    text_version: Mapped[str] = mapped_column(String(16), default="v1")
    given_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]
