"""Incident duty on the roster: a guard pledged to an emergency (应急互助) is busy for the pledged time.

The roster reads the bookings from the incidents' model directly (the alliance domain pledges guards
and checks their shifts through ``roster_rules``; the roster never imports the alliance domain).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select

from server.extensions import db
from server.models.compounds import Compound
from server.models.incidents import Incident, IncidentPledge, IncidentResponder
from server.models.people import User

INCIDENT_DUTY = "roster_incident_duty"


def duty_clashes(guard_id: int, start: datetime, end: datetime) -> list[tuple[int, int]]:
    """(incident id, pledge id) of the guard's live incident bookings overlapping [start, end)."""
    return [tuple(row) for row in db.session.execute(
        select(IncidentResponder.incident_id, IncidentResponder.pledge_id).where(
            IncidentResponder.user_id == guard_id, IncidentResponder.active.is_(True),
            IncidentResponder.starts_at < end, IncidentResponder.ends_at > start)
        .order_by(IncidentResponder.incident_id))]


def duty_windows(guard_ids: list[int], start: datetime, end: datetime) -> dict[int, list[tuple[datetime, datetime]]]:
    """Each guard's live incident bookings touching [start, end) (auto-fill treats them as unavailable)."""
    out: dict[int, list] = {gid: [] for gid in guard_ids}
    if guard_ids:
        for gid, a, b in db.session.execute(select(
                IncidentResponder.user_id, IncidentResponder.starts_at, IncidentResponder.ends_at).where(
                IncidentResponder.user_id.in_(guard_ids), IncidentResponder.active.is_(True),
                IncidentResponder.starts_at < end, IncidentResponder.ends_at > start)):
            out[gid].append((a, b))
    return out


def duty_rows(start: datetime, end: datetime, *, compound_id: int | None = None,
              guard_id: int | None = None) -> list[dict]:
    """Guards on incident duty in [start, end): at incidents of a compound or guards posted there, or one guard's."""
    query = (select(IncidentResponder, IncidentPledge.status, Incident, Compound.name, User)
             .join(IncidentPledge, IncidentPledge.id == IncidentResponder.pledge_id)
             .join(Incident, Incident.id == IncidentResponder.incident_id)
             .join(Compound, Compound.id == Incident.compound_id)
             .join(User, User.id == IncidentResponder.user_id)
             .where(IncidentResponder.active.is_(True), IncidentResponder.starts_at < end,
                    IncidentResponder.ends_at > start, User.role == "guard"))
    if compound_id is not None:
        query = query.where(or_(Incident.compound_id == compound_id, User.compound_id == compound_id))
    if guard_id is not None:
        query = query.where(IncidentResponder.user_id == guard_id)
    rows = db.session.execute(query.order_by(IncidentResponder.starts_at, IncidentResponder.id))
    return [{"incident_id": incident.id, "pledge_id": r.pledge_id, "pledge_status": status, "kind": incident.kind,
             "compound_id": incident.compound_id, "compound_name": compound_name, "guard_id": guard.id,
             "guard_name": guard.display_name, "company_id": r.company_id, "starts_at": r.starts_at,
             "ends_at": r.ends_at, "source": "incident"}
            for r, status, incident, compound_name, guard in rows]
