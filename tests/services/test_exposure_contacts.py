"""The exposure look-up's contacts equal a brute-force reading of every check-in, on generated data."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from server.extensions import db
from server.models.alliance import Alliance
from server.models.checkins import CheckIn, Visitor
from server.models.compounds import Building, Compound, Gate, Household
from server.models.exposure import ExposureRequest
from server.models.people import User
from server.schemas.exposure import ContactsSchema, dump_contacts
from server.services.health.exposure import _WINDOWS_PER_QUERY, _contacts
from tests.factories import make_gate, make_household, make_user

T0 = datetime(2020, 2, 3, 0, 0, tzinfo=UTC)


def _row(n: int, compound_id: int, gate_id: int, at: datetime, author_id: int, *, user_id=None, visitor_id=None,
         household_id=None, person_name="", decision="allowed", offline=False) -> dict:
    return {"compound_id": compound_id, "gate_id": gate_id, "subject_user_id": user_id, "visitor_id": visitor_id,
            "household_id": household_id, "person_name": person_name, "direction": "in" if n % 2 else "out",
            "method": "guard_scan", "decision": decision, "reason": "ok", "flags": [], "author_id": author_id,
            "client_id": f"gen-{n}", "fingerprint": "x", "server_time": at, "occurred_at": at,
            "lawful_basis": "consent", "reply": {}, "note": "", "offline": offline}


def _generate(world) -> dict:
    """A compound with three gates, residents, visitors and people recorded by name; the subject passes
    150 times (more separate ranges than one statement takes), the others around them, at the edges of
    ±minutes and far away, some denied, some offline, and the subject's neighbours in compound B too."""
    rng = random.Random(16)
    compound = db.session.get(Compound, world.compound_a.id)
    alliance = db.session.get(Alliance, compound.alliance_id)
    gates = [world.gate_a.id, make_gate(compound).id, make_gate(compound).id]
    households = [make_household(compound, building_name=f"{n % 3 + 1}号楼", room=str(200 + n)) for n in range(6)]
    residents = [make_user(alliance, "resident", household=rng.choice(households), name=f"居民{n}").id
                 for n in range(15)]
    visitors = []
    for n in range(6):
        visitor = Visitor(compound_id=compound.id, household_id=rng.choice(households).id, kind="walk_in",
                          name=f"访客{n}", phone=f"1390000{n:04d}", expected_date=date(2020, 2, 3))
        db.session.add(visitor)
        db.session.flush()
        visitors.append(visitor.id)
    named = [(h.id, f"登记{n}") for n, h in enumerate(households)]
    subject, author = world.resident_a.id, world.guard_a.id
    rows, n = [], 0

    def add(gate_id, at, **kw):
        nonlocal n
        n += 1
        rows.append(_row(n, kw.pop("compound_id", compound.id), gate_id, at, author, **kw))

    def someone() -> dict:
        kind = rng.random()
        if kind < 0.5:
            return {"user_id": rng.choice(residents)}
        if kind < 0.75:
            return {"visitor_id": rng.choice(visitors)}
        household_id, name = rng.choice(named)
        return {"household_id": household_id, "person_name": name}

    passages = []
    for i in range(150):
        # Most an hour or more apart; every fifth close to the one before (overlapping ranges).
        at = (passages[-1][1] + timedelta(minutes=rng.randint(1, 20)) if i % 5 == 4
              else T0 + timedelta(hours=2 * i, seconds=rng.randint(0, 3600), microseconds=rng.randint(0, 999999)))
        gate_id = rng.choice(gates)
        passages.append((gate_id, at))
        add(gate_id, at, user_id=subject, decision="denied" if i % 17 == 0 else "allowed", offline=i % 23 == 0)
    for gate_id, at in passages:
        for _ in range(rng.randint(0, 8)):
            offset = rng.choice([timedelta(minutes=rng.uniform(-20, 20)), timedelta(minutes=15),
                                 -timedelta(minutes=15), timedelta(minutes=15, microseconds=1),
                                 -timedelta(minutes=15, microseconds=1), timedelta(0)])
            add(rng.choice([gate_id, gate_id, rng.choice(gates)]), at + offset,
                decision="denied" if rng.random() < 0.1 else "allowed", offline=rng.random() < 0.1, **someone())
        # The subject's own second passage, nobody at all, and compound B's gate at the same moment.
        add(gate_id, at + timedelta(minutes=3), user_id=subject)
        add(gate_id, at + timedelta(minutes=2))
        add(world.gate_b.id, at, compound_id=world.compound_b.id, user_id=world.resident_b.id)
    db.session.execute(insert(CheckIn), rows)
    db.session.flush()
    return {"subject": subject, "passages": passages}


