"""Token attacks: every forged, stale or confused access token is a 401 (never a 500), and a pass that
is stale or signed by a retired key is refused at the gate."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
import time_machine
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from server.auth import AUDIENCE, ISSUER
from server.extensions import db
from server.models.sessions import AuthSession
from server.services.gate import pass_tokens, passes
from tests.conftest import TEST_SECRET

T0 = datetime(2020, 2, 3, 0, 30, tzinfo=UTC)


def _claims(user_id, session_id, /, **over):
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": str(user_id), "sid": session_id, "typ": "access",
              "role": "staff", "iat": now, "exp": now + 600}
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


@pytest.fixture
def staff_session(app, world, as_user):
    """A live session of staff_a: (user id, session id); tokens are forged around it."""
    as_user(world.staff_a)
    with app.app_context():
        sid = db.session.scalar(select(AuthSession.id).where(AuthSession.user_id == world.staff_a.id))
    return world.staff_a.id, sid


def _me(client, token):
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})


def _refused(client, token):
    response = _me(client, token)
    assert response.status_code == 401, (token, response.status_code, response.get_data(as_text=True)[:200])
    assert response.json["reason"] in ("token_invalid", "token_expired", "unauthorized")
    return response


def test_the_genuine_token_works(client, staff_session):
    user_id, sid = staff_session
    assert _me(client, jwt.encode(_claims(user_id, sid), TEST_SECRET, algorithm="HS256")).status_code == 200


def test_alg_none_and_unsigned_tokens(client, staff_session):
    user_id, sid = staff_session
    unsigned = jwt.encode(_claims(user_id, sid), None, algorithm="none")
    _refused(client, unsigned)
    _refused(client, unsigned + "c2ln")  # a signature pasted on
    header = base64.urlsafe_b64encode(b'{"alg":"None","typ":"JWT"}').rstrip(b"=").decode()
    _refused(client, header + "." + unsigned.split(".")[1] + ".")


def test_hs256_signed_with_the_published_pass_key_and_eddsa_tokens(app, client, staff_session):
    """Algorithm confusion: the public Ed25519 key (JWKS "x", or PEM) used as an HMAC secret, and
    tokens signed with EdDSA (an attacker's key, whatever kid it names)."""
    user_id, sid = staff_session
    jwk = client.get("/api/v1/passes/keys").json["keys"][0]
    raw_public = base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))
    for secret in (jwk["x"].encode(), raw_public):
        _refused(client, jwt.encode(_claims(user_id, sid), secret, algorithm="HS256"))
    attacker = Ed25519PrivateKey.generate()
    pem = attacker.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
    _refused(client, jwt.encode(_claims(user_id, sid), pem, algorithm="EdDSA", headers={"kid": jwk["kid"]}))
    # HMAC over the attacker's public key in PEM: pyjwt and the pinned list both refuse it.
    public_pem = attacker.public_key().public_bytes(serialization.Encoding.PEM,
                                                    serialization.PublicFormat.SubjectPublicKeyInfo)
    _refused(client, _hs256(_claims(user_id, sid), public_pem))


def _hs256(claims: dict, key: bytes, **header) -> str:
    """An HS256 token signed by hand (pyjwt refuses to sign with an empty or PEM-looking key)."""
    def part(value: dict) -> bytes:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=")

    signing_input = part({"alg": "HS256", "typ": "JWT", **header}) + b"." + part(claims)
    signature = base64.urlsafe_b64encode(hmac.new(key, signing_input, hashlib.sha256).digest()).rstrip(b"=")
    return (signing_input + b"." + signature).decode()


def test_expired_and_not_yet_valid_tokens(client, staff_session):
    user_id, sid = staff_session
    now = int(time.time())
    expired = _refused(client, jwt.encode(_claims(user_id, sid, exp=now - 5, iat=now - 700), TEST_SECRET,
                                          algorithm="HS256"))
    assert expired.json["reason"] == "token_expired"
    _refused(client, jwt.encode(_claims(user_id, sid, nbf=now + 3600), TEST_SECRET, algorithm="HS256"))
    _refused(client, jwt.encode(_claims(user_id, sid, iat=now + 3600), TEST_SECRET, algorithm="HS256"))


@pytest.mark.parametrize("over", [
    {"aud": "someone-else"}, {"aud": None}, {"iss": "evil"}, {"iss": None}, {"typ": "refresh"}, {"typ": None},
    {"sid": None}, {"sub": None}, {"exp": None}, {"iat": None},
])
def test_wrong_or_missing_audience_issuer_and_required_claims(client, staff_session, over):
    user_id, sid = staff_session
    _refused(client, jwt.encode(_claims(user_id, sid, **over), TEST_SECRET, algorithm="HS256"))


