"""Rate limits: sign-in, the WeChat code exchange, invite redemption and self check-in answer 429 with
Retry-After; the per-user limits follow the account, not the address."""

from __future__ import annotations

import uuid

from server.extensions import db
from server.models.alliance import Alliance
from server.services.people.people import create_password_user
from tests.factories import make_user


def _assert_limited(response, reason="rate_limited"):
    assert response.status_code == 429, response.get_data(as_text=True)[:300]
    assert response.json["reason"] == reason
    assert int(response.headers["Retry-After"]) >= 1


def test_password_sign_in(app, client, world):
    with app.app_context():
        create_password_user("staff", world.alliance.id, {"username": "clerk", "password": "correct horse battery"},
                             company_id=world.company_a.id)
        db.session.commit()
    answers = [client.post("/api/v1/auth/password", json={"username": "clerk", "password": "nope"})
               for _ in range(app.config["LOGIN_MAX_FAILURES"] + 1)]
    assert {a.status_code for a in answers[:-1]} == {401}
    _assert_limited(answers[-1], "sign_in_throttled")


def test_wechat_code_exchange(client, world, wechat_app):
    answers = [client.post("/api/v1/auth/wechat", json={"code": f"bogus-{i}"}) for i in range(31)]
    assert all(a.status_code != 429 for a in answers[:30])
    _assert_limited(answers[-1])


def test_invite_redemption_per_user_whatever_the_address(world, as_user):
    resident = as_user(world.resident_b)
    answers = [resident.post("/api/v1/me/invite", json={"code": f"GUESS{i:03d}"},
                             environ_base={"REMOTE_ADDR": f"198.51.100.{i}"}) for i in range(11)]
    assert {a.status_code for a in answers[:10]} == {422}  # wrong guesses, each from another address
    _assert_limited(answers[-1])
    # another user is not held back by this one's guesses
    assert as_user(world.resident_a).post("/api/v1/me/invite", json={"code": "GUESS999"}).status_code != 429


def test_invite_redemption_per_address_across_users(app, world, as_user):
    with app.app_context():
        alliance = db.session.get(Alliance, world.alliance.id)
        users = [make_user(alliance, "resident") for _ in range(7)]
        db.session.commit()
    limited = None
    for n in range(61):
        response = as_user(users[n // 9]).post("/api/v1/me/invite", json={"code": "WRONG123"})
        if response.status_code == 429:
            limited = (n, response)
            break
    assert limited is not None and limited[0] == 60
    _assert_limited(limited[1])


def test_self_check_in_per_user(world, as_user):
    resident = as_user(world.resident_a)
    answers = [resident.post("/api/v1/checkins/self", json={"gate_code": world.gate_a.code, "direction": "in",
                                                            "client_id": uuid.uuid4().hex})
               for _ in range(11)]
    assert {a.status_code for a in answers[:10]} == {201}
    _assert_limited(answers[-1])
    # a neighbour behind the same carrier address still gets through
    neighbour = as_user(world.resident_b).post("/api/v1/checkins/self", json={
        "gate_code": world.gate_a.code, "direction": "in", "client_id": uuid.uuid4().hex})
    assert neighbour.status_code == 200  # not limited (and, of another compound, only counted)
