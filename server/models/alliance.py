"""The property alliance: one per deployment (a street or a district)."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, CreatedAt


class Alliance(CreatedAt, Base):
    """物业联盟: ties the companies of one street or district together."""

    __tablename__ = "alliances"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    region: Mapped[str] = mapped_column(String(100), default="")
