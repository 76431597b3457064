"""The scope of a district statistics answer, and the shape of a section of it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import ColumnElement, select

from server.models.compounds import Compound
from server.plumbing.clock import local_day_bounds


@dataclass(frozen=True)
class CompoundInfo:
    """What a section needs to know of a compound of the scope."""

    id: int
    name: str
    company_id: int | None
    is_residential: bool
    total_households: int | None


@dataclass
class StatsScope:
    """The compounds and companies one statistics answer covers, and its local 'today'."""

    level: str
    id: int
    name: str
    alliance_id: int
    timezone: str
    compounds: list[CompoundInfo]
    company_ids: list[int]
    company_names: dict[int, str]
    now: datetime
    day: date
    day_start: datetime = field(init=False)
    day_end: datetime = field(init=False)

    def __post_init__(self) -> None:
        self.day_start, self.day_end = local_day_bounds(self.timezone, self.day)

    @property
    def compound_ids(self) -> list[int]:
        """The ids of the scope's compounds."""
        return [c.id for c in self.compounds]

    def covers(self, column) -> ColumnElement[bool]:
        """A SQL condition: the compound-id column is one of the scope's compounds."""
        if self.level == "alliance":
            return column.in_(select(Compound.id).where(Compound.alliance_id == self.alliance_id))
        return column.in_(self.compound_ids)


@dataclass(frozen=True)
class SectionData:
    """One section's figures for a scope: per compound id and per company id (plain, summable values)."""

    by_compound: dict[int, dict]
    by_company: dict[int, dict] = field(default_factory=dict)


@dataclass(frozen=True)
class Section:
    """An area of the statistics: collect once per scope, summarise per group of compounds.

    `summarise(compound_figures, company_figures)` gets the figures of a group's compounds and, when
    the group is a whole company or the scope, of its companies (None for a single compound's row).
    """

    name: str
    collect: Callable[[StatsScope], SectionData]
    summarise: Callable[[list[dict], list[dict] | None], dict]
