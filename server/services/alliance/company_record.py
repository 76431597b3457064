"""The reward and penalty record (奖惩体系) of each company, from incidents, guard loans and the admin's entries.

Aggregates only (no names). For a company C:
  * help given: C's pledges to incidents at compounds C does not manage, not withdrawn (cancelled
    before departing): incidents, pledges, people and items arrived;
  * help received: incidents raised at C's compounds, other companies' pledges to them (not
    withdrawn) and how many arrived;
  * pledges (all of C's): kept (arrived), broken (cancelled after departing, or not arrived when the
    incident closed), withdrawn (cancelled before departing), pending (open incidents);
  * response: C's arrivals, mean seconds from pledge and from raising to arrival, arrivals within
    the incident's target;
  * loans: lent guard shifts served (C's accepted offers whose shift has ended) and their hours;
    shifts served at C's compounds by guards lent by others;
  * entries: the admin's commendations, criticisms and notes (their text to C and the admin only).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta

from sqlalchemy import select

from server.errors import NotFoundError, UnprocessableError
from server.extensions import db
from server.models.companies import Company
from server.models.compounds import Compound
from server.models.incidents import (
    CompanyRecordEntry,
    Incident,
    IncidentPledge,
    IncidentPledgeItem,
    IncidentResponder,
)
from server.models.people import User
from server.models.roster_lending import LoanOffer
from server.models.rosters import ShiftAssignment
from server.plumbing.clock import utcnow


def get_company(user: User, company_id: int) -> Company:
    """A company of the caller's alliance, or 404."""
    company = db.session.get(Company, company_id)
    if company is None or company.alliance_id != user.alliance_id:
        raise NotFoundError("not_found")
    return company


def _mean(values: list[float]) -> int | None:
    return round(sum(values) / len(values)) if values else None


def alliance_records(alliance_id: int, company_ids: list[int] | None = None) -> list[dict]:
    """The record of every company of the alliance (or of some), in company id order."""
    companies = db.session.scalars(select(Company).where(Company.alliance_id == alliance_id).order_by(Company.id)).all()
    if company_ids is not None:
        companies = [c for c in companies if c.id in company_ids]
    now = utcnow()
    compound_company = dict(db.session.execute(select(Compound.id, Compound.company_id).where(
        Compound.alliance_id == alliance_id)).all())
    incidents = {i.id: i for i in db.session.scalars(select(Incident).where(Incident.alliance_id == alliance_id))}
    pledges = db.session.scalars(select(IncidentPledge).where(IncidentPledge.incident_id.in_(list(incidents) or [-1]))).all()
    pledge_ids = [p.id for p in pledges] or [-1]
    people = Counter(db.session.scalars(select(IncidentResponder.pledge_id).where(
        IncidentResponder.pledge_id.in_(pledge_ids))))
    quantities: Counter = Counter()
    for pledge_id, quantity in db.session.execute(select(IncidentPledgeItem.pledge_id, IncidentPledgeItem.quantity)
                                                  .where(IncidentPledgeItem.pledge_id.in_(pledge_ids))):
        quantities[pledge_id] += quantity
    lent = defaultdict(list)  # lending company -> hours of ended lent shifts
    borrowed = Counter()  # compound -> ended lent shifts served there
    for company_id, compound_id, starts, ends in db.session.execute(
            select(LoanOffer.company_id, ShiftAssignment.compound_id, ShiftAssignment.starts_at, ShiftAssignment.ends_at)
            .join(LoanOffer, LoanOffer.id == ShiftAssignment.loan_offer_id)
            .where(ShiftAssignment.source == "loan", ShiftAssignment.ends_at <= now,
                   ShiftAssignment.compound_id.in_(list(compound_company) or [-1]))):
        lent[company_id].append((ends - starts) / timedelta(hours=1))
        borrowed[compound_id] += 1
    entries = Counter(db.session.execute(select(CompanyRecordEntry.company_id, CompanyRecordEntry.kind).where(
        CompanyRecordEntry.alliance_id == alliance_id)).all())
    return [_record(c, incidents, pledges, compound_company, people, quantities, lent, borrowed, entries)
            for c in companies]


