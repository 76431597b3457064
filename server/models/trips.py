"""Trips residents declare (外地返回): where from and when back; the gate watches them for a while after."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base
from server.plumbing.clock import utcnow

TRIP_SOURCES = ("self", "staff")


class Trip(Base):
    """A resident's return from another city: from ``returned_at`` until ``attention_until`` the gate
    flags them (returnee_attention) and staff are alerted; staff may turn it into a quarantine order."""

    __tablename__ = "trips"
    __table_args__ = (
        # A device retry of the same declaration finds the first one instead of adding a second.
        UniqueConstraint("user_id", "returned_at", "from_city"),
        CheckConstraint("attention_until > returned_at", name="period"),
        CheckConstraint("source IN ('self', 'staff')", name="source"),
        # The gate's look-up: the person's trip whose attention period covers the moment of the scan.
        Index("ix_trips_user_attention", "user_id", "attention_until"),
        # The retention purge takes the trips whose attention period ended longest ago first.
        Index("ix_trips_attention_until", "attention_until"),
        # Deleting a quarantine order looks for the trips naming it (ON DELETE SET NULL).
        Index("ix_trips_quarantine_order_id", "quarantine_order_id",
              sqlite_where=text("quarantine_order_id IS NOT NULL"),
              postgresql_where=text("quarantine_order_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id", ondelete="SET NULL"))
    from_city: Mapped[str] = mapped_column(String(50))
    returned_at: Mapped[datetime]
    attention_until: Mapped[datetime]
    note: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(8))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    quarantine_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("quarantine_orders.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
