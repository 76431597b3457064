"""Guard rosters: shift templates, shifts per gate, assignments, leave, and clock events.

Times are aware UTC; templates hold the compound's local wall-clock time (a shift may cross
midnight). An assignment repeats its shift's times so the database itself can refuse two
overlapping shifts for one guard (an EXCLUDE constraint on PostgreSQL).
"""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import (
    DDL,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Time,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, CreatedAt
from server.plumbing.clock import utcnow

SHIFT_STATUSES = ("open", "cancelled")
CANCEL_REASONS = ("gate_closed", "manual")
ASSIGNMENT_SOURCES = ("manual", "autofill", "swap", "loan")
LEAVE_KINDS = ("leave", "unavailable")
CLOCK_KINDS = ("in", "out")
MAX_GUARDS_PER_SHIFT = 20


class ShiftTemplate(CreatedAt, Base):
    """A daily shift of a gate in local time (e.g. 08:00 for 8 h) that generates a week of shifts."""

    __tablename__ = "shift_templates"
    __table_args__ = (
        UniqueConstraint("gate_id", "start_time", "duration_minutes"),
        CheckConstraint("duration_minutes BETWEEN 30 AND 1440", name="duration"),
        CheckConstraint(f"guards_needed BETWEEN 1 AND {MAX_GUARDS_PER_SHIFT}", name="guards_needed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id", ondelete="CASCADE"), index=True)
    gate_id: Mapped[int] = mapped_column(ForeignKey("gates.id", ondelete="CASCADE"), index=True)
    start_time: Mapped[time] = mapped_column(Time)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    guards_needed: Mapped[int] = mapped_column(Integer, default=1)


class Shift(CreatedAt, Base):
    """A stretch of duty at a gate needing some guards; cancelled when its gate closes."""

    __tablename__ = "shifts"
    __table_args__ = (
        UniqueConstraint("gate_id", "starts_at", "ends_at"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint(f"guards_needed BETWEEN 1 AND {MAX_GUARDS_PER_SHIFT}", name="guards_needed"),
        CheckConstraint("status IN ('open', 'cancelled')", name="status"),
        CheckConstraint("cancel_reason IS NULL OR cancel_reason IN ('gate_closed', 'manual')", name="cancel_reason"),
        Index("ix_shifts_compound_starts", "compound_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id", ondelete="CASCADE"))
    gate_id: Mapped[int] = mapped_column(ForeignKey("gates.id", ondelete="CASCADE"), index=True)
    template_id: Mapped[int | None] = mapped_column(ForeignKey("shift_templates.id", ondelete="SET NULL"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    guards_needed: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="open")
    cancelled_at: Mapped[datetime | None]
    # Why it was cancelled: gate_closed (generate_week brings it back when the gate reopens) or manual.
    cancel_reason: Mapped[str | None] = mapped_column(String(16))


class ShiftAssignment(CreatedAt, Base):
    """A guard on a shift; starts_at/ends_at copy the shift's so the database can refuse overlaps."""

    __tablename__ = "shift_assignments"
    __table_args__ = (
        UniqueConstraint("shift_id", "guard_id"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("source IN ('manual', 'autofill', 'swap', 'loan')", name="source"),
        CheckConstraint("source != 'loan' OR loan_offer_id IS NOT NULL", name="loan_has_offer"),
        Index("ix_shift_assignments_guard_starts", "guard_id", "starts_at"),
        Index("ix_shift_assignments_compound_starts", "compound_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("shifts.id", ondelete="CASCADE"), index=True)
    guard_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id", ondelete="CASCADE"))
    gate_id: Mapped[int] = mapped_column(ForeignKey("gates.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(16), default="manual")
    loan_offer_id: Mapped[int | None] = mapped_column(ForeignKey("loan_offers.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


# PostgreSQL refuses two overlapping assignments of one guard even under concurrent writes; the
# services check the same rule first so that SQLite (no such constraint) behaves alike. The same
# statements serve create_all (below) and the Alembic migration (op.execute each, PostgreSQL only).
BTREE_GIST_DDL = "CREATE EXTENSION IF NOT EXISTS btree_gist"
GUARD_OVERLAP_DDL = ("ALTER TABLE shift_assignments ADD CONSTRAINT ex_shift_assignments_guard_overlap "
                     "EXCLUDE USING gist (guard_id WITH =, tstzrange(starts_at, ends_at) WITH &&)")
event.listen(ShiftAssignment.__table__, "before_create", DDL(BTREE_GIST_DDL).execute_if(dialect="postgresql"))
event.listen(ShiftAssignment.__table__, "after_create", DDL(GUARD_OVERLAP_DDL).execute_if(dialect="postgresql"))


class GuardLeave(CreatedAt, Base):
    """A time a guard cannot work: leave (请假) or declared unavailability."""

    __tablename__ = "guard_leaves"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("kind IN ('leave', 'unavailable')", name="kind"),
        Index("ix_guard_leaves_guard_starts", "guard_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    guard_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(16), default="leave")
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ClockEvent(Base):
    """A guard clocking in or out of an assignment by scanning the gate's code at the post."""

    __tablename__ = "clock_events"
    __table_args__ = (
        UniqueConstraint("assignment_id", "kind"),
        CheckConstraint("kind IN ('in', 'out')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("shift_assignments.id", ondelete="CASCADE"), index=True)
    guard_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    gate_id: Mapped[int] = mapped_column(ForeignKey("gates.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
