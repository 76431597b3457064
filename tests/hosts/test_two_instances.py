"""Two gunicorn instances over one PostgreSQL behave as one service: sessions, rate limits, pass keys."""

from __future__ import annotations

import time

import pytest
from werkzeug.security import generate_password_hash

from server.auth import start_session
from server.cli import wuye_cli
from server.extensions import db
from server.models.people import User
from tests.hosts.conftest import PASS_KEY_REFRESH_SECONDS

PASSWORD = "a long enough password"


@pytest.fixture
def staff(app, world):
    """Company A's staff member, with a password."""
    with app.app_context():
        user = db.session.get(User, world.staff_a.id)
        user.password_hash = generate_password_hash(PASSWORD)
        db.session.commit()
        return user.username


def _token(app, user) -> str:
    """An access token of a fresh sign-in session of the user (made here, as any host would)."""
    with app.app_context():
        tokens = start_session(db.session.merge(user))
        db.session.commit()
    return tokens.access_token


def _sign_in(instance, username, password=PASSWORD):
    return instance.post("/api/v1/auth/password", json={"username": username, "password": password})


def test_a_token_from_one_instance_works_on_the_other(instances, shared_counters, staff):
    a, b = instances
    signed_in = _sign_in(a, staff)
    assert signed_in.status_code == 200, signed_in.text
    tokens = signed_in.json()
    me_a = a.get("/api/v1/me", tokens["access_token"])
    me_b = b.get("/api/v1/me", tokens["access_token"])
    assert me_a.status_code == me_b.status_code == 200
    assert me_a.json()["id"] == me_b.json()["id"] and me_b.json()["role"] == "staff"

    # The refresh token rotates on B; its reuse on A is caught (the session is in the database) ...
    rotated = b.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert rotated.status_code == 200
    reused = a.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert (reused.status_code, reused.json()["reason"]) == (401, "refresh_reused")
    # ... and ends the session everywhere: B refuses the token A had verified and cached before.
    for instance in (a, b):
        refused = instance.get("/api/v1/me", rotated.json()["access_token"])
        assert refused.status_code == 401


def test_logout_on_one_instance_ends_the_token_on_the_other(app, instances, shared_counters, world):
    a, b = instances
    token = _token(app, world.guard_a)
    assert a.get("/api/v1/me", token).status_code == 200
    assert b.get("/api/v1/me", token).status_code == 200  # now in B's verified-token cache too
    assert a.post("/api/v1/auth/logout", token).status_code in (200, 204)
    assert b.get("/api/v1/me", token).status_code == 401


def test_sign_in_failures_are_counted_across_instances(instances, shared_counters, staff):
    a, b = instances
    # WUYE_LOGIN_MAX_FAILURES is 5 per name and address: three on A and two on B use them up.
    for instance in (a, a, a, b, b):
        assert _sign_in(instance, staff, "wrong password").status_code == 401
    for instance in (a, b):
        throttled = _sign_in(instance, staff)  # even the right password now waits
        assert (throttled.status_code, throttled.json()["reason"]) == (429, "sign_in_throttled")
        assert int(throttled.headers["Retry-After"]) >= 1
    assert any(key.startswith(b"LIMITS:") for key in shared_counters.keys())


def test_a_route_limit_holds_across_instances(instances, shared_counters, staff):
    a, b = instances
    # POST /auth/password allows 10 a minute from one address, whichever instance answers.
    answers = [_sign_in(instance, staff).status_code for instance in (a, b) * 5]
    assert answers == [200] * 10
    for instance in (a, b):
        limited = instance.post("/api/v1/auth/password", json={"username": staff, "password": PASSWORD})
        assert (limited.status_code, limited.json()["reason"]) == (429, "rate_limited")


def _kid_of_pass(instance, token) -> int:
    answer = instance.get("/api/v1/me/pass", token, params={"qr": "none"})
    assert answer.status_code == 200, answer.text
    return answer.json()["kid"]


def _published_kids(instance) -> set[int]:
    return {int(key["kid"]) for key in instance.get("/api/v1/passes/keys").json()["keys"]}


def test_a_pass_key_rotation_reaches_every_instance_within_its_refresh_time(app, instances, shared_counters, world):
    a, b = instances
    token = _token(app, world.resident_a)
    # Both instances settle on the deployment's first key (a snapshot from an earlier test ages out).
    deadline = time.monotonic() + PASS_KEY_REFRESH_SECONDS + 5
    while True:
        first = {_kid_of_pass(a, token), _kid_of_pass(b, token)}
        if len(first) == 1 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert len(first) == 1
    (old_kid,) = first

    rotated = app.test_cli_runner().invoke(wuye_cli, ["rotate-pass-key", "--lead-minutes", "0"])
    assert rotated.exit_code == 0, rotated.output
    rotated_at = time.monotonic()
    new_kid = int(rotated.output.split("kid=")[1].split(",")[0])
    assert new_kid != old_kid

    seen_at = {}
    while len(seen_at) < 2 and time.monotonic() - rotated_at < PASS_KEY_REFRESH_SECONDS + 5:
        for instance in (a, b):
            if instance.name not in seen_at and _kid_of_pass(instance, token) == new_kid:
                assert new_kid in _published_kids(instance)
                seen_at[instance.name] = time.monotonic() - rotated_at
        time.sleep(0.1)
    assert set(seen_at) == {"a", "b"}
    # Within the refresh time, plus a request's worth of slack on a busy machine.
    assert max(seen_at.values()) <= PASS_KEY_REFRESH_SECONDS + 2, seen_at
    # The old key stays published (guards' devices verify codes it signed until they expire).
    assert {old_kid, new_kid} <= _published_kids(a) & _published_kids(b)
