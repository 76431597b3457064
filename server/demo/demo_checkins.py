"""Demo data: a pass signing key and the last day of gate traffic at 黄平路8号院 and 万龙小区."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import insert

from server.extensions import db
from server.models.checkins import CheckIn, Visitor
from server.plumbing.clock import local_today, utcnow
from server.services.gate import passes
from server.services.gate.visitors import new_visitor_pass_code

# People without a phone the guard records by household (elderly, children).
NO_PHONE_NAMES = ["王奶奶", "李大爷", "张爷爷", "刘奶奶", "小明", "小红"]


def load(org) -> None:
    """Add a signing key, a day of scans and manual records, and a few visitors."""
    passes.add_key_in_session()
    rng = random.Random(8)
    now = utcnow()
    rows = []
    for compound_key, prefix in (("黄平路8号院", "hp-"), ("万龙小区", "wl-")):
        compound = org.compounds[compound_key]
        gate = next(g for key, g in org.gates.items() if key.startswith(compound_key + "/") and g.is_open)
        guard = next(g for g in org.guards.values() if g.compound_id == compound.id)
        residents = [r for key, r in org.residents.items() if key.startswith(prefix)]
        households = org.households[compound_key]
        for n in range(240 if prefix == "hp-" else 80):
            at = now - timedelta(seconds=rng.randint(60, 24 * 3600))
            base = {"compound_id": compound.id, "gate_id": gate.id, "direction": rng.choice(["in", "out"]),
                    "decision": "allowed", "reason": "ok", "flags": [], "guard_id": guard.id,
                    "author_id": guard.id, "client_id": f"demo-{compound.id}-{n}", "fingerprint": "demo",
                    "server_time": at, "occurred_at": at, "device_time": at, "lawful_basis": "public_health_emergency",
                    "temperature": None, "note": "", "person_name": "", "subject_user_id": None,
                    "household_id": None, "visitor_id": None, "pass_nonce": None}
            if n % 5 == 4:
                household = rng.choice(households)
                name = rng.choice(NO_PHONE_NAMES)
                rows.append({**base, "method": "manual", "household_id": household.id, "person_name": name,
                             "note": "无智能手机", "reply": {"subject": {"kind": "household", "name": name[0] + "*"}}})
            else:
                resident = rng.choice(residents)
                rows.append({**base, "method": "guard_scan", "subject_user_id": resident.id,
                             "household_id": resident.household_id, "pass_nonce": f"{rng.getrandbits(64):016x}",
                             "temperature": rng.choice([None, "36.4", "36.6", "36.8"]),
                             "reply": {"subject": {"kind": "resident", "name": resident.display_name[0] + "*"}}})
    db.session.execute(insert(CheckIn), rows)
    hp = org.compounds["黄平路8号院"]
    today = local_today(hp.timezone, now)
    host = org.residents["hp-1"]
    db.session.add_all([
        Visitor(compound_id=hp.id, household_id=host.household_id, registered_by_id=host.id, kind="pre_registered",
                name="王建华", phone="13900001111", expected_date=today, from_city="北京", purpose="探望父母",
                pass_code=new_visitor_pass_code(), lawful_basis="public_health_emergency"),
        Visitor(compound_id=hp.id, household_id=org.residents["hp-2"].household_id,
                registered_by_id=org.guards["zhang"].id, kind="walk_in", name="赵志刚", phone="13900002222",
                expected_date=today, from_city="武汉", purpose="送货", travel_cities=["武汉"], returnee=True,
                status="inside", arrived_at=now - timedelta(minutes=40), lawful_basis="public_health_emergency"),
    ])
    db.session.flush()
