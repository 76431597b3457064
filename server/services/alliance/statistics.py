"""District statistics (区级统计) for the alliance, a company or a compound: aggregates only.

The second seed reads a district by its figures (220 projects, 182 residential, ~208,000
households, 61% coverage, 134 companies, 7,850 workers); this module answers them for any scope,
with today's gate traffic, fevers, quarantines, deliveries and roster coverage.

Each area is a `Section`: `collect(scope)` runs a few grouped queries once for the whole scope and
answers figures per compound and per company; `summarise(compound_figures, company_figures)`
combines any group of them (the scope's totals, one company's row, one compound's row). So an
answer costs a handful of queries however many companies it breaks down, and gate traffic and
fevers are read from the hourly rollups (`models.statistics`), never from raw check-ins.

The areas other domains own (incidents with their response times, supplies on hand) plug in as
sections too: create_app sets `EXTRA_SECTIONS` (see `_wire_domains`), never an import side effect.
No answer holds a person: counts, rates, and the names of companies, compounds and gates only.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import select

from server.errors import NotFoundError
from server.extensions import db
from server.models.alliance import Alliance
from server.models.companies import Company
from server.models.compounds import Compound
from server.models.people import User
from server.plumbing.clock import local_today, utcnow
from server.scope import get_compound
from server.services.alliance.statistics_scope import CompoundInfo, Section, StatsScope
from server.services.alliance.statistics_sections import CORE_SECTIONS

LEVELS = ("alliance", "company", "compound")


# Set by create_app: incidents (response times) and supplies (on hand) add theirs here.
EXTRA_SECTIONS: list[Section] = []


def sections() -> list[Section]:
    """Every section of an answer, core areas first."""
    return [*CORE_SECTIONS, *EXTRA_SECTIONS]


def _compounds(condition) -> list[CompoundInfo]:
    rows = db.session.execute(
        select(Compound.id, Compound.name, Compound.company_id, Compound.is_residential, Compound.total_households)
        .where(condition).order_by(Compound.id)).all()
    return [CompoundInfo(*row) for row in rows]


def _company_names(condition) -> dict[int, str]:
    return dict(db.session.execute(select(Company.id, Company.name).where(condition).order_by(Company.id)).all())


def resolve_scope(viewer: User, level: str, object_id: int | None = None, now: datetime | None = None) -> StatsScope:
    """The scope of an answer the viewer may read; 404 for anything outside the viewer's scope.

    The alliance is the alliance admin's; a company is any of the alliance's for its admin and
    their own for staff; a compound is one in the viewer's scope (`scope.get_compound`).
    """
    now = now or utcnow()
    if level == "alliance":
        if viewer.role != "alliance_admin":
            raise NotFoundError("not_found")
        alliance = db.session.get(Alliance, viewer.alliance_id)
        tz = current_app.config["DEFAULT_TIMEZONE"]
        names = _company_names(Company.alliance_id == alliance.id)
        return StatsScope("alliance", alliance.id, alliance.name, alliance.id, tz,
                          _compounds(Compound.alliance_id == alliance.id), list(names), names, now,
                          local_today(tz, now))
    if level == "company":
        company = db.session.get(Company, object_id) if object_id is not None else None
        allowed = company is not None and company.alliance_id == viewer.alliance_id and (
            viewer.role == "alliance_admin" or (viewer.role == "staff" and viewer.company_id == company.id))
        if not allowed:
            raise NotFoundError("not_found")
        tz = current_app.config["DEFAULT_TIMEZONE"]
        return StatsScope("company", company.id, company.name, company.alliance_id, tz,
                          _compounds(Compound.company_id == company.id), [company.id], {company.id: company.name},
                          now, local_today(tz, now))
    if level == "compound":
        compound = get_compound(viewer, object_id)
        names = _company_names(Company.id == compound.company_id) if compound.company_id else {}
        return StatsScope("compound", compound.id, compound.name, compound.alliance_id, compound.timezone,
                          _compounds(Compound.id == compound.id), list(names), names, now,
                          local_today(compound.timezone, now))
    raise NotFoundError("not_found")


def _headline(summary: dict) -> dict:
    """A breakdown row keeps the scalar figures of each section (no hourly or per-gate lists)."""
    return {key: value for key, value in summary.items() if not isinstance(value, list | dict)}


def district_statistics(scope: StatsScope) -> dict:
    """The statistics answer of a scope: totals per section, and a row per company (alliance) or compound."""
    data = [(section, section.collect(scope)) for section in sections()]
    compound_ids = scope.compound_ids

    def summary(ids: list[int], companies: list[int] | None, brief: bool) -> dict:
        out = {}
        for section, figures in data:
            company_figures = None if companies is None else [figures.by_company.get(k, {}) for k in companies]
            result = section.summarise([figures.by_compound.get(i, {}) for i in ids], company_figures)
            out[section.name] = _headline(result) if brief else result
        return out

    answer = {
        "scope": {"level": scope.level, "id": scope.id, "name": scope.name},
        "as_of": scope.now.isoformat(), "day": scope.day.isoformat(), "timezone": scope.timezone,
        **summary(compound_ids, scope.company_ids, brief=False),
    }
    if scope.level == "alliance":
        by_company: dict[int | None, list[int]] = {k: [] for k in scope.company_ids}
        for compound in scope.compounds:
            by_company.setdefault(compound.company_id, []).append(compound.id)
        answer["companies"] = [
            {"id": k, "name": scope.company_names.get(k), **summary(ids, [k] if k is not None else None, brief=True)}
            for k, ids in sorted(by_company.items(), key=lambda item: (item[0] is None, item[0] or 0))]
    if scope.level == "company":
        answer["compounds"] = [{"id": c.id, "name": c.name, **summary([c.id], None, brief=True)}
                               for c in scope.compounds]
    return answer
