"""Grocery delivery (送菜上门) for households in home quarantine or in a compound in lockdown."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, CreatedAt
from server.plumbing.clock import utcnow

DELIVERY_STATUSES = ("submitted", "claimed", "purchasing", "on_the_way", "delivered", "confirmed",
                     "cancelled", "rejected")
OPEN_STATUSES = ("submitted", "claimed", "purchasing", "on_the_way")
# Statuses in which someone has claimed the request and must be named.
CLAIMED_STATUSES = ("claimed", "purchasing", "on_the_way", "delivered", "confirmed")
DROP_POINTS = ("door", "unit_entrance")
URGENCY_TAGS = ("medicine", "infant", "elderly")
ITEM_OUTCOMES = ("pending", "bought", "out_of_stock", "substituted")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class DeliveryRequest(CreatedAt, Base):
    """A household's request for groceries, from submission to the resident's confirmation."""

    __tablename__ = "delivery_requests"
    __table_args__ = (
        UniqueConstraint("requester_id", "client_id"),
        CheckConstraint(_in("status", DELIVERY_STATUSES), name="status"),
        CheckConstraint(_in("drop_point", DROP_POINTS), name="drop_point"),
        CheckConstraint(f"NOT ({_in('status', CLAIMED_STATUSES)}) OR claimed_by_id IS NOT NULL", name="claimant"),
        CheckConstraint("preferred_until IS NULL OR preferred_from IS NULL OR preferred_until > preferred_from",
                        name="window"),
        CheckConstraint("cost_cents IS NULL OR cost_cents >= 0", name="cost"),
        CheckConstraint("urgency >= 0", name="urgency"),
        Index("ix_delivery_requests_queue", "compound_id", "status", "urgency", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id", ondelete="CASCADE"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"), index=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    budget_note: Mapped[str] = mapped_column(String(100), default="")
    preferred_from: Mapped[datetime | None]
    preferred_until: Mapped[datetime | None]
    drop_point: Mapped[str] = mapped_column(String(16), default="door")
    contactless: Mapped[bool] = mapped_column(Boolean, default=True)
    for_elderly: Mapped[bool] = mapped_column(Boolean, default=False)
    for_infant: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_medicine: Mapped[bool] = mapped_column(Boolean, default=False)
    # Derived from the tags at creation so the queue can be ordered by an index.
    urgency: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(String(200), default="")
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    claimed_at: Mapped[datetime | None]
    purchasing_at: Mapped[datetime | None]
    dispatched_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None] = mapped_column(index=True)
    confirmed_at: Mapped[datetime | None]
    auto_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    closed_at: Mapped[datetime | None]
    close_reason: Mapped[str] = mapped_column(String(200), default="")
    cost_cents: Mapped[int | None] = mapped_column(Integer)
    cost_note: Mapped[str] = mapped_column(String(100), default="")

    items: Mapped[list[DeliveryItem]] = relationship(
        back_populates="request", order_by="DeliveryItem.position", cascade="all, delete-orphan")


class DeliveryItem(Base):
    """One line of a request, and what the runner found in the shop (bought, out of stock, replaced)."""

    __tablename__ = "delivery_items"
    __table_args__ = (
        UniqueConstraint("request_id", "position"),
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint(_in("outcome", ITEM_OUTCOMES), name="outcome"),
        CheckConstraint("outcome != 'substituted' OR substitute IS NOT NULL", name="substitute"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("delivery_requests.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(30))
    quantity: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(String(100), default="")
    outcome: Mapped[str] = mapped_column(String(16), default="pending")
    substitute: Mapped[str | None] = mapped_column(String(30))
    outcome_note: Mapped[str] = mapped_column(String(100), default="")

    request: Mapped[DeliveryRequest] = relationship(back_populates="items")


class DeliveryEvent(Base):
    """The history of a request: every change, who made it (none for the automatic confirmation)."""

    __tablename__ = "delivery_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("delivery_requests.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)


class DeliveryRating(CreatedAt, Base):
    """The resident's rating of a confirmed delivery: one per request."""

    __tablename__ = "delivery_ratings"
    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="score"),)

    request_id: Mapped[int] = mapped_column(ForeignKey("delivery_requests.id", ondelete="CASCADE"),
                                            primary_key=True)
    rated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(String(200), default="")


class DeliverySettings(Base):
    """Per-compound delivery settings staff choose: whether guards may claim and run requests."""

    __tablename__ = "delivery_settings"

    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id", ondelete="CASCADE"), primary_key=True)
    guards_may_run: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
