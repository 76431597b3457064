"""Caretaking (托管): a compound without a property company entrusted for a period to a member company.

While a caretaking is active its company's staff act at the compound as its staff; a company-less
compound with no active caretaking is run by the alliance admin directly. At most one caretaking of
a compound is active at any moment: PostgreSQL refuses overlapping periods (an EXCLUDE constraint),
and the service checks the same rule under a lock so that SQLite behaves alike.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DDL, CheckConstraint, ColumnElement, ForeignKey, Index, String, and_, event, or_
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base
from server.models.rosters import BTREE_GIST_DDL
from server.plumbing.clock import utcnow


class Caretaking(Base):
    """One hand-over of a company-less compound to a member company, from ``starts_at`` to ``ends_at``."""

    __tablename__ = "caretakings"
    __table_args__ = (
        # An empty period (ends_at == starts_at) is a hand-over withdrawn before it began.
        CheckConstraint("ends_at IS NULL OR ends_at >= starts_at", name="ends_after_start"),
        Index("ix_caretakings_compound_starts", "compound_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id", ondelete="CASCADE"))
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="RESTRICT"), index=True)
    starts_at: Mapped[datetime]
    # None: until it is ended. Ending early moves it to the moment it was ended.
    ends_at: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(String(500), default="")
    handed_over_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    ended_at: Mapped[datetime | None]
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    end_note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def caretaking_active(at: datetime) -> ColumnElement[bool]:
    """A SQL condition: the caretaking's period holds the moment ``at``."""
    return and_(Caretaking.starts_at <= at, or_(Caretaking.ends_at.is_(None), Caretaking.ends_at > at))


def caretakings_overlap(starts_at: datetime, ends_at: datetime | None) -> ColumnElement[bool]:
    """A SQL condition: the caretaking's period overlaps [starts_at, ends_at) (None: open-ended).

    A withdrawn hand-over (an empty period) overlaps nothing, as in PostgreSQL's ranges.
    """
    condition = or_(Caretaking.ends_at.is_(None),
                    and_(Caretaking.ends_at > starts_at, Caretaking.ends_at > Caretaking.starts_at))
    if ends_at is not None:
        condition = and_(condition, Caretaking.starts_at < ends_at)
    return condition


# The same statement serves create_all (below) and the Alembic migration (PostgreSQL only).
CARETAKING_OVERLAP_DDL = ("ALTER TABLE caretakings ADD CONSTRAINT ex_caretakings_compound_overlap "
                          "EXCLUDE USING gist (compound_id WITH =, tstzrange(starts_at, ends_at) WITH &&)")
event.listen(Caretaking.__table__, "before_create", DDL(BTREE_GIST_DDL).execute_if(dialect="postgresql"))
event.listen(Caretaking.__table__, "after_create", DDL(CARETAKING_OVERLAP_DDL).execute_if(dialect="postgresql"))
