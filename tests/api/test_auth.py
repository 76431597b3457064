"""Sign-in for every role: WeChat (against the fake), password with lockout, dev login, tokens."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import jwt
import time_machine
from sqlalchemy import event, inspect, select

from server import create_app
from server.auth import AUDIENCE, ISSUER, current_caller, current_user
from server.extensions import db
from server.models.people import User
from server.models.sessions import AuthSession
from server.services.people.people import create_password_user
from tests.conftest import TEST_SECRET


def _login_wechat(client, code):
    return client.post("/api/v1/auth/wechat", json={"code": code})


def test_wechat_first_login_creates_resident_and_keeps_session_key_server_side(app, client, world, wechat_app):
    wechat_app.add_code("code-1", "openid-new", session_key="SECRET-SESSION-KEY")
    response = _login_wechat(client, "code-1")
    assert response.status_code == 200, response.json
    assert "SECRET-SESSION-KEY" not in response.get_data(as_text=True)
    assert set(response.json) == {"access_token", "refresh_token", "token_type", "expires_in"}
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {response.json['access_token']}"})
    assert me.status_code == 200
    assert me.json["role"] == "resident"
    assert me.json["scope"]["compound_ids"] == []
    with app.app_context():
        user = db.session.scalar(select(User).where(User.openid == "openid-new"))
        assert user is not None and user.role == "resident"
        session = db.session.scalar(select(AuthSession).where(AuthSession.user_id == user.id))
        assert session.wechat_session_key == "SECRET-SESSION-KEY"
    # the same WeChat user signs in again: same account
    wechat_app.add_code("code-2", "openid-new")
    assert _login_wechat(client, "code-2").status_code == 200
    with app.app_context():
        assert db.session.query(User).filter_by(openid="openid-new").count() == 1


def test_wechat_errors_are_mapped(client, world, wechat_app):
    assert _login_wechat(client, "unknown-code").status_code == 401
    wechat_app.add_code("c", "o")
    wechat_app.fail_next("/sns/jscode2session", -1)
    busy = _login_wechat(client, "c")
    assert busy.status_code == 503 and busy.json["reason"] == "wechat_busy" and busy.headers["Retry-After"]
    wechat_app.fail_next("/sns/jscode2session", 45011)
    limited = _login_wechat(client, "c")
    assert limited.status_code == 429 and limited.json["reason"] == "wechat_rate_limited"
    assert _login_wechat(client, "c").status_code == 200
    # single use, as WeChat: a replayed code is refused
    assert _login_wechat(client, "c").status_code == 401


def test_wechat_timeout_is_503(app, client, world, wechat_app):
    wechat_app.add_code("slow", "o-slow")
    wechat_app.delay_next("/sns/jscode2session", 2.0)
    app.config["WECHAT_TIMEOUT"] = 0.3
    try:
        response = _login_wechat(client, "slow")
    finally:
        app.config["WECHAT_TIMEOUT"] = 5.0
    assert response.status_code == 503


def test_dev_login_refused_outside_development(app, client, world):
    response = _login_wechat(client, "dev:someone")
    assert response.status_code == 403
    assert response.json["reason"] == "dev_login_disabled"
    app.config["WUYE_ENV"] = "development"
    try:
        assert _login_wechat(client, "dev:someone").status_code == 200
    finally:
        app.config["WUYE_ENV"] = "testing"


def _staff_with_password(app, world, password="correct horse battery"):
    with app.app_context():
        user = create_password_user("staff", world.alliance.id, {"username": "clerk", "password": password},
                                    company_id=world.company_a.id)
        db.session.commit()
        assert user.password_hash.startswith(("scrypt:", "pbkdf2:"))
        assert password not in user.password_hash


def _password(client, username, password, address="192.0.2.1"):
    return client.post("/api/v1/auth/password", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_failures_throttle_the_name_from_that_address_only(app, client, world):
    _staff_with_password(app, world)
    assert _password(client, "clerk", "correct horse battery").status_code == 200
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        bad = _password(client, "clerk", "wrong", "198.51.100.7")
        assert bad.status_code == 401 and bad.json["reason"] == "bad_credentials"
    # the attacker's address is throttled for that name, even with the right password ...
    locked = _password(client, "clerk", "correct horse battery", "198.51.100.7")
    assert locked.status_code == 429 and locked.json["reason"] == "sign_in_throttled"
    assert 0 < int(locked.headers["Retry-After"]) <= app.config["LOGIN_LOCKOUT_MINUTES"] * 60 + 1
    # ... the owner signing in from elsewhere is not
    assert _password(client, "clerk", "correct horse battery", "203.0.113.9").status_code == 200
    later = datetime.now(UTC) + timedelta(minutes=app.config["LOGIN_LOCKOUT_MINUTES"], seconds=5)
    with time_machine.travel(later, tick=False):
        again = _password(client, "clerk", "correct horse battery", "198.51.100.7")
    assert again.status_code == 200


def test_known_and_unknown_names_answer_alike(app, client, world):
    _staff_with_password(app, world)
    answers = {}
    for name, address in (("clerk", "198.51.100.1"), ("nobody-here", "198.51.100.2")):
        answers[name] = [_password(client, name, "wrong", address)
                         for _ in range(app.config["LOGIN_MAX_FAILURES"] + 2)]
    known, unknown = answers["clerk"], answers["nobody-here"]
    assert [(a.status_code, a.json, a.headers.get("Retry-After") is not None) for a in known] == \
        [(a.status_code, a.json, a.headers.get("Retry-After") is not None) for a in unknown]
    assert [a.status_code for a in known][-2:] == [429, 429]


def test_a_looser_ceiling_per_name_from_every_address(app, client, world, monkeypatch):
    _staff_with_password(app, world)
    monkeypatch.setitem(app.config, "LOGIN_ACCOUNT_MAX_FAILURES", 6)
    for i in range(6):  # one or two guesses each from many addresses
        assert _password(client, "clerk", "wrong", f"198.51.100.{10 + i // 2}").status_code == 401
    refused = _password(client, "clerk", "correct horse battery", "203.0.113.50")
    assert refused.status_code == 429 and refused.json["reason"] == "sign_in_throttled"
    assert int(refused.headers["Retry-After"]) > 0
    # another name is untouched
    assert _password(client, "somebody-else", "wrong", "203.0.113.50").status_code == 401


def test_unknown_user_gets_the_same_answer(client, world):
    response = client.post("/api/v1/auth/password", json={"username": "nobody", "password": "whatever"})
    assert response.status_code == 401 and response.json["reason"] == "bad_credentials"


def test_password_login_rate_limited_per_address(client, world):
    answers = [client.post("/api/v1/auth/password", json={"username": f"nobody{i}", "password": "x"})
               for i in range(12)]
    assert [a.status_code for a in answers[:10]] == [401] * 10
    assert answers[-1].status_code == 429 and answers[-1].json["reason"] == "rate_limited"
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 61
    # another route's budget is its own
    assert client.post("/api/v1/auth/wechat", json={"code": "dev:x"}).status_code == 403


def test_refresh_rotates_and_reuse_revokes_the_family(app, client, world):
    _staff_with_password(app, world)
    first = client.post("/api/v1/auth/password", json={"username": "clerk", "password": "correct horse battery"}).json
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    assert second.json["refresh_token"] != first["refresh_token"]
    # the old refresh token used again: theft is assumed, the whole session ends
    reuse = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reuse.status_code == 401 and reuse.json["reason"] == "refresh_reused"
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": second.json["refresh_token"]}).status_code == 401
    headers = {"Authorization": f"Bearer {second.json['access_token']}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_logout_ends_access_and_refresh(app, client, world):
    _staff_with_password(app, world)
    tokens = client.post("/api/v1/auth/password", json={"username": "clerk", "password": "correct horse battery"}).json
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401


def _claims(user_id, sid="x", **over):
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": str(user_id), "sid": sid, "typ": "access",
              "iat": now, "exp": now + 600}
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


def _valid_sid(app, user_id):
    with app.app_context():
        return db.session.scalar(select(AuthSession.id).where(AuthSession.user_id == user_id))


def test_forged_and_malformed_tokens_are_refused(app, client, world, as_user):
    as_user(world.staff_a)  # opens a real session
    sid = _valid_sid(app, world.staff_a.id)
    good = jwt.encode(_claims(world.staff_a.id, sid), TEST_SECRET, algorithm="HS256")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {good}"}).status_code == 200
    forged = [
        jwt.encode(_claims(world.staff_a.id, sid), "another-secret-" + "y" * 40, algorithm="HS256"),
        jwt.encode(_claims(world.staff_a.id, sid), None, algorithm="none"),
        jwt.encode(_claims(world.staff_a.id, sid, exp=int(time.time()) - 5), TEST_SECRET, algorithm="HS256"),
        jwt.encode(_claims(world.staff_a.id, sid, typ="refresh"), TEST_SECRET, algorithm="HS256"),
        jwt.encode(_claims(world.staff_a.id, sid, aud="someone-else"), TEST_SECRET, algorithm="HS256"),
        jwt.encode(_claims(world.staff_a.id, sid, iss=None), TEST_SECRET, algorithm="HS256"),
        jwt.encode(_claims(world.staff_a.id, sid, typ=None), TEST_SECRET, algorithm="HS256"),
        jwt.encode(_claims(world.staff_b.id, sid), TEST_SECRET, algorithm="HS256"),  # another user's session
        jwt.encode(_claims("not-a-number", sid), TEST_SECRET, algorithm="HS256"),
        good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB"),
    ]
    for token in forged:
        response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token
        assert response.json["reason"] in ("token_invalid", "token_expired")


def test_a_token_verified_before_still_expires_and_still_needs_its_secret(app, client, world, as_user):
    caller = as_user(world.staff_a)
    assert caller.get("/api/v1/me").status_code == 200  # verified once: this process keeps its claims
    headers = caller.headers
    other = create_app({"WUYE_ENV": "testing", "WUYE_SECRET_KEY": "another-secret-" + "z" * 40,
                        "WUYE_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"]})
    refused = other.test_client().get("/api/v1/me", headers=headers)
    assert refused.status_code == 401 and refused.json["reason"] == "token_invalid"
    later = datetime.now(UTC) + timedelta(minutes=app.config["ACCESS_TOKEN_MINUTES"] + 1)
    with time_machine.travel(later, tick=False):
        expired = client.get("/api/v1/me", headers=headers)
    assert expired.status_code == 401 and expired.json["reason"] == "token_expired"
    assert client.get("/api/v1/me", headers=headers).status_code == 200


def test_expired_access_token_says_so(app, client, world, as_user):
    caller = as_user(world.staff_a)
    later = datetime.now(UTC) + timedelta(minutes=app.config["ACCESS_TOKEN_MINUTES"] + 1)
    with time_machine.travel(later, tick=False):
        response = caller.get("/api/v1/me")
    assert response.status_code == 401 and response.json["reason"] == "token_expired"


def test_me_reports_role_and_scope(world, as_user):
    me = as_user(world.resident_a).get("/api/v1/me").json
    assert me["role"] == "resident"
    assert me["scope"] == {"compound_ids": [world.compound_a.id], "company_id": None,
                           "household_id": world.household_a.id}
    admin = as_user(world.admin).get("/api/v1/me").json
    assert sorted(admin["scope"]["compound_ids"]) == sorted(
        [world.compound_a.id, world.compound_b.id, world.compound_orphan.id])
    guard = as_user(world.guard_b).get("/api/v1/me").json
    assert guard["scope"]["compound_ids"] == [world.compound_b.id]


def test_the_caller_row_becomes_the_session_user_without_a_second_query(app, world, as_user):
    headers = as_user(world.guard_a).headers
    with app.test_request_context(headers=headers):
        caller = current_caller()
        statements = []
        listen = lambda *args: statements.append(args[2])  # noqa: E731 - the statement of each execute
        event.listen(db.engine, "before_cursor_execute", listen)
        try:
            user = current_user()
            same = db.session.get(User, world.guard_a.id)
            user.display_name = "张师傅"
            db.session.commit()
        finally:
            event.remove(db.engine, "before_cursor_execute", listen)
        assert (caller.id, caller.role, caller.compound_id) == (world.guard_a.id, "guard", world.compound_a.id)
        assert same is user and inspect(user).persistent and current_user() is user
        assert [s.split()[0] for s in statements] == ["UPDATE"]
    with app.app_context():
        assert db.session.get(User, world.guard_a.id).display_name == "张师傅"
