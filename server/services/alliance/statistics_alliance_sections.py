"""The alliance's own areas of the district statistics: emergency incidents and supplies on hand.

They plug into `statistics.EXTRA_SECTIONS` (wired by create_app), like the core areas: aggregates
only (counts, minutes, quantities), never a person.
"""

from __future__ import annotations

from datetime import timedelta
from statistics import median

from sqlalchemy import select

from server.models.incidents import Incident
from server.models.supplies import SupplyItem, SupplyStock
from server.plumbing.replica import reads
from server.services.alliance.statistics_scope import Section, SectionData, StatsScope

# Incidents raised within this past are counted, with their response times.
INCIDENT_WINDOW = timedelta(days=30)


def _minutes(start, end) -> float | None:
    return None if end is None else (end - start).total_seconds() / 60


def _median(values: list[float]) -> float | None:
    return round(median(values), 1) if values else None


def collect_incidents(scope: StatsScope) -> SectionData:
    """Per compound: incidents raised there lately, open now, and minutes to first arrival and to all
    needs met (with whether the first arrival was within the incident's target)."""
    def empty() -> dict:
        return {"raised": 0, "open": 0, "first_arrival": [], "needs_met": [], "within_target": 0}

    by_compound: dict[int, dict] = {c: empty() for c in scope.compound_ids}
    rows = reads().execute(
        select(Incident.compound_id, Incident.status, Incident.raised_at, Incident.first_arrival_at,
               Incident.needs_met_at, Incident.target_minutes)
        .where(scope.covers(Incident.compound_id), Incident.raised_at >= scope.now - INCIDENT_WINDOW,
               Incident.raised_at <= scope.now)).all()
    for compound_id, status, raised, first, met, target in rows:
        figures = by_compound.setdefault(compound_id, empty())
        figures["raised"] += 1
        figures["open"] += int(status == "open")
        arrival = _minutes(raised, first)
        if arrival is not None:
            figures["first_arrival"].append(arrival)
            figures["within_target"] += int(arrival <= target)
        needs = _minutes(raised, met)
        if needs is not None:
            figures["needs_met"].append(needs)
    return SectionData(by_compound)


def summarise_incidents(compounds: list[dict], _companies: list[dict] | None) -> dict:
    """Incidents of the last 30 days, open ones, median minutes to first arrival and to all needs met."""
    arrivals = [m for c in compounds for m in c.get("first_arrival", [])]
    needs = [m for c in compounds for m in c.get("needs_met", [])]
    return {"incidents_30_days": sum(c.get("raised", 0) for c in compounds),
            "open_incidents": sum(c.get("open", 0) for c in compounds),
            "median_minutes_to_first_arrival": _median(arrivals),
            "median_minutes_to_needs_met": _median(needs),
            "arrived_within_target": sum(c.get("within_target", 0) for c in compounds)}


def collect_supplies(scope: StatsScope) -> SectionData:
    """Per compound and per company warehouse: quantity on hand of each item (by item code), and how
    many stocks are below their low-stock threshold."""
    by_compound: dict[int, dict] = {}
    by_company: dict[int, dict] = {}
    holders = (SupplyStock.compound_id.is_not(None) & scope.covers(SupplyStock.compound_id))
    if scope.company_ids:
        holders = holders | SupplyStock.company_id.in_(scope.company_ids)
    for compound_id, company_id, code, quantity, threshold in reads().execute(
            select(SupplyStock.compound_id, SupplyStock.company_id, SupplyItem.code, SupplyStock.quantity,
                   SupplyStock.low_threshold)
            .join(SupplyItem, SupplyItem.id == SupplyStock.item_id).where(holders)).all():
        place = by_compound.setdefault(compound_id, {}) if compound_id is not None \
            else by_company.setdefault(company_id, {})
        place.setdefault("on_hand", {})[code] = place.get("on_hand", {}).get(code, 0) + quantity
        place["low"] = place.get("low", 0) + int(threshold is not None and quantity < threshold)
    return SectionData(by_compound, by_company)


def summarise_supplies(compounds: list[dict], companies: list[dict] | None) -> dict:
    """Items on hand at the group's compounds and, for a whole company or scope, its warehouses."""
    on_hand: dict[str, int] = {}
    places = [*compounds, *(companies or [])]
    for place in places:
        for code, quantity in place.get("on_hand", {}).items():
            on_hand[code] = on_hand.get(code, 0) + quantity
    return {"stocks_below_threshold": sum(p.get("low", 0) for p in places),
            "masks_on_hand": on_hand.get("masks", 0), "on_hand": dict(sorted(on_hand.items()))}


ALLIANCE_SECTIONS = [
    Section("incidents", collect_incidents, summarise_incidents),
    Section("supplies", collect_supplies, summarise_supplies),
]
