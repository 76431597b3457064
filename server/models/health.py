"""Health records: home-quarantine orders and temperature readings."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, CreatedAt
from server.plumbing.clock import utcnow

QUARANTINE_REASONS = ("returned_from_city", "close_contact", "other")
LAWFUL_BASES = ("consent", "public_health_emergency")


class QuarantineOrder(CreatedAt, Base):
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
    lifted_at: Mapped[datetime | None] = mapped_column(index=True)  # for the retention purge
    lifted_reason: Mapped[str | None] = mapped_column(Text)
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

READING_SOURCES = ("gate", "self")
READING_OUTCOMES = ("normal", "remeasure", "fever")


class TemperatureReading(Base):
    """体温: one measurement, by a guard at a gate or self-reported by a resident in quarantine."""

    __tablename__ = "temperature_readings"
    __table_args__ = (
        UniqueConstraint("author_id", "client_id"),
        # A passer-by (a courier, an elderly visitor without a phone) is measured without being identified.
        CheckConstraint("subject_user_id IS NOT NULL OR visitor_id IS NOT NULL OR passer_by", name="subject"),
        CheckConstraint("celsius >= 34.0 AND celsius <= 43.0", name="plausible"),
        CheckConstraint("source IN ('gate', 'self')", name="source"),
        CheckConstraint("outcome IN ('normal', 'remeasure', 'fever')", name="outcome"),
        CheckConstraint("lawful_basis IN ('consent', 'public_health_emergency')", name="lawful_basis"),
        Index("ix_temperature_readings_subject_time", "subject_user_id", "measured_at"),
        Index("ix_temperature_readings_compound_time", "compound_id", "measured_at"),
        # The retention purge takes the oldest readings first.
        Index("ix_temperature_readings_measured_at", "measured_at"),
        # Deleting a reading looks for re-measures pointing at it (ON DELETE SET NULL): without this, a scan.
        Index("ix_temperature_readings_remeasure_of_id", "remeasure_of_id",
              sqlite_where=text("remeasure_of_id IS NOT NULL"), postgresql_where=text("remeasure_of_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id", ondelete="CASCADE"))
    subject_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"), index=True)
    # The gate issue owns the visitors table; a plain id keeps this table independent of it.
    visitor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    gate_id: Mapped[int | None] = mapped_column(ForeignKey("gates.id", ondelete="SET NULL"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    source: Mapped[str] = mapped_column(String(8))
    celsius: Mapped[Decimal] = mapped_column(Numeric(4, 1))
    high: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[str] = mapped_column(String(16), default="normal")
    lawful_basis: Mapped[str] = mapped_column(String(32))
    client_id: Mapped[str | None] = mapped_column(String(64))
    device_time: Mapped[datetime | None]
    measured_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    passer_by: Mapped[bool] = mapped_column(Boolean, default=False)
    # The guard's words about an unidentified passer-by ("快递员,蓝色外套"); the re-measure links to the first.
    note: Mapped[str] = mapped_column(String(200), default="")
    remeasure_of_id: Mapped[int | None] = mapped_column(ForeignKey("temperature_readings.id", ondelete="SET NULL"))


class QuarantineExtension(Base):
    """One change to an order's end: who moved it, from when to when, and why (the order keeps the latest)."""

    __tablename__ = "quarantine_extensions"
    __table_args__ = (CheckConstraint("new_ends_at > previous_ends_at", name="later"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("quarantine_orders.id", ondelete="CASCADE"), index=True)
    previous_ends_at: Mapped[datetime]
    new_ends_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text, default="")
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
