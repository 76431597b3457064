"""The reward and penalty record equals what the raw rows say, and the stage rules of a need line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

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
from server.models.roster_lending import LoanOffer, LoanRequest
from server.models.rosters import Shift, ShiftAssignment
from server.services.alliance import company_record, incident_pledges, incidents
from server.services.alliance.incident_views import need_lines, stage_status
from tests.factories import make_company, make_gate, make_user

T0 = datetime(2026, 7, 20, 6, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=1)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_stage_status():
    assert [stage_status(d, 2) for d in (0, 1, 2, 3)] == ["none", "partial", "complete", "complete"]


@pytest.fixture
def scenario(app, world, ctx):
    """Three incidents (two closed, one open), pledges in every state, loans served and not, admin entries."""
    get = db.session.get
    staff_a, staff_b, admin = get(User, world.staff_a.id), get(User, world.staff_b.id), get(User, world.admin.id)
    alliance = world.alliance.id
    company_c = make_company(db.session.get(type(world.alliance), alliance), "丙物业")
    staff_c = make_user(db.session.get(type(world.alliance), alliance), "staff", company=company_c)
    guard_a, guard_b = get(User, world.guard_a.id), get(User, world.guard_b.id)

    def raise_(user, compound_id, minutes):
        return incidents.raise_incident(user, {"compound_id": compound_id, "kind": "flood", "place": "地下室",
                                               "needs": [{"item": "people", "quantity": 2},
                                                         {"item": "pump", "quantity": 2}]}, now=at(minutes))

    def give(staff, incident, minutes, people=(), pumps=0):
        return incident_pledges.pledge_help(staff, incident, {
            "people": list(people), "items": [{"item": "pump", "quantity": pumps}] if pumps else []}, now=at(minutes))

    one = raise_(staff_a, world.compound_a.id, 0)
    p1 = give(staff_b, one, 1, [guard_b.id], 1)
    p2 = give(staff_c, one, 1, pumps=1)
    p4 = give(staff_a, one, 1, [guard_a.id], 1)  # A helps itself: not help given
    incident_pledges.depart(p1, one, now=at(2))
    incident_pledges.depart(p4, one, now=at(2))
    p3 = give(staff_c, one, 2, pumps=1)
    incident_pledges.cancel(p3, one, now=at(2.5))  # withdrawn before departing
    incident_pledges.depart(p2, one, now=at(3))
    incident_pledges.arrive(p4, one, now=at(4))
    incident_pledges.cancel(p2, one, now=at(5))  # broken: cancelled after departing
    incident_pledges.arrive(p1, one, now=at(7))
    incidents.close_incident(staff_a, one, "排水完毕", now=at(30))

    two = raise_(staff_b, world.compound_b.id, 60)
    give(staff_a, two, 61, pumps=2)  # never departs: broken at the close
    p6 = give(staff_c, two, 62, pumps=1)
    incident_pledges.depart(p6, two, now=at(63))
    incident_pledges.arrive(p6, two, now=at(80))  # 20 minutes after raising: over the target
    incidents.close_incident(admin, two, "已处理", now=at(120))

    three = raise_(admin, world.compound_orphan.id, 200)
    give(staff_b, three, 201, pumps=1)  # pending

    # B lent guard_b to the old compound: two shifts served, one to come
    gate = make_gate(db.session.get(Compound, world.compound_orphan.id), "正门")
    for day, hours in ((-2, 12), (-1, 8), (3, 12)):
        start = T0 + timedelta(days=day)
        shift = Shift(compound_id=gate.compound_id, gate_id=gate.id, starts_at=start, ends_at=start + timedelta(hours=hours))
        db.session.add(shift)
        db.session.flush()
        loan = LoanRequest(alliance_id=alliance, shift_id=shift.id, compound_id=gate.compound_id, status="filled")
        db.session.add(loan)
        db.session.flush()
        offer = LoanOffer(loan_id=loan.id, guard_id=guard_b.id, company_id=world.company_b.id, status="accepted")
        db.session.add(offer)
        db.session.flush()
        db.session.add(ShiftAssignment(shift_id=shift.id, guard_id=guard_b.id, compound_id=shift.compound_id,
                                       gate_id=gate.id, starts_at=shift.starts_at, ends_at=shift.ends_at,
                                       source="loan", loan_offer_id=offer.id))
    b = db.session.get(Company, world.company_b.id)
    company_record.add_entry(admin, b, {"kind": "commendation", "remark": "万龙小区抢险及时", "incident_id": one.id})
    company_record.add_entry(admin, company_c, {"kind": "note", "remark": "撤回承诺"})
    db.session.flush()
    return {"incidents": (one, two, three), "company_c": company_c.id, "staff_c": staff_c, "withdrawn_pledge": p3.id}


def _expected(company_id: int) -> dict:
    """The record computed straight from the rows with SQL, one question at a time."""
    P, Inc, C = IncidentPledge, Incident, Compound
    withdrawn = (P.status == "cancelled") & P.departed_at.is_(None)
    base = select(func.count(P.id)).join(Inc, Inc.id == P.incident_id).join(C, C.id == Inc.compound_id)
    own = C.company_id == company_id
    others_compound = (C.company_id.is_(None)) | (C.company_id != company_id)

    def count(query):
        return db.session.scalar(query)

    given = base.where(P.company_id == company_id, others_compound, ~withdrawn)
    arrived_given = select(P.id).join(Inc, Inc.id == P.incident_id).join(C, C.id == Inc.compound_id).where(
        P.company_id == company_id, others_compound, P.status == "arrived")
    arrived_mine = db.session.execute(select(P.pledged_at, P.arrived_at, Inc.raised_at, Inc.target_minutes)
                                      .join(Inc, Inc.id == P.incident_id).where(P.company_id == company_id,
                                                                            P.status == "arrived")).all()

    def mean(values):
        return round(sum(values) / len(values)) if values else None

    lent = db.session.execute(select(ShiftAssignment.starts_at, ShiftAssignment.ends_at)
                              .join(LoanOffer, LoanOffer.id == ShiftAssignment.loan_offer_id)
                              .where(LoanOffer.company_id == company_id, ShiftAssignment.ends_at <= NOW)).all()
    return {
        "help_given": {
            "incidents": count(select(func.count(func.distinct(P.incident_id))).join(Inc, Inc.id == P.incident_id)
                               .join(C, C.id == Inc.compound_id).where(P.company_id == company_id, others_compound,
                                                                     ~withdrawn)),
            "pledges": count(given),
            "people_arrived": count(select(func.count()).where(IncidentResponder.pledge_id.in_(arrived_given))),
            "items_arrived": count(select(func.coalesce(func.sum(IncidentPledgeItem.quantity), 0))
                                   .where(IncidentPledgeItem.pledge_id.in_(arrived_given)))},
        "help_received": {
            "incidents": count(select(func.count(Inc.id)).join(C, C.id == Inc.compound_id).where(own)),
            "pledges": count(base.where(own, P.company_id != company_id, ~withdrawn)),
            "pledges_arrived": count(base.where(own, P.company_id != company_id, P.status == "arrived"))},
        "pledges": {
            "total": count(base.where(P.company_id == company_id)),
            "kept": count(base.where(P.company_id == company_id, P.status == "arrived")),
            "broken": count(base.where(P.company_id == company_id, ((P.status == "cancelled") & P.departed_at.is_not(None))
                                       | (P.status.in_(("pledged", "departed")) & (Inc.status == "closed")))),
            "withdrawn": count(base.where(P.company_id == company_id, withdrawn)),
            "pending": count(base.where(P.company_id == company_id, P.status.in_(("pledged", "departed")),
                                        Inc.status == "open"))},
        "response": {
            "arrivals": len(arrived_mine),
            "mean_seconds_pledge_to_arrival": mean([(a - p).total_seconds() for p, a, _, _ in arrived_mine]),
            "mean_seconds_raise_to_arrival": mean([(a - r).total_seconds() for _, a, r, _ in arrived_mine]),
            "arrived_within_target": sum(1 for _, a, r, t in arrived_mine if a - r <= timedelta(minutes=t))},
        "loans": {
            "lent_shifts_served": len(lent),
            "lent_hours_served": round(sum((b - a).total_seconds() / 3600 for a, b in lent), 2),
            "borrowed_shifts_served": count(select(func.count(ShiftAssignment.id)).join(
                C, C.id == ShiftAssignment.compound_id).where(own, ShiftAssignment.source == "loan",
                                                              ShiftAssignment.ends_at <= NOW))},
        "entries": {kind: count(select(func.count(CompanyRecordEntry.id)).where(
            CompanyRecordEntry.company_id == company_id, CompanyRecordEntry.kind == kind))
            for kind in ("commendation", "criticism", "note")},
    }


def test_the_record_equals_the_raw_rows(world, scenario):
    with time_machine.travel(NOW, tick=False):
        records = {r["company_id"]: r for r in company_record.alliance_records(world.alliance.id)}
        for company_id, record in records.items():
            assert {k: v for k, v in record.items() if k not in ("company_id", "company_name")} == \
                _expected(company_id), company_id
    a, b, c = records[world.company_a.id], records[world.company_b.id], records[scenario["company_c"]]
    # and what the story says, by hand
    assert b["help_given"] == {"incidents": 2, "pledges": 2, "people_arrived": 1, "items_arrived": 1}
    assert b["response"] == {"arrivals": 1, "mean_seconds_pledge_to_arrival": 360,
                             "mean_seconds_raise_to_arrival": 420, "arrived_within_target": 1}
    assert b["loans"] == {"lent_shifts_served": 2, "lent_hours_served": 20.0, "borrowed_shifts_served": 0}
    assert b["pledges"] == {"total": 2, "kept": 1, "broken": 0, "withdrawn": 0, "pending": 1}
    assert c["pledges"] == {"total": 3, "kept": 1, "broken": 1, "withdrawn": 1, "pending": 0}
    assert c["response"]["arrived_within_target"] == 0
    assert a["pledges"]["broken"] == 1 and a["help_given"]["pledges"] == 1 and a["help_received"] == {
        "incidents": 1, "pledges": 2, "pledges_arrived": 1}
    assert b["entries"] == {"commendation": 1, "criticism": 0, "note": 0}


def test_need_lines_and_clock_of_the_scenario(scenario):
    one, two, _ = scenario["incidents"]
    lines = {n["item"]: n for n in need_lines(one)}
    assert (lines["people"]["arrived"], lines["pump"]["arrived"]) == (2, 2)
    assert one.first_arrival_at == at(4) and one.needs_met_at == at(7)
    assert two.first_arrival_at == at(80) and two.needs_met_at is None
    # the closing cut the bookings of incident one at its close
    ends = db.session.scalars(select(IncidentResponder.ends_at).where(IncidentResponder.incident_id == one.id,
                                                                      IncidentResponder.active.is_(True))).all()
    assert ends == [at(30), at(30)]


def test_autofill_leaves_a_pledged_guard_off_the_pledged_time(ctx):
    from datetime import date

    from server.services.roster.roster_autofill import autofill_roster
    from tests.factories import build_world

    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)  # Sunday 20:00 in Shanghai
    with time_machine.travel(now, tick=False):
        w = build_world()  # guard_a is company A's only guard
        shifts = []
        for hours in (4, 30):  # Monday 00:00-08:00 local (pledged time) and Tuesday 06:00-14:00 (free)
            shift = Shift(compound_id=w.compound_a.id, gate_id=w.gate_a.id, starts_at=now + timedelta(hours=hours),
                          ends_at=now + timedelta(hours=hours + 8))
            db.session.add(shift)
            db.session.flush()
            shifts.append(shift.id)
        incident = incidents.raise_incident(w.admin, {"compound_id": w.compound_b.id, "kind": "fire", "place": "配电室",
                                                      "needs": [{"item": "people", "quantity": 1}]})
        incident_pledges.pledge_help(w.staff_a, incident, {"people": [w.guard_a.id],
                                                           "until": now + timedelta(hours=10)})
        result = autofill_roster(w.staff_a, [w.compound_a], date(2026, 3, 2))
        assert result["assignments"] == [{"shift_id": shifts[1], "guard_id": w.guard_a.id}]
        assert [u["shift_id"] for u in result["unfilled"]] == [shifts[0]]


def test_the_database_refuses_two_live_bookings_of_one_person(world, scenario):
    from sqlalchemy.exc import IntegrityError

    one, _, three = scenario["incidents"]
    booking = db.session.scalars(select(IncidentResponder).where(IncidentResponder.incident_id == one.id)).first()
    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("the EXCLUDE constraint is PostgreSQL's; SQLite is kept right by the person's lock")
    for incident_id in (one.id, three.id):  # to the same incident or another, at an overlapping time
        start = booking.starts_at + timedelta(minutes=1)
        with pytest.raises(IntegrityError), db.session.begin_nested():
            db.session.add(IncidentResponder(pledge_id=scenario["withdrawn_pledge"], incident_id=incident_id,
                                             user_id=booking.user_id,
                                             company_id=booking.company_id, starts_at=start,
                                             ends_at=start + timedelta(hours=1), active=True))
            db.session.flush()
    # an inactive (cancelled) booking is no obstacle
    with db.session.begin_nested():
        db.session.add(IncidentResponder(pledge_id=scenario["withdrawn_pledge"], incident_id=one.id,
                                         user_id=booking.user_id, company_id=booking.company_id,
                                         starts_at=booking.starts_at, ends_at=booking.ends_at, active=False))
