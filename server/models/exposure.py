"""Exposure look-ups (密接排查): a reasoned request by staff, approved by a second person."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, CreatedAt

EXPOSURE_STATUSES = ("pending", "approved", "rejected")


class ExposureRequest(CreatedAt, Base):
    """Who passed the same gates as a person within ±minutes, in a window; shown only once approved."""

    __tablename__ = "exposure_requests"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status"),
        CheckConstraint("window_end > window_start", name="window"),
        CheckConstraint("minutes >= 1 AND minutes <= 240", name="minutes"),
        # No one traces people alone: the approver is never the requester.
        CheckConstraint("decided_by_id IS NULL OR decided_by_id != requested_by_id", name="four_eyes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id", ondelete="CASCADE"), index=True)
    subject_user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    minutes: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str] = mapped_column(Text, default="")