@pytest.mark.parametrize("over", [
    {"exp": str(int(time.time()) + 600)},  # the outside test's finding: a 500 before
    {"exp": "never"}, {"exp": True}, {"exp": float(int(time.time()) + 600)}, {"exp": [1]},
    {"iat": str(int(time.time()))}, {"iat": True},
    {"sub": 5}, {"sub": ["5"]}, {"sub": "not-a-number"}, {"sid": 12}, {"sid": {"a": 1}},
    {"aud": [AUDIENCE]}, {"iss": [ISSUER]}, {"typ": ["access"]}, {"role": 1}, {"nbf": "0"},
])
def test_wrong_claim_types(client, staff_session, over):
    user_id, sid = staff_session
    # the same forged token twice: the second answer comes after whatever the first one cached
    token = _hs256(_claims(user_id, sid, **over), TEST_SECRET.encode())
    _refused(client, token)
    _refused(client, token)


def test_a_refresh_token_is_not_an_access_token(app, client, world):
    from server.auth import start_session

    with app.app_context():
        pair = start_session(db.session.merge(world.staff_a))
        db.session.commit()
    _refused(client, pair.refresh_token)
    assert _me(client, pair.access_token).status_code == 200
    # and an access token is not a refresh token
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": pair.access_token}).status_code == 401


def test_a_revoked_family_ends_its_access_tokens(app, client, world):
    from server.auth import start_session

    with app.app_context():
        pair = start_session(db.session.merge(world.staff_a))
        db.session.commit()
    rotated = client.post("/api/v1/auth/refresh", json={"refresh_token": pair.refresh_token})
    assert rotated.status_code == 200
    reused = client.post("/api/v1/auth/refresh", json={"refresh_token": pair.refresh_token})
    assert reused.status_code == 401 and reused.json["reason"] == "refresh_reused"
    _refused(client, pair.access_token)
    _refused(client, rotated.json["access_token"])
    assert client.post("/api/v1/auth/refresh",
                       json={"refresh_token": rotated.json["refresh_token"]}).status_code == 401


@pytest.mark.parametrize("kid", [
    "../../../../etc/passwd", "..\\..\\windows\\win.ini", "/dev/null", "1' OR '1'='1", "1; DROP TABLE users; --",
    "\x00", "%00", "${jndi:ldap://x}", "0" * 5000,
])
def test_a_kid_with_path_or_sql_characters(app, client, staff_session, kid):
    user_id, sid = staff_session
    for key in (b"", b"another-secret-" + b"y" * 40):
        _refused(client, _hs256(_claims(user_id, sid), key, kid=kid))
    with app.app_context():
        assert db.session.scalar(select(AuthSession.id).where(AuthSession.id == sid)) == sid  # tables intact


def test_garbage_bearer_values(client, staff_session):
    for token in ("", "a.b", "a.b.c", "....", "Bearer", "é.é.é", "x" * 10000):
        response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401


# Passes: a refused pass is a "denied" gate decision (the guard's screen says stop), not an HTTP error.

def _scan(guard, code, gate_id):
    return guard.post("/api/v1/checkins", json={"pass_code": code, "gate_id": gate_id, "direction": "in",
                                                  "client_id": uuid.uuid4().hex})


@pytest.fixture
def _fresh_key_cache():
    passes.forget_cached_keys()
    yield
    passes.forget_cached_keys()


@pytest.mark.usefixtures("_fresh_key_cache")
def test_a_pass_replayed_after_expiry(world, as_user):
    with time_machine.travel(T0, tick=False):
        code = as_user(world.resident_a).get("/api/v1/me/pass?qr=none").json["code"]
        assert _scan(as_user(world.guard_a), code, world.gate_a.id).json["reason"] == "ok"
    with time_machine.travel(T0 + timedelta(minutes=2), tick=False):
        replay = _scan(as_user(world.guard_a), code, world.gate_a.id)
    assert (replay.json["decision"], replay.json["reason"]) == ("denied", "pass_expired")


@pytest.mark.usefixtures("_fresh_key_cache")
def test_a_fresh_pass_signed_by_a_retired_key(app, world, as_user):
    """Even a code issued now, with a genuine signature, is refused once its key has been retired."""
    with time_machine.travel(T0, tick=False):
        with app.app_context():
            old_key = passes.signing_key(T0)
            passes.rotate_signing_key(now=T0)
    later = T0 + passes.OFFLINE_MAX_AGE + timedelta(minutes=30)
    with time_machine.travel(later, tick=False):
        with app.app_context():
            assert passes.drop_retired_keys() == 1
            pass_id = passes.encode_pass_id(world.resident_a.id)
        passes.forget_cached_keys()
        forged = pass_tokens.issue_pass(old_key, pass_id, later, passes.PASS_TTL_SECONDS).code
        genuine = as_user(world.resident_a).get("/api/v1/me/pass?qr=none").json["code"]
        guard = as_user(world.guard_a)
        assert _scan(guard, genuine, world.gate_a.id).json["reason"] == "ok"
        refused = _scan(guard, forged, world.gate_a.id)
    assert (refused.json["decision"], refused.json["reason"]) == ("denied", "pass_invalid")