def _withdrawn(p: IncidentPledge) -> bool:
    return p.status == "cancelled" and p.departed_at is None


def _record(company, incidents, pledges, compound_company, people, quantities, lent, borrowed, entries) -> dict:
    cid = company.id
    own_compounds = {k for k, v in compound_company.items() if v == cid}
    mine = [p for p in pledges if p.company_id == cid]
    given = [p for p in mine if incidents[p.incident_id].compound_id not in own_compounds and not _withdrawn(p)]
    received_incidents = [i for i in incidents.values() if i.compound_id in own_compounds]
    received = [p for p in pledges if p.company_id != cid and incidents[p.incident_id].compound_id in own_compounds
                and not _withdrawn(p)]
    arrived = [p for p in mine if p.status == "arrived"]
    broken = [p for p in mine if (p.status == "cancelled" and p.departed_at is not None)
              or (p.status in ("pledged", "departed") and incidents[p.incident_id].status == "closed")]
    pending = [p for p in mine if p.status in ("pledged", "departed") and incidents[p.incident_id].status == "open"]
    hours = lent.get(cid, [])
    return {
        "company_id": cid, "company_name": company.name,
        "help_given": {"incidents": len({p.incident_id for p in given}), "pledges": len(given),
                       "people_arrived": sum(people[p.id] for p in given if p.status == "arrived"),
                       "items_arrived": sum(quantities[p.id] for p in given if p.status == "arrived")},
        "help_received": {"incidents": len(received_incidents), "pledges": len(received),
                          "pledges_arrived": sum(1 for p in received if p.status == "arrived")},
        "pledges": {"total": len(mine), "kept": len(arrived), "broken": len(broken),
                    "withdrawn": sum(1 for p in mine if _withdrawn(p)), "pending": len(pending)},
        "response": {
            "arrivals": len(arrived),
            "mean_seconds_pledge_to_arrival": _mean([(p.arrived_at - p.pledged_at).total_seconds() for p in arrived]),
            "mean_seconds_raise_to_arrival": _mean([(p.arrived_at - incidents[p.incident_id].raised_at).total_seconds()
                                                    for p in arrived]),
            "arrived_within_target": sum(1 for p in arrived if p.arrived_at - incidents[p.incident_id].raised_at
                                         <= timedelta(minutes=incidents[p.incident_id].target_minutes))},
        "loans": {"lent_shifts_served": len(hours), "lent_hours_served": round(sum(hours), 2),
                  "borrowed_shifts_served": sum(borrowed[k] for k in own_compounds)},
        "entries": {kind: entries[(cid, kind)] for kind in ("commendation", "criticism", "note")},
    }


def company_record(viewer: User, company: Company) -> dict:
    """One company's record; its own staff and the admin also see the entries' text."""
    record = alliance_records(company.alliance_id, [company.id])[0]
    if viewer.role == "alliance_admin" or viewer.company_id == company.id:
        record["entry_list"] = list(db.session.scalars(select(CompanyRecordEntry).where(
            CompanyRecordEntry.company_id == company.id).order_by(CompanyRecordEntry.created_at.desc(),
                                                                  CompanyRecordEntry.id.desc())))
    return record


def add_entry(admin: User, company: Company, data: dict) -> CompanyRecordEntry:
    """The alliance admin adds a commendation, criticism or note (optionally about an incident)."""
    incident_id = data.get("incident_id")
    if incident_id is not None:
        incident = db.session.get(Incident, incident_id)
        if incident is None or incident.alliance_id != admin.alliance_id:
            raise UnprocessableError("validation_failed", errors={"json": {"incident_id": ["no such incident"]}})
    entry = CompanyRecordEntry(alliance_id=company.alliance_id, company_id=company.id, kind=data["kind"],
                               remark=data["remark"], incident_id=incident_id, created_by_id=admin.id)
    db.session.add(entry)
    db.session.flush()
    return entry
