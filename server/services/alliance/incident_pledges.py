"""Pledges of help to an incident: people (guards and workers, by user id) and equipment (item, quantity).

A pledge moves pledged -> departed -> arrived, or is cancelled before it arrives, each move by the
pledging company's staff and timed. Each person pledged is booked from the pledge until its duty
end (4 h unless told, at most 24 h): a guard with a shift then is refused, and the roster refuses
them a shift then (``roster_incident_duty``). Two pledges of one person at once: the person's row
is locked first, so one wins and the other sees it (PostgreSQL's EXCLUDE constraint backs it up).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from server import messages
from server.errors import ConflictError, ForbiddenError, NotFoundError, UnprocessableError
from server.extensions import db
from server.models.incidents import (
    PEOPLE,
    Incident,
    IncidentNeed,
    IncidentPledge,
    IncidentPledgeItem,
    IncidentResponder,
)
from server.models.people import User
from server.plumbing.clock import utcnow
from server.scope import alliance_of
from server.services.alliance.incident_views import need_lines
from server.services.alliance.incidents import hold_incident, require_open
from server.services.roster.roster_rules import change_status, guard_bookings, lock_guards

DEFAULT_DUTY = timedelta(hours=4)
MAX_DUTY = timedelta(hours=24)
PLEDGEABLE_ROLES = ("guard", "staff")

messages.register({
    "incident_guard_on_shift": ("该保安在承诺时段内有排班,不能派往应急救援",
                                "The guard has a shift during the pledged time and cannot be pledged"),
    "incident_person_busy": ("该人员在此时段已承诺参加其他应急救援",
                             "The person is already pledged to an incident at this time"),
    "pledge_empty": ("请至少承诺一名人员或一项物资", "Pledge at least one person or one item"),
    "pledge_not_movable": ("该承诺当前状态不能进行此操作", "The pledge cannot make this move from its status"),
})


def _fail(field: str, message: str) -> UnprocessableError:
    return UnprocessableError("validation_failed", errors={"json": {field: [message]}})


def pledge_help(staff: User, incident: Incident, data: dict, *, now: datetime | None = None) -> IncidentPledge:
    """A company pledges people of its own and equipment the incident needs (409 if a person is busy then)."""
    if staff.company_id is None:
        raise ForbiddenError("forbidden")  # a company pledges; the alliance admin who runs compounds has none
    alliance_of(staff)  # a suspended company pledges nothing
    people, items = list(dict.fromkeys(data.get("people", []))), data.get("items", [])
    if not people and not items:
        raise UnprocessableError("pledge_empty")
    hold_incident(incident)
    require_open(incident)
    now = now or utcnow()
    duty_ends = data.get("until") or now + DEFAULT_DUTY
    if not now < duty_ends <= now + MAX_DUTY:
        raise _fail("until", "after now, within 24 hours")
    needed = set(db.session.scalars(select(IncidentNeed.item).where(IncidentNeed.incident_id == incident.id)))
    names = [line["item"] for line in items]
    if len(names) != len(set(names)):
        raise _fail("items", "each item once")
    if unneeded := sorted(n for n in names if n not in needed or n == PEOPLE):
        raise _fail("items", f"not among the incident's equipment needs: {', '.join(unneeded)}")
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(people or [-1])))}
    for user_id in people:
        user = users.get(user_id)
        if (user is None or user.company_id != staff.company_id or user.role not in PLEDGEABLE_ROLES
                or not user.is_active):
            raise _fail("people", f"{user_id} is not an active guard or worker of your company")
    lock_guards(people)
    check_people_free(users, people, now, duty_ends)
    pledge = IncidentPledge(incident_id=incident.id, company_id=staff.company_id, pledged_by_id=staff.id,
                            status="pledged", note=data.get("note", ""), pledged_at=now, duty_ends_at=duty_ends)
    try:
        with db.session.begin_nested():
            db.session.add(pledge)
            db.session.flush()
            db.session.add_all([IncidentPledgeItem(pledge_id=pledge.id, item=line["item"], quantity=line["quantity"])
                                for line in items])
            db.session.add_all([IncidentResponder(pledge_id=pledge.id, incident_id=incident.id, user_id=uid,
                                                  company_id=staff.company_id, starts_at=now, ends_at=duty_ends,
                                                  active=True) for uid in people])
    except IntegrityError as exc:
        # A concurrent pledge booked one of them first (PostgreSQL's EXCLUDE constraint).
        raise ConflictError("incident_person_busy", user_ids=people) from exc
    return pledge


def check_people_free(users: dict[int, User], people: list[int], start: datetime, end: datetime) -> None:
    """409 naming the first person with a shift (guards) or another incident booking in [start, end)."""
    for user_id in people:
        if users[user_id].role == "guard" and (shifts := guard_bookings(user_id, start, end)):
            raise ConflictError("incident_guard_on_shift", user_id=user_id,
                                shift_ids=sorted(b.shift_id for b in shifts))
        busy = db.session.scalars(select(IncidentResponder.incident_id).where(
            IncidentResponder.user_id == user_id, IncidentResponder.active.is_(True),
            IncidentResponder.starts_at < end, IncidentResponder.ends_at > start)).all()
        if busy:
            raise ConflictError("incident_person_busy", user_id=user_id, incident_ids=sorted(set(busy)))


def get_pledge(user: User, pledge_id: int) -> tuple[IncidentPledge, Incident]:
    """A pledge of the caller's company (staff), with its incident, or 404."""
    pledge = db.session.get(IncidentPledge, pledge_id)
    if pledge is None or user.role != "staff" or pledge.company_id != user.company_id:
        raise NotFoundError("not_found")
    incident = db.session.get(Incident, pledge.incident_id)
    if incident is None or incident.alliance_id != user.alliance_id:
        raise NotFoundError("not_found")
    return pledge, incident


def _move(pledge: IncidentPledge, incident: Incident, sources: tuple[str, ...], **values) -> None:
    hold_incident(incident)
    require_open(incident)
    change_status(pledge, sources, "pledge_not_movable", **values)


def depart(pledge: IncidentPledge, incident: Incident, *, now: datetime | None = None) -> IncidentPledge:
    """The pledged help sets off."""
    _move(pledge, incident, ("pledged",), status="departed", departed_at=now or utcnow())
    return pledge


def arrive(pledge: IncidentPledge, incident: Incident, *, now: datetime | None = None) -> IncidentPledge:
    """The help is on site: the dispatch clock records the first arrival and the moment every need is met."""
    now = now or utcnow()
    _move(pledge, incident, ("departed",), status="arrived", arrived_at=now)
    if incident.first_arrival_at is None:
        incident.first_arrival_at = now
    if incident.needs_met_at is None and all(line["arrived"] >= line["requested"] for line in need_lines(incident)):
        incident.needs_met_at = now
    db.session.flush()
    return pledge


def cancel(pledge: IncidentPledge, incident: Incident, *, now: datetime | None = None) -> IncidentPledge:
    """The company takes a pledge back before it arrives; its people are free again."""
    _move(pledge, incident, ("pledged", "departed"), status="cancelled", cancelled_at=now or utcnow())
    db.session.execute(update(IncidentResponder).where(IncidentResponder.pledge_id == pledge.id)
                       .values(active=False).execution_options(synchronize_session=False))
    db.session.flush()
    return pledge
