"""Satisfaction ratings (满意度) of the property service, that rank the companies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base
from server.plumbing.clock import utcnow

# 'period': the resident's rating of the service for a period (a month by default, '2026-12');
# 'incident': after an emergency incident (the incidents issue calls the ratings service). Ratings
# after a delivery are the deliveries' own (`DeliveryRating`) and count in the rankings as well.
RATING_KINDS = ("period", "incident")


class SatisfactionRating(Base):
    """One resident's score (1-5) with an optional comment, for a compound and the company running it then."""

    __tablename__ = "satisfaction_ratings"
    __table_args__ = (
        CheckConstraint("score BETWEEN 1 AND 5", name="score"),
        CheckConstraint("kind IN ('period', 'incident')", name="kind"),
        CheckConstraint("kind = 'period' OR subject_id IS NOT NULL", name="subject"),
        # At most once per period per compound: the database says so, whatever races.
        Index("ux_satisfaction_ratings_period", "user_id", "compound_id", "period", unique=True,
              sqlite_where=text("kind = 'period'"), postgresql_where=text("kind = 'period'")),
        # At most once per incident.
        Index("ux_satisfaction_ratings_subject", "user_id", "kind", "subject_id", unique=True,
              sqlite_where=text("kind <> 'period'"), postgresql_where=text("kind <> 'period'")),
        Index("ix_satisfaction_ratings_period_company", "period", "company_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliances.id", ondelete="CASCADE"))
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id", ondelete="CASCADE"), index=True)
    # The company running the compound when the rating was given (None: the alliance ran it itself).
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="SET NULL"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="period")
    # The incident rated (kind 'incident'); a plain id keeps this table independent of that issue's.
    subject_id: Mapped[int | None] = mapped_column(Integer)
    period: Mapped[str] = mapped_column(String(8))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
