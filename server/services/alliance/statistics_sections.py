"""The core areas of the district statistics: organisation, gate traffic, health, delivery, roster.

Each `collect` is a few grouped queries over the whole scope (the hourly rollups for gate traffic
and fevers), read through `plumbing.replica.reads()`, a replica when one is configured; each `summarise` combines the figures of any group of compounds in Python, so the
same numbers come out on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from statistics import median

from sqlalchemy import func, select

from server.models.compounds import Gate, Household
from server.models.deliveries import OPEN_STATUSES, DeliveryRequest
from server.models.health import QuarantineOrder
from server.models.people import User
from server.models.rosters import Shift, ShiftAssignment
from server.models.statistics import CheckinHourly, CompoundPopulation, ReadingHourly, hour_of
from server.plumbing.replica import reads
from server.services.alliance.statistics_scope import Section, SectionData, StatsScope

# Deliveries delivered within this past give the median time to deliver.
DELIVERY_WINDOW = timedelta(days=7)


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _oldest(moments: list) -> str | None:
    if not moments or any(m is None for m in moments):
        return None
    return min(moments).isoformat()


def _sum(figures: list[dict], key: str) -> int:
    return sum(f.get(key, 0) for f in figures)


# -- organisation: companies, compounds, households, residents, staff, guards -------------------------------

def collect_organisation(scope: StatsScope) -> SectionData:
    """Per compound: residential, households registered and total, residents (as last counted), guards
    posted there; per company: its staff and guards."""
    registered = dict(reads().execute(
        select(Household.compound_id, func.count()).where(scope.covers(Household.compound_id))
        .group_by(Household.compound_id)).all())
    # Counted by the periodic job (`flask wuye population`): a live count of a district's residents is too slow.
    residents = {compound_id: (count, counted_at) for compound_id, count, counted_at in reads().execute(
        select(CompoundPopulation.compound_id, CompoundPopulation.residents, CompoundPopulation.counted_at)
        .where(scope.covers(CompoundPopulation.compound_id))).all()}
    posted = dict(reads().execute(
        select(User.compound_id, func.count()).where(User.role == "guard", User.is_active.is_(True),
                                                     scope.covers(User.compound_id))
        .group_by(User.compound_id)).all())
    by_compound = {
        c.id: {"residential": int(c.is_residential), "households_registered": registered.get(c.id, 0),
               "households_total": c.total_households, "residents": residents.get(c.id, (0, None))[0],
               "residents_counted_at": residents.get(c.id, (0, None))[1],
               "guards_posted": posted.get(c.id, 0)}
        for c in scope.compounds}
    by_company: dict[int, dict] = {k: {"staff": 0, "guards": 0} for k in scope.company_ids}
    if scope.company_ids:
        for company_id, role, count in reads().execute(
                select(User.company_id, User.role, func.count())
                .where(User.company_id.in_(scope.company_ids), User.role.in_(("staff", "guard")),
                       User.is_active.is_(True))
                .group_by(User.company_id, User.role)).all():
            by_company[company_id]["staff" if role == "staff" else "guards"] = count
    return SectionData(by_compound, by_company)


def summarise_organisation(compounds: list[dict], companies: list[dict] | None) -> dict:
    """Counts, and coverage = registered / total households over the compounds whose total is known."""
    known = [c for c in compounds if c.get("households_total") is not None]
    known_total = sum(c["households_total"] for c in known)
    return {
        "companies": len(companies) if companies is not None else None,
        "compounds": len(compounds),
        "residential_compounds": _sum(compounds, "residential"),
        "households_registered": _sum(compounds, "households_registered"),
        "households_total": known_total,
        "coverage": _ratio(_sum(known, "households_registered"), known_total),
        "compounds_without_total": len(compounds) - len(known),
        "residents": _sum(compounds, "residents"),
        # The oldest count in the group (None: a compound never counted yet).
        "residents_counted_at": _oldest([c.get("residents_counted_at") for c in compounds]),
        "staff": _sum(companies, "staff") if companies is not None else None,
        # A company's guards are its employees; a compound's are those posted there (maybe lent by another).
        "guards": _sum(companies, "guards") if companies is not None else _sum(compounds, "guards_posted"),
    }


# -- gate traffic today, from the hourly rollup -------------------------------------------------------------

def collect_gate(scope: StatsScope) -> SectionData:
    """Per compound: today's allowed and denied check-ins per local hour and per gate."""
    first, last = hour_of(scope.day_start), hour_of(scope.day_end)
    names = {gate_id: (compound_id, name) for gate_id, compound_id, name in reads().execute(
        select(Gate.id, Gate.compound_id, Gate.name).where(scope.covers(Gate.compound_id))).all()}
    by_compound: dict[int, dict] = {c: {"hours": defaultdict(lambda: [0, 0]), "gates": {}, "hours_in_day": last - first}
                                    for c in scope.compound_ids}
    for gate_id, compound_id, hour, allowed, denied in reads().execute(
            select(CheckinHourly.gate_id, CheckinHourly.compound_id, CheckinHourly.hour, CheckinHourly.allowed,
                   CheckinHourly.denied)
            .where(scope.covers(CheckinHourly.compound_id), CheckinHourly.hour >= first,
                   CheckinHourly.hour < last)).all():
        figures = by_compound.setdefault(compound_id, {"hours": defaultdict(lambda: [0, 0]), "gates": {},
                                                       "hours_in_day": last - first})
        figures["hours"][hour - first][0] += allowed
        figures["hours"][hour - first][1] += denied
        gate = figures["gates"].setdefault(gate_id, [names.get(gate_id, (compound_id, ""))[1], 0, 0])
        gate[1] += allowed
        gate[2] += denied
    for gate_id, (compound_id, name) in names.items():
        if compound_id in by_compound:
            by_compound[compound_id]["gates"].setdefault(gate_id, [name, 0, 0])
    return SectionData(by_compound)


