"""Users of every role, and the invite codes that bind them to a household or a guard post."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, CreatedAt

ROLES = ("resident", "guard", "staff", "alliance_admin")
RESIDENCY = ("pending", "approved", "removed")
INVITE_KINDS = ("household", "guard")
# The caller's `users` row as authentication reads it (`server.auth.current_caller`): a named tuple of
# the User columns, for the hot paths that need only who is calling, without building an ORM instance.
UserRow = tuple


class User(CreatedAt, Base):
    """A person who signs in: resident or guard by WeChat, staff or alliance admin by password."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('resident', 'guard', 'staff', 'alliance_admin')", name="role"),
        CheckConstraint("role NOT IN ('staff', 'guard') OR company_id IS NOT NULL", name="company_for_employees"),
        CheckConstraint("residency IS NULL OR residency IN ('pending', 'approved', 'removed')", name="residency"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[str] = mapped_column(String(16), index=True)
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliances.id", ondelete="RESTRICT"), index=True)
    display_name: Mapped[str] = mapped_column(String(50), default="")
    phone: Mapped[str | None] = mapped_column(String(20))
    openid: Mapped[str | None] = mapped_column(String(128), unique=True)
    username: Mapped[str | None] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="RESTRICT"), index=True)
    # A guard's home post; residents' compound follows from their household.
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compounds.id", ondelete="SET NULL"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id", ondelete="SET NULL"), index=True)
    residency: Mapped[str | None] = mapped_column(String(16))
    lives_alone: Mapped[bool] = mapped_column(Boolean, default=False)
    returned_from: Mapped[str | None] = mapped_column(String(50))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def approved_household_id(self) -> int | None:
        """The household a resident may act for: only once staff approved the binding."""
        return self.household_id if self.residency == "approved" else None


class Invite(CreatedAt, Base):
    """A single-use code staff issue: binds a WeChat user to a household, or makes them a guard."""

    __tablename__ = "invites"
    __table_args__ = (
        CheckConstraint("kind IN ('household', 'guard')", name="kind"),
        CheckConstraint("kind != 'household' OR household_id IS NOT NULL", name="household_target"),
        CheckConstraint("kind != 'guard' OR company_id IS NOT NULL", name="guard_target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"), index=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compounds.id", ondelete="CASCADE"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime]
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    used_at: Mapped[datetime | None]
