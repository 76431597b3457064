"""Finding 6 of issue #17: self scans by people with no tie to the compound are refused and counted, not stored."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from server.extensions import db
from server.models.checkins import CheckIn, StrangerScanCount
from server.models.people import User
from tests.api.checkin_helpers import T0, _fresh_key_cache, count, self_scan  # noqa: F401 - an autouse fixture
from tests.concurrency import run_together
from tests.factories import make_user


def _stranger(app, world) -> int:
    """A WeChat user with no household anywhere (signed in with the mini-program, nothing more)."""
    with app.app_context():
        alliance = db.session.merge(world.alliance)
        user_id = make_user(alliance, "resident", name="路人甲").id
        db.session.commit()
    return user_id


@time_machine.travel(T0, tick=False)
def test_strangers_are_refused_counted_and_not_stored(app, world, as_user):
    with app.app_context():
        stranger = db.session.get(User, _stranger(app, world))
    answers = [self_scan(as_user(stranger), world.gate_a.code) for _ in range(5)]
    # Another compound's resident has no tie here either.
    answers.append(self_scan(as_user(world.resident_b), world.gate_a.code, "out"))
    assert {a.status_code for a in answers} == {200}
    body = answers[0].json
    assert (body["id"], body["decision"], body["reason"], body["color"]) == (None, "denied", "not_registered", "red")
    assert body["gate"]["name"] == "正门" and body["subject"]["name"] == "路**"
    assert count(app, CheckIn) == 0  # the gate log keeps no row of them
    with app.app_context():
        counters = db.session.execute(select(StrangerScanCount.gate_id, StrangerScanCount.hour_start,
                                             StrangerScanCount.scans)).all()
        assert counters == [(world.gate_a.id, T0.replace(minute=0), 6)]
    # A resident of the compound is still recorded, denied or not.
    own = self_scan(as_user(world.resident_a), world.gate_a.code)
    assert own.status_code == 201 and own.json["id"] is not None
    assert count(app, CheckIn) == 1
    # Staff see the noise in the hourly report (local hours: 08:00 in Beijing).
    report = as_user(world.staff_a).get(f"/api/v1/compounds/{world.compound_a.id}/checkins/hourly").json
    assert report["stranger_scans"] == [{"gate_id": world.gate_a.id, "gate_name": "正门", "hour": 8, "scans": 6}]
    assert [(c["allowed"], c["denied"]) for c in report["counts"]] == [(1, 0)]
    # The next hour is a new counter row.
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        assert self_scan(as_user(stranger), world.gate_a.code).status_code == 200
    with app.app_context():
        assert db.session.scalars(select(StrangerScanCount.scans).order_by(StrangerScanCount.hour_start)).all() == [6, 1]


@time_machine.travel(T0, tick=False)
def test_a_resident_pending_approval_has_a_tie_and_is_stored(app, world, as_user):
    with app.app_context():
        pending = make_user(db.session.merge(world.alliance), "resident", household=db.session.merge(world.household_a),
                            residency="pending", name="赵六")
        db.session.commit()
    answer = self_scan(as_user(pending), world.gate_a.code)
    assert answer.status_code == 201 and answer.json["reason"] == "not_registered"
    assert count(app, CheckIn) == 1 and count(app, StrangerScanCount) == 0


def test_concurrent_stranger_scans_all_count(app, world, as_user):
    strangers = []
    with app.app_context():
        alliance = db.session.merge(world.alliance)
        for n in range(4):
            strangers.append(make_user(alliance, "resident", name=f"路人{n}"))
        db.session.commit()
    clients = [as_user(s) for s in strangers]
    answers = run_together([lambda c=c: self_scan(c, world.gate_a.code).status_code for c in clients])
    assert answers == [200] * 4
    with app.app_context():
        assert db.session.scalar(select(func.sum(StrangerScanCount.scans))) == 4
        assert count(app, CheckIn) == 0
