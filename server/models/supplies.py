"""The supplies ledger (防疫物资): a catalogue of items, stock per holder, every change an entry.

A holder is a company (its warehouse) or a compound: exactly one of `company_id` and `compound_id`
is set. Stock moves only through entries (receipt, use, transfer out/in/return, adjustment), and the
stock row is changed in the same transaction as its entry, so the ledger always says where each item
went. The database refuses negative stock.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base
from server.plumbing.clock import utcnow

ENTRY_KINDS = ("receipt", "use", "transfer_out", "transfer_in", "transfer_return", "adjustment")
TRANSFER_STATUSES = ("offered", "accepted", "received", "declined", "cancelled")
TRANSFER_KINDS = ("transfer", "move")
ONE_HOLDER = "(company_id IS NULL) != (compound_id IS NULL)"


class SupplyItem(Base):
    """An item of the alliance's catalogue (masks, disinfectant ...), counted in whole units."""

    __tablename__ = "supply_items"
    __table_args__ = (UniqueConstraint("alliance_id", "code"), UniqueConstraint("alliance_id", "name"))

    id: Mapped[int] = mapped_column(primary_key=True)
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliances.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(50))
    unit: Mapped[str] = mapped_column(String(16))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SupplyStock(Base):
    """What one holder has of one item now, and the low-stock threshold its staff set."""

    __tablename__ = "supply_stocks"
    __table_args__ = (
        UniqueConstraint("item_id", "company_id"),
        UniqueConstraint("item_id", "compound_id"),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        CheckConstraint(ONE_HOLDER, name="one_holder"),
        CheckConstraint("low_threshold IS NULL OR low_threshold >= 0", name="threshold_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliances.id", ondelete="CASCADE"), index=True)
    # Looked up by (item, holder): the two unique keys serve as its indexes.
    item_id: Mapped[int] = mapped_column(ForeignKey("supply_items.id", ondelete="RESTRICT"))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="RESTRICT"), index=True)
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compounds.id", ondelete="RESTRICT"), index=True)
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    low_threshold: Mapped[int | None] = mapped_column(Integer)
    # How many times the quantity fell below the threshold: one alert per crossing (its dedupe key).
    low_crossings: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SupplyTransfer(Base):
    """Items sent from one holder to another: between companies offered -> accepted -> received (or
    declined / cancelled); a move inside the caller's own holders is received at once."""

    __tablename__ = "supply_transfers"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("status IN ('offered', 'accepted', 'received', 'declined', 'cancelled')", name="status"),
        CheckConstraint("kind IN ('transfer', 'move')", name="kind"),
        CheckConstraint("(from_company_id IS NULL) != (from_compound_id IS NULL)", name="one_giver"),
        CheckConstraint("(to_company_id IS NULL) != (to_compound_id IS NULL)", name="one_receiver"),
        UniqueConstraint("offered_by_id", "client_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliances.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("supply_items.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(8), default="transfer")
    quantity: Mapped[int] = mapped_column(Integer)
    from_company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="RESTRICT"), index=True)
    from_compound_id: Mapped[int | None] = mapped_column(ForeignKey("compounds.id", ondelete="RESTRICT"), index=True)
    to_company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="RESTRICT"), index=True)
    to_compound_id: Mapped[int | None] = mapped_column(ForeignKey("compounds.id", ondelete="RESTRICT"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="offered", index=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    offered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    offered_at: Mapped[datetime] = mapped_column(default=utcnow)
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    accepted_at: Mapped[datetime | None]
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    received_at: Mapped[datetime | None]
    # Declined by the receiver or cancelled by the giver: who, when and why.
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None]
    close_reason: Mapped[str] = mapped_column(String(200), default="")
    # A retried offer or move (same client id from the same person) is answered from the stored one.
    client_id: Mapped[str | None] = mapped_column(String(64))
    fingerprint: Mapped[str | None] = mapped_column(String(64))


class SupplyEntry(Base):
    """One change of one holder's stock of one item, with the balance right after it."""

    __tablename__ = "supply_entries"
    __table_args__ = (
        CheckConstraint("kind IN ('receipt', 'use', 'transfer_out', 'transfer_in', 'transfer_return', "
                        "'adjustment')", name="kind"),
        CheckConstraint(ONE_HOLDER, name="one_holder"),
        CheckConstraint("quantity != 0", name="quantity_not_zero"),
        CheckConstraint("kind NOT IN ('receipt', 'transfer_in', 'transfer_return') OR quantity > 0", name="inflow"),
        CheckConstraint("kind NOT IN ('use', 'transfer_out') OR quantity < 0", name="outflow"),
        CheckConstraint("balance_after >= 0", name="balance_not_negative"),
        CheckConstraint("kind != 'adjustment' OR reason != ''", name="adjustment_reason"),
        CheckConstraint("kind NOT IN ('transfer_out', 'transfer_in', 'transfer_return') OR transfer_id IS NOT NULL",
                        name="transfer_reference"),
        UniqueConstraint("actor_id", "client_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliances.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("supply_items.id", ondelete="RESTRICT"), index=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="RESTRICT"), index=True)
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compounds.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    # Signed: positive in, negative out.
    quantity: Mapped[int] = mapped_column(Integer)
    balance_after: Mapped[int] = mapped_column(Integer)
    transfer_id: Mapped[int | None] = mapped_column(ForeignKey("supply_transfers.id", ondelete="RESTRICT"),
                                                    index=True)
    # Where a receipt came from (a supplier, the street office, a donor).
    source: Mapped[str] = mapped_column(String(100), default="")
    reason: Mapped[str] = mapped_column(String(200), default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A retried receipt, use or adjustment (same client id from the same person) is recorded once.
    client_id: Mapped[str | None] = mapped_column(String(64))
    fingerprint: Mapped[str | None] = mapped_column(String(64))
