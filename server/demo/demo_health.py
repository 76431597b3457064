"""Demo health data: residents of 黄平路8号院 in home quarantine reporting twice a day, one missed
report, a fever at the gate, and a resident living alone gone quiet."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from server.extensions import db
from server.models.people import User
from server.plumbing.clock import utcnow
from server.services.health.quarantine import active_order, place_quarantine
from server.services.health.temperatures import record_reading
from server.services.health.welfare import check_missed_reports, check_welfare
from server.services.people.consent import give_consent

SELF_REPORTS = [36.4, 36.6, 36.5, 36.7, 36.3, 36.6, 36.5, 36.8]


def load(org) -> None:
    """Quarantine two households of 黄平路8号院, give everyone in quarantine a history of self-reports,
    and let the scans raise their alerts."""
    hp = org.compounds["黄平路8号院"]
    # 黄平路8号院 has no property company: the alliance admin runs it, and places its quarantine orders.
    staff = db.session.scalar(select(User).where(User.role == "alliance_admin", User.alliance_id == org.alliance.id))
    now = utcnow()
    # The seeds' epidemic: both compounds keep health and movement records under a declared emergency.
    for compound in org.compounds.values():
        compound.health_emergency = True
    people = [org.residents[key] for key in ("hp-1", "hp-2", "hp-4", "wl-1", "wl-2", "wl-3")]
    give_consent(org.residents["hp-1"])
    place_quarantine(staff, hp, user_id=org.residents["hp-1"].id, reason="returned_from_city",
                     from_city="武汉", starts_at=now - timedelta(days=4))
    place_quarantine(staff, hp, household_id=org.residents["hp-2"].household_id, reason="close_contact",
                     starts_at=now - timedelta(days=2), days=10)
    for person in people:
        if active_order(person.id, person.household_id, now) is None:
            continue
        # hp-2 forgot the last report: the missed-report scan below alerts staff.
        skip_last = person is org.residents["hp-2"]
        for i, celsius in enumerate(SELF_REPORTS[:6]):
            if skip_last and i == 0:
                continue
            _self_report(person, celsius, now - timedelta(hours=12 * i + 13), f"demo-self-{person.id}-{i}")

    # A resident with a fever at the gate: a high reading, the re-measure five minutes later, an alert.
    guard = org.guards["zhang"]
    feverish = org.residents["hp-4"]
    for i, (celsius, minutes_ago) in enumerate(((37.5, 12), (37.8, 7))):  # minutes ago
        record_reading(guard, compound_id=hp.id, subject_user_id=feverish.id, household_id=None, visitor_id=None,
                       gate_id=org.gates["黄平路8号院/正门"].id,
                       celsius=celsius, source="gate", client_id=f"demo-gate-{i}",
                       device_time=now - timedelta(minutes=minutes_ago))

    # An old man living alone, without a pass scan or a report for days: a check-on task.
    household = org.households[hp.name][10]
    db.session.add(User(role="resident", alliance_id=org.alliance.id, openid="resident-hp-alone",
                        display_name="钱大爷", household_id=household.id, residency="approved", lives_alone=True,
                        created_at=now - timedelta(days=10)))
    db.session.flush()
    check_missed_reports(now)
    check_welfare(3, now)


def _self_report(person: User, celsius: float, at, client_id: str) -> None:
    reading, _ = record_reading(person, compound_id=_compound_of(person), subject_user_id=person.id,
                                household_id=person.household_id, visitor_id=None, gate_id=None, celsius=celsius,
                                source="self", client_id=client_id, device_time=None)
    reading.measured_at = reading.created_at = at


def _compound_of(person: User) -> int:
    from server.models.compounds import Household

    return db.session.get(Household, person.household_id).compound_id
