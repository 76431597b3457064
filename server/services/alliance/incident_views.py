"""What an incident shows: its need lines per stage, its dispatch clock, and who is coming.

Per need line, as Sahana Eden's request lines: requested, pledged (every pledge not cancelled),
departed (set off or arrived), arrived, and what is missing (requested but pledged by nobody) and
outstanding (not yet on site); each stage's status is derived: none, partial or complete.
Names of the people pledged appear only here: in full to their own company and to the raising side
(the admin, staff whose scope covers the compound; an audited read), masked (张*) for other companies.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import func, select

from server.extensions import db
from server.models.companies import Company
from server.models.compounds import Compound
from server.models.incidents import (
    PEOPLE,
    Incident,
    IncidentNeed,
    IncidentPledge,
    IncidentPledgeItem,
    IncidentResponder,
)
from server.models.people import User
from server.plumbing import audit
from server.plumbing.clock import utcnow
from server.plumbing.masking import mask_name
from server.plumbing.pagination import paginate
from server.services.alliance.incidents import is_raising_side

STAGES = {"pledged": ("pledged", "departed", "arrived"), "departed": ("departed", "arrived"), "arrived": ("arrived",)}


def stage_status(done: int, requested: int) -> str:
    """none, partial or complete (Sahana Eden's REQ_STATUS_NONE/PARTIAL/COMPLETE)."""
    return "none" if done <= 0 else "complete" if done >= requested else "partial"


def need_lines(incident: Incident) -> list[dict]:
    """Each need line with its quantity per stage, what is missing and outstanding, and each stage's status."""
    needs = db.session.scalars(select(IncidentNeed).where(IncidentNeed.incident_id == incident.id)
                               .order_by(IncidentNeed.id)).all()
    totals: dict[tuple[str, str], int] = defaultdict(int)  # (item, pledge status) -> quantity
    for item, status, quantity in db.session.execute(
            select(IncidentPledgeItem.item, IncidentPledge.status, func.sum(IncidentPledgeItem.quantity))
            .join(IncidentPledge, IncidentPledge.id == IncidentPledgeItem.pledge_id)
            .where(IncidentPledge.incident_id == incident.id).group_by(IncidentPledgeItem.item, IncidentPledge.status)):
        totals[(item, status)] += int(quantity)
    people: dict[str, set[int]] = defaultdict(set)  # pledge status -> the people in such pledges
    for status, user_id in db.session.execute(
            select(IncidentPledge.status, IncidentResponder.user_id)
            .join(IncidentPledge, IncidentPledge.id == IncidentResponder.pledge_id)
            .where(IncidentPledge.incident_id == incident.id)):
        people[status].add(user_id)
    lines = []
    for need in needs:
        if need.item == PEOPLE:  # a person pledged twice (a second duty after the first) is one person
            stage = {name: len(set().union(*(people[s] for s in statuses))) for name, statuses in STAGES.items()}
        else:
            stage = {name: sum(totals[(need.item, s)] for s in statuses) for name, statuses in STAGES.items()}
        lines.append({"item": need.item, "requested": need.quantity, "note": need.note, **stage,
                      "missing": max(0, need.quantity - stage["pledged"]),
                      "outstanding": max(0, need.quantity - stage["arrived"]),
                      "pledge_status": stage_status(stage["pledged"], need.quantity),
                      "transit_status": stage_status(stage["departed"], need.quantity),
                      "fulfil_status": stage_status(stage["arrived"], need.quantity)})
    return lines


def _seconds(delta: timedelta | None) -> int | None:
    return None if delta is None else int(delta.total_seconds())


def dispatch_clock(incident: Incident, now: datetime | None = None) -> dict:
    """Raising to first arrival and to every need met, against the incident's target (10 minutes by default)."""
    target = timedelta(minutes=incident.target_minutes)
    elapsed = (incident.closed_at or now or utcnow()) - incident.raised_at
    first = incident.first_arrival_at - incident.raised_at if incident.first_arrival_at else None
    met = incident.needs_met_at - incident.raised_at if incident.needs_met_at else None

    def within(delta: timedelta | None) -> bool | None:
        # Unknown while it may still happen in time; false once the target has passed without it.
        if delta is not None:
            return delta <= target
        return False if elapsed > target else None

    return {"target_minutes": incident.target_minutes, "raised_at": incident.raised_at,
            "first_arrival_at": incident.first_arrival_at, "seconds_to_first_arrival": _seconds(first),
            "first_arrival_within_target": within(first), "needs_met_at": incident.needs_met_at,
            "seconds_to_needs_met": _seconds(met), "needs_met_within_target": within(met),
            "elapsed_seconds": _seconds(elapsed), "overdue": met is None and elapsed > target}


def incident_summary(incident: Incident) -> dict:
    """An incident in a list: where, what, its state and clock, and how much is still missing (no personal data)."""
    compound_name = db.session.scalar(select(Compound.name).where(Compound.id == incident.compound_id))
    lines = need_lines(incident)
    return {"id": incident.id, "kind": incident.kind, "compound_id": incident.compound_id,
            "compound_name": compound_name, "place": incident.place, "status": incident.status,
            "raised_at": incident.raised_at, "closed_at": incident.closed_at, "clock": dispatch_clock(incident),
            "missing": sum(line["missing"] for line in lines), "outstanding": sum(line["outstanding"] for line in lines)}


def incident_page(user: User, args: dict, status: str | None = None) -> dict:
    """A page of the alliance's incidents, newest first."""
    query = select(Incident).where(Incident.alliance_id == user.alliance_id)
    if status:
        query = query.where(Incident.status == status)
    return paginate(query.order_by(Incident.raised_at.desc(), Incident.id.desc()), args, each=incident_summary)


def pledge_rows(viewer: User, incident: Incident, pledge_ids: list[int] | None = None) -> list[dict]:
    """The incident's pledges (or some of them) with items and people, names as the viewer may see them."""
    query = select(IncidentPledge, Company.name).join(Company, Company.id == IncidentPledge.company_id).where(
        IncidentPledge.incident_id == incident.id)
    if pledge_ids is not None:
        query = query.where(IncidentPledge.id.in_(pledge_ids))
    pledges = db.session.execute(query.order_by(IncidentPledge.id)).all()
    ids = [p.id for p, _ in pledges] or [-1]
    items: dict[int, list] = defaultdict(list)
    for row in db.session.scalars(select(IncidentPledgeItem).where(IncidentPledgeItem.pledge_id.in_(ids))
                                  .order_by(IncidentPledgeItem.id)):
        items[row.pledge_id].append({"item": row.item, "quantity": row.quantity})
    people: dict[int, list] = defaultdict(list)
    raising_side = is_raising_side(viewer, incident)
    named_others = 0
    for responder, user in db.session.execute(
            select(IncidentResponder, User).join(User, User.id == IncidentResponder.user_id)
            .where(IncidentResponder.pledge_id.in_(ids)).order_by(IncidentResponder.id)):
        own = viewer.role == "staff" and viewer.company_id == responder.company_id
        full = own or raising_side
        named_others += full and not own
        people[responder.pledge_id].append({
            "user_id": user.id, "name": user.display_name if full else mask_name(user.display_name),
            "role": user.role, "starts_at": responder.starts_at, "ends_at": responder.ends_at,
            "active": responder.active})
    if named_others:
        audit.record("incident_people_read", actor=viewer, object_type="incident", object_id=incident.id,
                     compound_id=incident.compound_id, reason="mutual_aid", detail={"people": named_others})
    return [{"id": p.id, "incident_id": p.incident_id, "company_id": p.company_id, "company_name": name,
             "status": p.status, "note": p.note, "pledged_at": p.pledged_at, "duty_ends_at": p.duty_ends_at,
             "departed_at": p.departed_at, "arrived_at": p.arrived_at, "cancelled_at": p.cancelled_at,
             "items": items[p.id], "people": people[p.id]} for p, name in pledges]


def incident_detail(viewer: User, incident: Incident) -> dict:
    """The incident as the viewer sees it: needs per stage, clock, pledges and who is coming, summary."""
    return {**incident_summary(incident), "description": incident.description,
            "target_minutes": incident.target_minutes, "raised_by_id": incident.raised_by_id,
            "closed_by_id": incident.closed_by_id, "summary": incident.summary,
            "needs": need_lines(incident), "pledges": pledge_rows(viewer, incident),
            "can_close": incident.status == "open" and is_raising_side(viewer, incident)}
