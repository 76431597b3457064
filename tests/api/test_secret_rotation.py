"""Rotating WUYE_SECRET_KEY: with the old secret in WUYE_SECRET_KEY_FALLBACKS nothing breaks; without it,
a clear error naming the settings (a 503 for a pass, a refusal at start-up and in the commands), never a 500."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from server import create_app
from server.cli import wuye_cli
from server.config import UnsafeConfiguration
from server.extensions import db
from server.models.checkins import PassSigningKey
from server.models.server_secrets import ServerSecret
from server.services.gate import gates, passes
from server.services.gate.key_vault import _fernet_for, startup_check
from tests.conftest import TEST_SECRET

NEW_SECRET = "rotated-secret-" + "n" * 40


def _app_with(app, secret: str, fallbacks: str = ""):
    """Another process on the same database, started with other secret settings."""
    other = create_app({"WUYE_ENV": "testing", "WUYE_SECRET_KEY": secret, "WUYE_SECRET_KEY_FALLBACKS": fallbacks,
                        "WUYE_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"]})
    return other


@pytest.fixture
def before_rotation(app, world, as_user):
    """Under the old secret: a staff sign-in, a resident's pass code, the published keys."""
    passes.forget_cached_keys()
    staff = as_user(world.staff_a)
    resident = as_user(world.resident_a)
    code = resident.get("/api/v1/me/pass?qr=none").json
    keys = app.test_client().get("/api/v1/passes/keys").json
    yield staff, resident, code, keys
    passes.forget_cached_keys()


def test_with_the_old_secret_as_a_fallback_tokens_passes_and_keys_keep_working(app, world, before_rotation):
    staff, resident, code, keys = before_rotation
    rotated = _app_with(app, NEW_SECRET, fallbacks=TEST_SECRET)
    http = rotated.test_client()
    # Tokens signed with the old secret still verify, and a refresh gives a pair signed with the new one.
    assert http.get("/api/v1/me", headers=staff.headers).json["id"] == world.staff_a.id
    with app.app_context():
        from server.auth import start_session
        from server.models.people import User

        old_pair = start_session(db.session.get(User, world.guard_a.id))
        db.session.commit()
    refreshed = http.post("/api/v1/auth/refresh", json={"refresh_token": old_pair.refresh_token})
    assert refreshed.status_code == 200
    # The published keys are the same, and a pass issued before the rotation is still the resident's.
    assert http.get("/api/v1/passes/keys").json == keys
    fresh = http.get("/api/v1/me/pass?qr=none", headers=resident.headers)
    assert fresh.status_code == 200 and fresh.json["kid"] == code["kid"]
    with rotated.app_context():
        now = datetime.now(UTC)
        assert passes.read_pass(code["code"], now).user_id == world.resident_a.id
        assert passes.read_pass(fresh.json["code"], now).user_id == world.resident_a.id
    scan = http.post("/api/v1/checkins", headers=_guard_headers(rotated, world),
                     json={"pass_code": code["code"], "gate_id": world.gate_a.id, "direction": "in",
                           "client_id": "after-rotation"})
    assert scan.status_code == 201 and scan.json["decision"] == "allowed", scan.json
    assert scan.json["subject"]["name"] == "王**"

    # `reencrypt-keys` moves the stored keys under the new secret; then the fallback can go.
    result = rotated.test_cli_runner().invoke(wuye_cli, ["reencrypt-keys"])
    assert result.exit_code == 0 and "re-encrypted" in result.output, result.output
    with rotated.app_context():
        stored = db.session.scalars(select(PassSigningKey.private_key_encrypted)).all() + \
            db.session.scalars(select(ServerSecret.value_encrypted)).all()
    assert len(stored) == 2 and all(_fernet_for(NEW_SECRET).decrypt(value.encode()) for value in stored)
    passes.forget_cached_keys()
    settled = _app_with(app, NEW_SECRET).test_client()
    with rotated.app_context():
        from server.auth import start_session
        from server.models.people import User

        new_tokens = start_session(db.session.get(User, world.resident_a.id))
        db.session.commit()
    headers = {"Authorization": f"Bearer {new_tokens.access_token}"}
    again = settled.get("/api/v1/me/pass?qr=none", headers=headers)
    assert again.status_code == 200 and again.json["kid"] == code["kid"]
    assert settled.get("/api/v1/passes/keys").json == keys
    # Tokens of the old secret end when its fallback is dropped.
    assert settled.get("/api/v1/me", headers=staff.headers).status_code == 401


