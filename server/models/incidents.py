"""Emergency mutual aid (应急互助) and the reward and penalty record (奖惩体系) of each company.

An incident is raised at a compound with its needs (lines of an item and a quantity, ``people``
included); companies pledge people and equipment, and each pledge moves pledged -> departed ->
arrived (or cancelled). Each person pledged holds a booking of their time (``IncidentResponder``)
that the database keeps from overlapping another booking of the same person (an EXCLUDE constraint
on PostgreSQL, as ``shift_assignments`` does), and that the roster treats as a shift.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    DDL,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base
from server.plumbing.clock import utcnow

INCIDENT_KINDS = ("flood", "outbreak", "fire", "power_cut", "water_cut", "other")
INCIDENT_STATUSES = ("open", "closed")
PLEDGE_STATUSES = ("pledged", "departed", "arrived", "cancelled")
RECORD_ENTRY_KINDS = ("commendation", "criticism", "note")
PEOPLE = "people"  # the need line filled by the people pledged, not by equipment
DEFAULT_TARGET_MINUTES = 10  # the seed's flood: a team with pumps on site within 10 minutes
MAX_QUANTITY = 100_000


class Incident(Base):
    """An emergency at a compound (flood, outbreak...), its dispatch clock and its closing summary."""

    __tablename__ = "incidents"
    __table_args__ = (
        CheckConstraint("kind IN ('flood', 'outbreak', 'fire', 'power_cut', 'water_cut', 'other')", name="kind"),
        CheckConstraint("status IN ('open', 'closed')", name="status"),
        CheckConstraint("target_minutes BETWEEN 1 AND 1440", name="target_minutes"),
        CheckConstraint("status != 'closed' OR closed_at IS NOT NULL", name="closed_has_time"),
        Index("ix_incidents_alliance_raised", "alliance_id", "raised_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliances.id", ondelete="CASCADE"))
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    place: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(1000), default="")
    status: Mapped[str] = mapped_column(String(16), default="open")
    target_minutes: Mapped[int] = mapped_column(Integer, default=DEFAULT_TARGET_MINUTES)
    raised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The dispatch clock: set once, by the arrival that first reaches the compound / meets every need.
    first_arrival_at: Mapped[datetime | None]
    needs_met_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    summary: Mapped[str] = mapped_column(String(2000), default="")


class IncidentNeed(Base):
    """A line of what the incident needs: an item code (people, pump, masks...) and a quantity."""

    __tablename__ = "incident_needs"
    __table_args__ = (
        UniqueConstraint("incident_id", "item"),
        CheckConstraint(f"quantity BETWEEN 1 AND {MAX_QUANTITY}", name="quantity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    item: Mapped[str] = mapped_column(String(32))
    quantity: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(200), default="")


class IncidentPledge(Base):
    """A company's promise of people and equipment to an incident, tracked until it arrives."""

    __tablename__ = "incident_pledges"
    __table_args__ = (
        CheckConstraint("status IN ('pledged', 'departed', 'arrived', 'cancelled')", name="status"),
        CheckConstraint("status NOT IN ('departed', 'arrived') OR departed_at IS NOT NULL", name="departed_has_time"),
        CheckConstraint("status != 'arrived' OR arrived_at IS NOT NULL", name="arrived_has_time"),
        CheckConstraint("status != 'cancelled' OR cancelled_at IS NOT NULL", name="cancelled_has_time"),
        CheckConstraint("duty_ends_at > pledged_at", name="duty_ends_after_pledge"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    pledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="pledged")
    note: Mapped[str] = mapped_column(String(200), default="")
    pledged_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Until when the people pledged are on the incident (their roster booking ends then, or at closing).
    duty_ends_at: Mapped[datetime]
    departed_at: Mapped[datetime | None]
    arrived_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]


class IncidentPledgeItem(Base):
    """Equipment in a pledge: an item of the incident's needs and how many."""

    __tablename__ = "incident_pledge_items"
    __table_args__ = (
        UniqueConstraint("pledge_id", "item"),
        CheckConstraint(f"quantity BETWEEN 1 AND {MAX_QUANTITY}", name="quantity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("incident_pledges.id", ondelete="CASCADE"), index=True)
    item: Mapped[str] = mapped_column(String(32))
    quantity: Mapped[int] = mapped_column(Integer)


class IncidentResponder(Base):
    """A person (guard or worker) in a pledge, booked from the pledge until it ends; inactive once cancelled."""

    __tablename__ = "incident_responders"
    __table_args__ = (
        UniqueConstraint("pledge_id", "user_id"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_incident_responders_user_starts", "user_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("incident_pledges.id", ondelete="CASCADE"), index=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    active: Mapped[bool] = mapped_column(Boolean, default=True)


# As for shift assignments: PostgreSQL refuses two overlapping live bookings of one person even under
# concurrent pledges; the services check first (and lock the person) so SQLite behaves alike.
RESPONDER_OVERLAP_DDL = ("ALTER TABLE incident_responders ADD CONSTRAINT ex_incident_responders_user_overlap "
                         "EXCLUDE USING gist (user_id WITH =, tstzrange(starts_at, ends_at) WITH &&) WHERE (active)")
event.listen(IncidentResponder.__table__, "before_create",
             DDL("CREATE EXTENSION IF NOT EXISTS btree_gist").execute_if(dialect="postgresql"))
event.listen(IncidentResponder.__table__, "after_create", DDL(RESPONDER_OVERLAP_DDL).execute_if(dialect="postgresql"))


class CompanyRecordEntry(Base):
    """A commendation, criticism or note the alliance admin adds to a company's record."""

    __tablename__ = "company_record_entries"
    __table_args__ = (
        CheckConstraint("kind IN ('commendation', 'criticism', 'note')", name="kind"),
        Index("ix_company_record_entries_company_created", "company_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliances.id", ondelete="CASCADE"), index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    remark: Mapped[str] = mapped_column(String(500))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
