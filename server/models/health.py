"""Health records: home-quarantine orders (the health issue adds readings and consent)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base
from server.services.clock import utcnow

QUARANTINE_REASONS = ("returned_from_city", "close_contact", "other")
LAWFUL_BASES = ("consent", "public_health_emergency")


class QuarantineOrder(Base):
    """居家隔离: a person or a whole household, from starts_at until ends_at or lifted early."""

    __tablename__ = "quarantine_orders"
    __table_args__ = (
        CheckConstraint("household_id IS NOT NULL OR user_id IS NOT NULL", name="subject"),
        CheckConstraint("ends_at > starts_at", name="period"),
        CheckConstraint("reason IN ('returned_from_city', 'close_contact', 'other')", name="reason"),
        CheckConstraint("lawful_basis IN ('consent', 'public_health_emergency')", name="lawful_basis"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id", ondelete="CASCADE"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(32))
    from_city: Mapped[str] = mapped_column(String(50), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    lawful_basis: Mapped[str] = mapped_column(String(32), default="public_health_emergency")
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime] = mapped_column(index=True)
    lifted_at: Mapped[datetime | None]
    lifted_reason: Mapped[str | None] = mapped_column(Text)
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
