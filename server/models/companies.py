"""Property companies (物业企业)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, CreatedAt


class Company(CreatedAt, Base):
    """A property company of the alliance."""

    __tablename__ = "companies"
    __table_args__ = (
        UniqueConstraint("alliance_id", "name"),
        CheckConstraint("membership IN ('active', 'invited', 'suspended')", name="membership"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliances.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    contact_phone: Mapped[str] = mapped_column(String(20), default="")
    # Membership of the alliance: invited (not yet joined), active, or suspended by the alliance admin.
    # Suspension takes away alliance-level features, never the company's own compounds.
    membership: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    invited_at: Mapped[datetime | None]
    joined_at: Mapped[datetime | None]
    suspended_at: Mapped[datetime | None]
    suspended_reason: Mapped[str] = mapped_column(String(200), default="", server_default="")