def _brute_force(world, request: ExposureRequest) -> list[dict]:
    """Every pair of check-ins read and compared, as the rules say."""
    delta = timedelta(minutes=request.minutes)
    everything = db.session.scalars(select(CheckIn).order_by(CheckIn.id)).all()
    mine = sorted((c for c in everything if c.subject_user_id == request.subject_user_id
                   and c.decision == "allowed" and c.compound_id == request.compound_id
                   and request.window_start <= c.occurred_at < request.window_end),
                  key=lambda c: (c.occurred_at, c.id))
    others = sorted((c for c in everything if c.compound_id == request.compound_id and c.decision == "allowed"
                     and c.subject_user_id != request.subject_user_id
                     and (c.subject_user_id, c.visitor_id, c.household_id) != (None, None, None)),
                    key=lambda c: (c.occurred_at, c.id))
    found: dict[tuple, dict] = {}
    for passage in mine:
        for other in others:
            if other.gate_id != passage.gate_id or abs(other.occurred_at - passage.occurred_at) > delta:
                continue
            if other.visitor_id is not None:
                key, kind = ("visitor", other.visitor_id), "visitor"
                visitor = db.session.get(Visitor, other.visitor_id)
                name, phone = visitor.name, visitor.phone
            elif other.subject_user_id is not None:
                key, kind = ("user", other.subject_user_id), "resident"
                user = db.session.get(User, other.subject_user_id)
                name, phone = user.display_name, user.phone
            else:
                key, kind, name, phone = ("household", other.household_id, other.person_name), "household", \
                    other.person_name, None
            gap = abs(int((other.occurred_at - passage.occurred_at).total_seconds()))
            gate = db.session.get(Gate, other.gate_id).name
            if key not in found:
                household = db.session.get(Household, other.household_id) if other.household_id else None
                building = db.session.get(Building, household.building_id).name if household else None
                found[key] = {"kind": kind, "user_id": other.subject_user_id, "visitor_id": other.visitor_id,
                              "household_id": other.household_id, "name": name, "phone": phone,
                              "household": f"{building}{household.unit}单元{household.room}" if building else "",
                              "gate_id": other.gate_id, "gate_name": gate, "first_contact_at": other.occurred_at,
                              "subject_passed_at": passage.occurred_at, "gap_seconds": gap, "encounters": set(),
                              "offline": False}
            entry = found[key]
            entry["encounters"].add(other.id)
            entry["offline"] = entry["offline"] or other.offline or passage.offline
            entry["first_contact_at"] = min(entry["first_contact_at"], other.occurred_at)
            if gap < entry["gap_seconds"]:
                entry.update(gap_seconds=gap, gate_id=other.gate_id, gate_name=gate,
                             subject_passed_at=passage.occurred_at)
    contacts = [{**e, "encounters": len(e["encounters"])} for e in found.values()]
    return sorted(contacts, key=lambda c: (c["first_contact_at"], c["name"]))


@pytest.mark.parametrize(("minutes", "days", "start_hours"), [(15, 31, 0), (15, 5, 37.5), (1, 31, 0), (240, 12, 3)])
def test_contacts_equal_a_brute_force_reading(ctx, world, minutes, days, start_hours):
    data = _generate(world)
    start = T0 + timedelta(hours=start_hours)
    request = ExposureRequest(compound_id=world.compound_a.id, subject_user_id=data["subject"],
                              window_start=start, window_end=start + timedelta(days=days), minutes=minutes,
                              reason="生成数据对照", requested_by_id=world.staff_a.id, status="approved")
    staff = db.session.get(User, world.staff_a.id)
    expected = _brute_force(world, request)
    assert len(expected) > 10 and any(c["kind"] == "visitor" for c in expected) \
        and any(c["kind"] == "household" for c in expected)
    assert _contacts(staff, request) == expected
    if days == 31:
        # Each of these passages needs a range of its own: more than one statement takes.
        delta, apart, last = timedelta(minutes=minutes), 0, {}
        for gate_id, at in sorted(data["passages"]):
            apart += gate_id not in last or at - last[gate_id] > 2 * delta
            last[gate_id] = at
        assert apart > _WINDOWS_PER_QUERY


def test_the_written_out_dump_equals_the_schemas(ctx, world):
    data = _generate(world)
    request = ExposureRequest(compound_id=world.compound_a.id, subject_user_id=data["subject"], window_start=T0,
                              window_end=T0 + timedelta(days=20), minutes=15, reason="生成数据对照",
                              requested_by_id=world.staff_a.id, status="approved")
    db.session.add(request)
    db.session.flush()
    body = {"request": request, "contacts": _contacts(db.session.get(User, world.staff_a.id), request)}
    assert len(body["contacts"]) > 10 and any(c["phone"] for c in body["contacts"])
    assert any(c["phone"] is None for c in body["contacts"]) and any(c["offline"] for c in body["contacts"])
    assert dump_contacts(body) == ContactsSchema().dump(body)
