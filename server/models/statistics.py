"""Hourly rollups behind the district statistics: counters, never personal rows.

An hour is an integer, the hours since 1970-01-01 UTC (`hour_of`): the same on SQLite and
PostgreSQL, with no text format of a timestamp to agree on. The counters are incremented in the
transaction that inserts the raw row (one upsert statement, `CHECKIN_COUNTER` and `READING_COUNTER`
per dialect) and can be rebuilt from the raw rows (`flask wuye rollup`). They outlive the raw rows'
retention on purpose: a count is not personal data. Residents per compound are counted by a
periodic job instead (`CompoundPopulation`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base

SECONDS_PER_HOUR = 3600


def hour_of(moment: datetime) -> int:
    """The hour bucket of an aware moment: whole hours since the Unix epoch (UTC)."""
    return int(moment.timestamp()) // SECONDS_PER_HOUR


class CheckinHourly(Base):
    """Check-ins of one gate in one hour, allowed and denied; of each, how many went out (the rest came in).

    `allowed_out` and `denied_out` are NULL for an hour counted before they existed, or by a writer that
    does not give them: NULL stays NULL when counted on, so the hour reads as not broken down by direction
    (the gate board reads that hour's raw rows) until a rebuild (`flask wuye rollup`) recounts it.
    """

    __tablename__ = "checkin_hourly"
    __table_args__ = (
        CheckConstraint("allowed >= 0 AND denied >= 0", name="counts"),
        Index("ix_checkin_hourly_compound_hour", "compound_id", "hour"),
    )

    gate_id: Mapped[int] = mapped_column(ForeignKey("gates.id", ondelete="CASCADE"), primary_key=True)
    hour: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id", ondelete="CASCADE"))
    allowed: Mapped[int] = mapped_column(Integer, default=0)
    denied: Mapped[int] = mapped_column(Integer, default=0)
    allowed_out: Mapped[int | None] = mapped_column(Integer)
    denied_out: Mapped[int | None] = mapped_column(Integer)


class ReadingHourly(Base):
    """Temperature readings of one compound in one hour: all, high (>= 37.3 °C), confirmed fevers."""

    __tablename__ = "reading_hourly"
    __table_args__ = (CheckConstraint("readings >= 0 AND high >= 0 AND fever >= 0", name="counts"),)

    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id", ondelete="CASCADE"), primary_key=True)
    hour: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    readings: Mapped[int] = mapped_column(Integer, default=0)
    high: Mapped[int] = mapped_column(Integer, default=0)
    fever: Mapped[int] = mapped_column(Integer, default=0)


class CompoundPopulation(Base):
    """A compound's approved residents, as last counted by `flask wuye population` (or `rollup`).

    Counting half a million residents across a district's households takes longer than a statistics
    answer may (500 ms), and the number moves slowly: a periodic job counts, the answers read.
    """

    __tablename__ = "compound_population"
    __table_args__ = (CheckConstraint("residents >= 0", name="residents"),)

    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id", ondelete="CASCADE"), primary_key=True)
    residents: Mapped[int] = mapped_column(Integer, default=0)
    counted_at: Mapped[datetime]


def _counter(model: type[Base], keys: tuple[str, ...], counts: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict:
    """INSERT ... ON CONFLICT (keys) DO UPDATE SET n = n + excluded.n, per dialect, with bind parameters
    (an `optional` count not given is NULL, and a NULL count stays NULL)."""
    table = model.__table__
    statements = {}
    counts = (*counts, *optional)
    for name, dialect_insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert)):
        statement = dialect_insert(table).values({**{c: bindparam(c) for c in (*keys, *counts)},
                                                  **{c: bindparam(c, value=None) for c in optional}})
        primary = [c.name for c in table.primary_key.columns]
        statements[name] = statement.on_conflict_do_update(
            index_elements=primary, set_={c: table.c[c] + statement.excluded[c] for c in counts})
    return statements


# Parameters: gate_id, hour, compound_id, allowed, denied, and optionally allowed_out, denied_out (0 or 1).
CHECKIN_COUNTER = _counter(CheckinHourly, ("gate_id", "hour", "compound_id"), ("allowed", "denied"),
                           ("allowed_out", "denied_out"))
# Parameters: compound_id, hour, readings, high, fever.
READING_COUNTER = _counter(ReadingHourly, ("compound_id", "hour"), ("readings", "high", "fever"))
