"""Emergency mutual aid (应急互助): raising an incident, telling the alliance, closing it with a summary.

Staff raise incidents at their company's compounds, the alliance admin at any compound of the
alliance (``scope.get_compound``). Every active staff member of every member company and every
alliance admin gets one message at once (the outbox: inbox always, WeChat where bound). Any staff
or admin of the alliance may read an incident; companies pledge help (``incident_pledges``); the
raising side (the admin, or staff whose scope covers the compound) closes it with a summary.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update

from server import messages
from server.errors import ConflictError, ForbiddenError, NotFoundError, UnprocessableError
from server.extensions import db
from server.models.companies import Company
from server.models.compounds import Compound
from server.models.incidents import (
    DEFAULT_TARGET_MINUTES,
    Incident,
    IncidentNeed,
    IncidentResponder,
)
from server.models.people import User
from server.plumbing.clock import utcnow
from server.plumbing.notifications import enqueue
from server.scope import active_member_condition, alliance_of, get_compound, in_scope

NOTIFICATION_KIND = "incident"
KIND_TITLES = {"flood": "汛情抢险", "outbreak": "疫情防控", "fire": "火情", "power_cut": "停电抢修",
               "water_cut": "停水抢修", "other": "突发事件"}

messages.register({
    "incident_closed": ("该应急事件已结束", "The incident is closed"),
    "incident_not_raiser": ("只有发起方或联盟管理员可以结束应急事件",
                            "Only the raising side or the alliance admin can close the incident"),
    "incident_duplicate_need": ("同一物资只能列一行", "Each item may be listed once"),
})


def get_incident(user: User, incident_id: int, *, lock: bool = False) -> Incident:
    """An incident of the caller's alliance, or 404; ``lock`` holds its row until the commit."""
    incident = db.session.get(Incident, incident_id)
    if incident is None or incident.alliance_id != user.alliance_id:
        raise NotFoundError("not_found")
    if lock:
        hold_incident(incident)
    return incident


def hold_incident(incident: Incident) -> None:
    """Lock the incident's row until the commit (a no-op UPDATE) and re-read it.

    Pledges, their moves and the closing of one incident take turns, so the dispatch clock and the
    stage totals are computed from what is committed (SQLite: the write lock).
    """
    db.session.execute(update(Incident).where(Incident.id == incident.id).values(status=Incident.status)
                       .execution_options(synchronize_session=False))
    db.session.refresh(incident)


def is_raising_side(user: User, incident: Incident) -> bool:
    """The alliance admin, or staff whose scope covers the incident's compound."""
    if user.alliance_id != incident.alliance_id:
        return False
    return user.role == "alliance_admin" or (user.role == "staff" and in_scope(user, incident.compound_id))


def require_open(incident: Incident) -> None:
    """409 once the incident is closed."""
    if incident.status != "open":
        raise ConflictError("incident_closed", status=incident.status)


def raise_incident(user: User, data: dict, *, now: datetime | None = None) -> Incident:
    """Raise an incident at a compound in the caller's scope with its needs, and tell the alliance."""
    alliance_of(user)  # mutual aid is the alliance's: a suspended company's staff are refused
    compound = get_compound(user, data["compound_id"])
    items = [line["item"] for line in data["needs"]]
    if len(items) != len(set(items)):
        raise UnprocessableError("incident_duplicate_need", errors={"json": {"needs": ["each item once"]}})
    now = now or utcnow()
    incident = Incident(alliance_id=compound.alliance_id, compound_id=compound.id, kind=data["kind"],
                        place=data["place"], description=data.get("description", ""),
                        target_minutes=data.get("target_minutes") or DEFAULT_TARGET_MINUTES,
                        raised_by_id=user.id, raised_at=now, status="open")
    db.session.add(incident)
    db.session.flush()
    db.session.add_all([IncidentNeed(incident_id=incident.id, item=line["item"], quantity=line["quantity"],
                                     note=line.get("note", "")) for line in data["needs"]])
    db.session.flush()
    notify_alliance(incident, compound, raiser_id=user.id)
    return incident


def recipients(alliance_id: int, *, except_user_id: int | None = None) -> list[int]:
    """Every active staff member of every active member company (not an invited or suspended one), and
    every active alliance admin."""
    member_companies = select(Company.id).where(Company.alliance_id == alliance_id,
                                                active_member_condition(Company.id))
    query = select(User.id).where(User.alliance_id == alliance_id, User.is_active.is_(True), or_(
        User.role == "alliance_admin", (User.role == "staff") & User.company_id.in_(member_companies)))
    if except_user_id is not None:
        query = query.where(User.id != except_user_id)
    return list(db.session.scalars(query.order_by(User.id)))


def notify_alliance(incident: Incident, compound: Compound, *, raiser_id: int | None) -> int:
    """Queue one message per recipient (at most once per incident and user); answers how many."""
    local = incident.raised_at.astimezone(ZoneInfo(compound.timezone))
    data = {"thing1": f"{KIND_TITLES[incident.kind]}:{incident.place}", "thing2": compound.name,
            "time3": local.strftime("%Y-%m-%d %H:%M")}
    users = recipients(incident.alliance_id, except_user_id=raiser_id)
    for user_id in users:
        enqueue(user_id, NOTIFICATION_KIND, data, page=f"pages/incidents/detail?id={incident.id}",
                dedupe_key=f"incident:{incident.id}:user:{user_id}")
    return len(users)


def close_incident(user: User, incident: Incident, summary: str, *, now: datetime | None = None) -> Incident:
    """The raising side closes the incident with a summary; pledged people are free again from now."""
    if not is_raising_side(user, incident):
        raise ForbiddenError("incident_not_raiser")
    hold_incident(incident)
    require_open(incident)
    now = now or utcnow()
    incident.status, incident.closed_at, incident.closed_by_id, incident.summary = "closed", now, user.id, summary
    # Bookings end at the closing: what started before is cut short, what had not started is dropped.
    db.session.execute(update(IncidentResponder).where(
        IncidentResponder.incident_id == incident.id, IncidentResponder.active.is_(True),
        IncidentResponder.starts_at >= now).values(active=False).execution_options(synchronize_session=False))
    db.session.execute(update(IncidentResponder).where(
        IncidentResponder.incident_id == incident.id, IncidentResponder.active.is_(True),
        IncidentResponder.ends_at > now).values(ends_at=now).execution_options(synchronize_session=False))
    db.session.flush()
    return incident
