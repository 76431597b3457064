"""Gate check-ins (出入登记), visitors (访客) and the keys that sign personal passes (通行码)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, CreatedAt
from server.plumbing.clock import utcnow

DIRECTIONS = ("in", "out")
METHODS = ("guard_scan", "self_scan", "manual")
DECISIONS = ("allowed", "denied")
VISITOR_KINDS = ("pre_registered", "walk_in")
VISITOR_STATUSES = ("expected", "inside", "left", "cancelled")


class PassSigningKey(CreatedAt, Base):
    """An Ed25519 key that signs personal passes; the rows are the truth every process and host shares.

    A key signs from `activates_at` until a newer key activates; its public half is published
    until `retire_at` (after every code it signed has expired). The private half is encrypted
    with a key derived from SECRET_KEY.
    """

    __tablename__ = "pass_signing_keys"
    __table_args__ = (CheckConstraint("kid >= 0 AND kid <= 65535", name="kid_range"),)

    kid: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    private_key_encrypted: Mapped[str] = mapped_column(Text)
    activates_at: Mapped[datetime]
    retire_at: Mapped[datetime | None]


class Visitor(Base):
    """访客: pre-registered by a resident (one-day visitor pass) or a walk-in registered by a guard."""

    __tablename__ = "visitors"
    __table_args__ = (
        CheckConstraint("kind IN ('pre_registered', 'walk_in')", name="kind"),
        CheckConstraint("status IN ('expected', 'inside', 'left', 'cancelled')", name="status"),
        CheckConstraint("lawful_basis IN ('consent', 'public_health_emergency')", name="lawful_basis"),
        UniqueConstraint("registered_by_id", "client_id"),
        Index("ix_visitors_compound_status", "compound_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id", ondelete="CASCADE"))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id", ondelete="SET NULL"), index=True)
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20), default="")
    expected_date: Mapped[date] = mapped_column(Date)
    from_city: Mapped[str] = mapped_column(String(50), default="")
    purpose: Mapped[str] = mapped_column(String(200), default="")
    # Cities visited in the last 14 days, as the visitor declared them to the guard.
    travel_cities: Mapped[list] = mapped_column(JSON, default=list)
    returnee: Mapped[bool] = mapped_column(Boolean, default=False)
    pass_code: Mapped[str | None] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="expected")
    lawful_basis: Mapped[str] = mapped_column(String(32), default="consent")
    client_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    arrived_at: Mapped[datetime | None]
    left_at: Mapped[datetime | None]


CHECKIN_LAWFUL_BASES = ("consent", "public_health_emergency", "necessary_for_entry")


class CheckIn(Base):
    """One attempt at a gate, allowed or denied: who, which way, how, what was decided and why.

    `lawful_basis` is what the row is kept on (PIPL art. 13):

    - ``public_health_emergency``: the compound declared one (art. 13(4));
    - ``consent``: the resident's consent to health processing is in force, or a visitor or a
      person recorded by name consented in person to the guard (art. 13(1));
    - ``necessary_for_entry``: neither; the record of entering or leaving a gated compound is
      necessary for the property service the person is party to (art. 13(2)). Such a row never
      holds a temperature (it is refused by the database): the gate still decides on the reading,
      which is then forgotten, and the row is flagged ``temperature_not_recorded``.
    """

    __tablename__ = "checkins"
    __table_args__ = (
        CheckConstraint("direction IN ('in', 'out')", name="direction"),
        CheckConstraint("method IN ('guard_scan', 'self_scan', 'manual')", name="method"),
        CheckConstraint("decision IN ('allowed', 'denied')", name="decision"),
        CheckConstraint("lawful_basis IN ('consent', 'public_health_emergency', 'necessary_for_entry')",
                        name="lawful_basis"),
        # Without consent or an emergency no temperature is kept.
        CheckConstraint("lawful_basis <> 'necessary_for_entry' OR temperature IS NULL",
                        name="temperature_needs_basis"),
        CheckConstraint("temperature IS NULL OR (temperature >= 34.0 AND temperature <= 43.0)", name="temperature"),
        # A device retry is recognised by (author, client id): the database settles races.
        UniqueConstraint("author_id", "client_id"),
        Index("ix_checkins_gate_time", "gate_id", "occurred_at"),
        Index("ix_checkins_compound_time", "compound_id", "occurred_at"),
        Index("ix_checkins_subject_time", "subject_user_id", "occurred_at"),
        # The retention purge takes the oldest rows first; server time only grows, so entries append.
        Index("ix_checkins_server_time", "server_time"),
        # Partial: most check-ins are residents', and a NULL key would still cost an index entry.
        Index("ix_checkins_visitor_time", "visitor_id", "occurred_at",
              sqlite_where=text("visitor_id IS NOT NULL"), postgresql_where=text("visitor_id IS NOT NULL")),
        # An index rather than a constraint: SQLite adds it without rebuilding the table.
        Index("ux_checkins_first_pass_sighting", "first_pass_nonce", "pass_issued_at", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id", ondelete="CASCADE"))
    gate_id: Mapped[int] = mapped_column(ForeignKey("gates.id", ondelete="CASCADE"))
    subject_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id", ondelete="SET NULL"))
    visitor_id: Mapped[int | None] = mapped_column(ForeignKey("visitors.id", ondelete="CASCADE"))
    # A person without a phone, recorded by name by the guard (manual check-in).
    person_name: Mapped[str] = mapped_column(String(50), default="")
    direction: Mapped[str] = mapped_column(String(4))
    method: Mapped[str] = mapped_column(String(16))
    decision: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(32))
    flags: Mapped[list] = mapped_column(JSON, default=list)
    temperature: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    note: Mapped[str] = mapped_column(Text, default="")
    guard_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64))
    # The personal pass's id (hex: a random nonce and the masked user id); seen in two scans, it is flagged.
    pass_nonce: Mapped[str | None] = mapped_column(String(16))
    # When the scanned pass was issued: with the pass id it names one code (a 4-byte nonce alone repeats
    # for one person over the months a row is kept).
    pass_issued_at: Mapped[datetime | None]
    # The pass id on the first check-in that saw this code, NULL on any later one: unique with the issue
    # time, so that of two scans of one code at the same moment (a forwarded screenshot at two gates)
    # exactly one is first and the other is flagged `pass_reused`.
    first_pass_nonce: Mapped[str | None] = mapped_column(String(16))
    device_time: Mapped[datetime | None]
    server_time: Mapped[datetime] = mapped_column(default=utcnow)
    # When the person passed: the server time, or for an offline scan uploaded later its device time.
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    lawful_basis: Mapped[str] = mapped_column(String(32))
    # The answer given to the device, replayed as is for a retry of the same client id.
    reply: Mapped[dict] = mapped_column(JSON, default=dict)
    # Queued on the guard's device and uploaded later (`checkin_sync`): its time is the device's word.
    offline: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class StrangerScanCount(Base):
    """Self scans at a gate by people with no tie to its compound, counted per UTC hour instead of stored.

    Anyone with WeChat can scan the public poster; their attempts are noise staff may want to see, not
    records of the compound (nothing is kept of who they were).
    """

    __tablename__ = "stranger_scan_counts"
    __table_args__ = (UniqueConstraint("gate_id", "hour_start"), CheckConstraint("scans >= 1", name="scans"),
                      Index("ix_stranger_scan_counts_compound_hour", "compound_id", "hour_start"))

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id", ondelete="CASCADE"))
    gate_id: Mapped[int] = mapped_column(ForeignKey("gates.id", ondelete="CASCADE"))
    hour_start: Mapped[datetime]
    scans: Mapped[int] = mapped_column(Integer, default=1)
    last_at: Mapped[datetime] = mapped_column(default=utcnow)

