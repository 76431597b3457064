"""Compounds (小区), their gates, buildings and households."""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, CreatedAt

GATE_KINDS = ("main", "side")


class Compound(CreatedAt, Base):
    """A residential compound; old compounds may have no property company."""

    __tablename__ = "compounds"
    __table_args__ = (
        UniqueConstraint("alliance_id", "name"),
        CheckConstraint("total_households IS NULL OR total_households >= 0", name="total_households"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliances.id", ondelete="RESTRICT"), index=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(200), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    lockdown: Mapped[bool] = mapped_column(Boolean, default=False)
    # PIPL art. 13(4): a declared public-health emergency is a lawful basis for health and movement data.
    health_emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    # A managed project may be offices or shops (the second seed: 220 projects, 182 residential).
    is_residential: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # The households it has, registered here or not (None: unknown), so that coverage means something.
    total_households: Mapped[int | None] = mapped_column(Integer)


class Gate(CreatedAt, Base):
    """An entrance (main or side); its code is short and opaque so it fits a mini-program scene."""

    __tablename__ = "gates"
    __table_args__ = (
        UniqueConstraint("compound_id", "name"),
        CheckConstraint("kind IN ('main', 'side')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    kind: Mapped[str] = mapped_column(String(8), default="main")
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    rotating_code: Mapped[bool] = mapped_column(Boolean, default=False)


class Building(Base):
    """A building (楼) of a compound."""

    __tablename__ = "buildings"
    __table_args__ = (UniqueConstraint("compound_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(50))


class Household(CreatedAt, Base):
    """A household (户): building, unit and room; compound_id is kept for one-hop scoping."""

    __tablename__ = "households"
    __table_args__ = (UniqueConstraint("building_id", "unit", "room"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id", ondelete="CASCADE"), index=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id", ondelete="CASCADE"), index=True)
    unit: Mapped[str] = mapped_column(String(20), default="")
    room: Mapped[str] = mapped_column(String(20))