def summarise_gate(compounds: list[dict], _companies: list[dict] | None) -> dict:
    """Today's check-ins, allowed and denied, per local hour (0 = local midnight) and per gate."""
    hours = max((c.get("hours_in_day", 24) for c in compounds), default=24)
    by_hour = [[0, 0] for _ in range(hours)]
    by_gate = []
    for figures in compounds:
        for index, (allowed, denied) in figures.get("hours", {}).items():
            by_hour[index][0] += allowed
            by_hour[index][1] += denied
        by_gate += [{"gate_id": gate_id, "name": name, "allowed": allowed, "denied": denied}
                    for gate_id, (name, allowed, denied) in figures.get("gates", {}).items()]
    allowed = sum(h[0] for h in by_hour)
    denied = sum(h[1] for h in by_hour)
    return {
        "checkins": allowed + denied, "allowed": allowed, "denied": denied,
        "by_hour": [{"hour": i, "allowed": a, "denied": d} for i, (a, d) in enumerate(by_hour)],
        "by_gate": sorted(by_gate, key=lambda g: g["gate_id"]),
    }


# -- health: today's readings and fevers (rollup), active quarantines ----------------------------------------

def collect_health(scope: StatsScope) -> SectionData:
    """Per compound: today's readings, high readings and confirmed fevers; quarantines in force now."""
    first, last = hour_of(scope.day_start), hour_of(scope.day_end)
    by_compound: dict[int, dict] = {c: {} for c in scope.compound_ids}
    for compound_id, readings, high, fever in reads().execute(
            select(ReadingHourly.compound_id, func.sum(ReadingHourly.readings), func.sum(ReadingHourly.high),
                   func.sum(ReadingHourly.fever))
            .where(scope.covers(ReadingHourly.compound_id), ReadingHourly.hour >= first, ReadingHourly.hour < last)
            .group_by(ReadingHourly.compound_id)).all():
        by_compound.setdefault(compound_id, {}).update(readings=int(readings), high=int(high), fever=int(fever))
    for compound_id, count in reads().execute(
            select(QuarantineOrder.compound_id, func.count())
            .where(scope.covers(QuarantineOrder.compound_id), QuarantineOrder.starts_at <= scope.now,
                   QuarantineOrder.ends_at > scope.now, QuarantineOrder.lifted_at.is_(None))
            .group_by(QuarantineOrder.compound_id)).all():
        by_compound.setdefault(compound_id, {})["active_quarantines"] = count
    return SectionData(by_compound)


