"""Property companies (物业企业)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, CreatedAt


class Company(CreatedAt, Base):
    """A property company of the alliance."""

    __tablename__ = "companies"
    __table_args__ = (UniqueConstraint("alliance_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliances.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    contact_phone: Mapped[str] = mapped_column(String(20), default="")
