"""Shift swaps: a guard offers an assignment, another guard accepts, staff approve."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, CreatedAt

SWAP_STATUSES = ("offered", "accepted", "approved", "rejected", "cancelled")


class SwapRequest(CreatedAt, Base):
    """One offer to hand an assignment to another guard; at most one live offer per assignment."""

    __tablename__ = "swap_requests"
    __table_args__ = (
        CheckConstraint("status IN ('offered', 'accepted', 'approved', 'rejected', 'cancelled')", name="status"),
        CheckConstraint("status NOT IN ('accepted', 'approved') OR accepted_by_id IS NOT NULL", name="accepter"),
        Index("uq_swap_requests_live_assignment", "assignment_id", unique=True,
              sqlite_where=text("status IN ('offered', 'accepted')"),
              postgresql_where=text("status IN ('offered', 'accepted')")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # SET NULL: an approved swap deletes the offered assignment, the request stays as history.
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("shift_assignments.id", ondelete="SET NULL"))
    shift_id: Mapped[int] = mapped_column(ForeignKey("shifts.id", ondelete="CASCADE"), index=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id", ondelete="CASCADE"), index=True)
    offered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="offered")
    note: Mapped[str] = mapped_column(String(200), default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