def _guard_headers(an_app, world) -> dict:
    from server.auth import start_session
    from server.models.people import User

    with an_app.app_context():
        tokens = start_session(db.session.get(User, world.guard_a.id))
        db.session.commit()
    return {"Authorization": f"Bearer {tokens.access_token}"}


def test_without_the_fallback_a_clear_error_names_the_setting_never_a_500(app, world, before_rotation, caplog):
    _staff, resident, code, keys = before_rotation
    lost = _app_with(app, NEW_SECRET)
    http = lost.test_client()
    passes.forget_cached_keys()
    answer = http.get("/api/v1/me/pass?qr=none", headers=_resident_headers(lost, world))
    assert answer.status_code == 503 and answer.json["reason"] == "pass_keys_unreadable"
    assert "WUYE_SECRET_KEY_FALLBACKS" in caplog.text
    # The public halves need no secret: guards' devices still get them.
    assert http.get("/api/v1/passes/keys").json == keys
    # The start-up check refuses to serve, and the commands say what to do.
    with pytest.raises(UnsafeConfiguration, match="WUYE_SECRET_KEY_FALLBACKS"):
        startup_check(lost)
    for command in ("check-keys", "reencrypt-keys"):
        result = lost.test_cli_runner().invoke(wuye_cli, [command])
        assert result.exit_code != 0 and "WUYE_SECRET_KEY_FALLBACKS" in result.output, result.output
    with app.app_context():
        stored = db.session.scalar(select(PassSigningKey.private_key_encrypted))
    assert _fernet_for(TEST_SECRET).decrypt(stored.encode())  # refused, so nothing was re-encrypted
    # With the fallback the same start-up check passes.
    startup_check(_app_with(app, NEW_SECRET, fallbacks=f"{'u' * 40},{TEST_SECRET}"))


def _resident_headers(an_app, world) -> dict:
    from server.auth import start_session
    from server.models.people import User

    with an_app.app_context():
        tokens = start_session(db.session.get(User, world.resident_a.id))
        db.session.commit()
    return {"Authorization": f"Bearer {tokens.access_token}"}


def test_a_screen_code_drawn_before_the_rotation_still_opens_the_gate(app, world):
    with app.app_context():
        gate = db.session.get(gates.Gate, world.gate_a.id)
        gate.rotating_code = True
        db.session.commit()
        now = datetime(2026, 3, 2, 1, 0, 10, tzinfo=UTC)
        shown, _expires = gates.rotating_code(gate, now)
    with _app_with(app, NEW_SECRET, fallbacks=TEST_SECRET).app_context():
        found, fresh = gates.resolve_gate_code(shown, now + timedelta(seconds=20))
        assert found.id == world.gate_a.id and fresh is True
    with _app_with(app, NEW_SECRET).app_context():
        assert gates.resolve_gate_code(shown, now + timedelta(seconds=20)) == (None, False)


def test_an_old_token_signed_by_a_dropped_secret_is_refused_and_an_expired_one_says_so(app, world, as_user):
    staff = as_user(world.staff_a)
    rotated = _app_with(app, NEW_SECRET, fallbacks=TEST_SECRET).test_client()
    later = datetime.now(UTC) + timedelta(minutes=app.config["ACCESS_TOKEN_MINUTES"] + 1)
    with time_machine.travel(later, tick=False):
        expired = rotated.get("/api/v1/me", headers=staff.headers)
    assert expired.status_code == 401 and expired.json["reason"] == "token_expired"
    forged = _app_with(app, NEW_SECRET, fallbacks="z" * 40).test_client().get("/api/v1/me", headers=staff.headers)
    assert forged.status_code == 401 and forged.json["reason"] == "token_invalid"


def test_the_start_up_check_passes_on_a_database_not_migrated_yet(tmp_path):
    empty = create_app({"WUYE_ENV": "testing", "WUYE_SECRET_KEY": NEW_SECRET,
                        "WUYE_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"})
    startup_check(empty)  # nothing stored, nothing to refuse
