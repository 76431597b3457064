"""Lending guards across the alliance: an uncovered shift posted, guards offered by other companies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, CreatedAt

LOAN_STATUSES = ("open", "filled", "cancelled")
OFFER_STATUSES = ("offered", "accepted", "declined", "withdrawn")


class LoanRequest(CreatedAt, Base):
    """An uncovered shift posted to the alliance; at most one open request per shift."""

    __tablename__ = "loan_requests"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'filled', 'cancelled')", name="status"),
        Index("uq_loan_requests_open_shift", "shift_id", unique=True,
              sqlite_where=text("status = 'open'"), postgresql_where=text("status = 'open'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliances.id", ondelete="CASCADE"), index=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("shifts.id", ondelete="CASCADE"), index=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id", ondelete="CASCADE"), index=True)
    posted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="open")
    note: Mapped[str] = mapped_column(String(200), default="")
    closed_at: Mapped[datetime | None]


class LoanOffer(CreatedAt, Base):
    """A company offering one of its guards for a posted shift."""

    __tablename__ = "loan_offers"
    __table_args__ = (
        UniqueConstraint("loan_id", "guard_id"),
        CheckConstraint("status IN ('offered', 'accepted', 'declined', 'withdrawn')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan_requests.id", ondelete="CASCADE"), index=True)
    guard_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    offered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="offered")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