def summarise_health(compounds: list[dict], _companies: list[dict] | None) -> dict:
    """Readings today, of which high (>= 37.3 °C) and confirmed fevers; active home quarantines."""
    return {"readings": _sum(compounds, "readings"), "high_readings": _sum(compounds, "high"),
            "fevers": _sum(compounds, "fever"), "active_quarantines": _sum(compounds, "active_quarantines")}


# -- delivery: open requests, median time to deliver ----------------------------------------------------------

def collect_delivery(scope: StatsScope) -> SectionData:
    """Per compound: open requests now, and minutes from request to delivery of those delivered lately."""
    by_compound: dict[int, dict] = {c: {"open": 0, "deliver_minutes": []} for c in scope.compound_ids}
    for compound_id, count in reads().execute(
            select(DeliveryRequest.compound_id, func.count())
            .where(scope.covers(DeliveryRequest.compound_id), DeliveryRequest.status.in_(OPEN_STATUSES))
            .group_by(DeliveryRequest.compound_id)).all():
        by_compound.setdefault(compound_id, {"deliver_minutes": []})["open"] = count
    for compound_id, created, delivered in reads().execute(
            select(DeliveryRequest.compound_id, DeliveryRequest.created_at, DeliveryRequest.delivered_at)
            .where(DeliveryRequest.delivered_at >= scope.now - DELIVERY_WINDOW,
                   DeliveryRequest.delivered_at <= scope.now, scope.covers(DeliveryRequest.compound_id))).all():
        by_compound.setdefault(compound_id, {"open": 0, "deliver_minutes": []})["deliver_minutes"].append(
            (delivered - created).total_seconds() / 60)
    return SectionData(by_compound)


def summarise_delivery(compounds: list[dict], _companies: list[dict] | None) -> dict:
    """Open requests, requests delivered in the last 7 days and their median minutes to deliver."""
    minutes = [m for c in compounds for m in c.get("deliver_minutes", [])]
    return {"open_deliveries": _sum(compounds, "open"), "delivered_last_7_days": len(minutes),
            "median_minutes_to_deliver": round(median(minutes), 1) if minutes else None}


# -- roster: today's shifts filled against required ------------------------------------------------------------

def collect_roster(scope: StatsScope) -> SectionData:
    """Per compound: guard places today's open shifts need, and how many are filled (at most the need)."""
    by_compound: dict[int, dict] = {c: {"shifts": 0, "required": 0, "filled": 0} for c in scope.compound_ids}
    assigned = (select(ShiftAssignment.shift_id, func.count().label("n")).group_by(ShiftAssignment.shift_id)
                .where(scope.covers(ShiftAssignment.compound_id), ShiftAssignment.starts_at >= scope.day_start,
                       ShiftAssignment.starts_at < scope.day_end).subquery())
    for compound_id, needed, filled in reads().execute(
            select(Shift.compound_id, Shift.guards_needed, func.coalesce(assigned.c.n, 0))
            .outerjoin(assigned, assigned.c.shift_id == Shift.id)
            .where(scope.covers(Shift.compound_id), Shift.status == "open", Shift.starts_at >= scope.day_start,
                   Shift.starts_at < scope.day_end)).all():
        figures = by_compound.setdefault(compound_id, {"shifts": 0, "required": 0, "filled": 0})
        figures["shifts"] += 1
        figures["required"] += needed
        figures["filled"] += min(needed, filled)
    return SectionData(by_compound)


def summarise_roster(compounds: list[dict], _companies: list[dict] | None) -> dict:
    """Today's shifts, guard places required and filled, and the coverage rate."""
    required, filled = _sum(compounds, "required"), _sum(compounds, "filled")
    return {"shifts_today": _sum(compounds, "shifts"), "places_required": required, "places_filled": filled,
            "roster_coverage": _ratio(filled, required)}


CORE_SECTIONS = [
    Section("organisation", collect_organisation, summarise_organisation),
    Section("gate", collect_gate, summarise_gate),
    Section("health", collect_health, summarise_health),
    Section("delivery", collect_delivery, summarise_delivery),
    Section("roster", collect_roster, summarise_roster),
]
