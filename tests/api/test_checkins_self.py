"""A resident's self scan of the gate poster: the big status the guard reads, the rotating code."""

from __future__ import annotations

from datetime import datetime, timedelta

import time_machine

from server.extensions import db
from server.models.compounds import Gate
from server.services.gate.gates import rotating_code
from tests.api.checkin_helpers import (
    T0,
    _fresh_key_cache,  # noqa: F401 - an autouse fixture
    self_scan,
)


@time_machine.travel(T0, tick=False)
def test_self_scan_of_the_poster_shows_the_guard_a_big_status(app, world, as_user):
    response = self_scan(as_user(world.resident_a), world.gate_a.code, "out")
    assert response.status_code == 201
    body = response.json
    assert (body["decision"], body["status_text"], body["color"]) == ("allowed", "可通行", "green")
    assert body["subject"]["name"] == "王**" and body["gate"]["name"] == "正门"
    assert body["compound"]["name"] == "甲小区" and body["method"] == "self_scan"
    other = self_scan(as_user(world.resident_b), world.gate_a.code).json
    assert (other["decision"], other["reason"], other["status_text"]) == ("denied", "not_registered", "禁止通行")
    assert self_scan(as_user(world.resident_a), "nosuchgatecode").status_code == 404
    url = f"https://wuye.example.cn/g/{world.gate_a.code}"
    assert self_scan(as_user(world.resident_a), url, "in").json["reason"] == "ok"
    # A scanner may hand over the URL with a query (WeChat adds its own); the code is the path's.
    tagged = f"{url}?from=singlemessage&next=/g/ZZZZZZ#top"
    assert self_scan(as_user(world.resident_a), tagged, "in").json["reason"] == "ok"
    assert self_scan(as_user(world.resident_a), "http://[not-a-url/g/x").status_code == 404


@time_machine.travel(T0, tick=False)
def test_rotating_gate_refuses_a_photo_of_the_poster(app, world, as_user):
    with app.app_context():
        db.session.get(Gate, world.gate_a.id).rotating_code = True
        db.session.commit()
    resident = as_user(world.resident_a)
    stale = self_scan(resident, world.gate_a.code).json
    assert (stale["decision"], stale["reason"]) == ("denied", "gate_code_expired")
    live = as_user(world.guard_a).get(f"/api/v1/gates/{world.gate_a.id}/live-code").json
    assert live["url"] == f"https://wuye.example.cn/g/{live['code']}"
    assert datetime.fromisoformat(live["expires_at"]) - T0 <= timedelta(seconds=60)
    assert self_scan(resident, live["code"]).json["reason"] == "ok"
    with time_machine.travel(T0 + timedelta(seconds=61), tick=False):
        assert self_scan(resident, live["code"]).json["reason"] == "gate_code_expired"
    forged = live["code"][:-1] + ("a" if live["code"][-1] != "a" else "b")
    assert self_scan(resident, forged).status_code == 404
    with app.app_context():
        assert rotating_code(db.session.get(Gate, world.gate_a.id), T0)[0] == live["code"]

