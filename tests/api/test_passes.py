"""Personal passes: short-lived signed codes, QR content, published keys, rotation, keys shared via the DB."""

from __future__ import annotations

import base64
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from PIL import Image, ImageDraw
from sqlalchemy import select

from server.extensions import db
from server.models.checkins import PassSigningKey
from server.services.gate import pass_tokens, passes
from server.services.gate.pass_tokens import PassExpired, VerifyKey, verify_pass
from tests.qr_reading import read_qr_texts

T0 = datetime(2020, 2, 3, 0, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_key_cache():
    passes.forget_cached_keys()
    yield
    passes.forget_cached_keys()


def decode_qr(png: bytes) -> str:
    """What a real decoder (zxing-cpp) reads from a PNG."""
    texts = read_qr_texts(png)
    assert len(texts) == 1
    return texts[0]


def decode_svg_qr(svg: str) -> str:
    """Rasterise the QR path of an SVG (unit squares "Mx,yH..V..H..z", as qrcode draws them) and decode it."""
    match = re.search(r'viewBox="0 0 (\d+) (\d+)"[^>]*>\s*<rect[^>]*/>\s*<path d="([^"]+)"', svg)
    assert match is not None, "no QR path in the SVG"
    size, path = int(match.group(1)), match.group(3)
    scale = 8
    image = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(image)
    for x, y in re.findall(r"M(\d+),(\d+)H", path):
        left, top = int(x) * scale, int(y) * scale
        draw.rectangle([left, top, left + scale - 1, top + scale - 1], fill=0)
    texts = read_qr_texts(image)
    assert len(texts) == 1
    return texts[0]


def keyring_from_jwks(jwks: dict) -> dict[int, VerifyKey]:
    """What a guard's device builds from /passes/keys."""
    keys = []
    for jwk in jwks["keys"]:
        raw = base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))
        not_after = datetime.fromtimestamp(jwk["exp"], UTC) if "exp" in jwk else None
        keys.append(VerifyKey.from_public_bytes(int(jwk["kid"]), raw, not_after))
    return pass_tokens.keyring(keys)


@time_machine.travel(T0, tick=False)
def test_pass_is_short_lived_signed_and_verifiable_offline(app, world, as_user, client):
    response = as_user(world.resident_a).get("/api/v1/me/pass?qr=svg")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    body = response.json
    assert datetime.fromisoformat(body["expires_at"]) - datetime.fromisoformat(body["issued_at"]) == \
        timedelta(seconds=55)
    assert decode_svg_qr(body["svg"]) == body["code"]
    assert "png_base64" not in body
    jwks = client.get("/api/v1/passes/keys")
    assert jwks.status_code == 200 and jwks.json["keys"][0]["crv"] == "Ed25519"
    verified = verify_pass(body["code"], keyring_from_jwks(jwks.json), T0 + timedelta(seconds=59))
    assert verified.kid == body["kid"]
    with pytest.raises(PassExpired):
        verify_pass(body["code"], keyring_from_jwks(jwks.json), T0 + timedelta(seconds=61))  # 5 s for clocks


@time_machine.travel(T0, tick=False)
def test_pass_carries_no_personal_data_and_never_repeats(app, world, as_user):
    resident = as_user(world.resident_a)
    codes = [resident.get("/api/v1/me/pass?qr=none").json["code"] for _ in range(5)]
    assert len(set(codes)) == 5
    with app.app_context():
        keys = passes.verify_keys()
        ids = [verify_pass(code, keys, T0).pass_id for code in codes]
        assert len(set(ids)) == 5
        assert {passes.decode_pass_id(pass_id) for pass_id in ids} == {world.resident_a.id}
    user_id = world.resident_a.id.to_bytes(4, "big")
    assert all(user_id not in pass_id[4:] for pass_id in ids)
    for code in codes:
        assert world.resident_a.phone not in code and str(world.resident_a.id) not in code[:4]


@time_machine.travel(T0, tick=False)
def test_pass_qr_decodes_to_exactly_the_code(app, world, as_user):
    resident = as_user(world.resident_a)
    body = resident.get("/api/v1/me/pass?qr=png").json
    assert decode_qr(base64.b64decode(body["png_base64"])) == body["code"]
    image = resident.get("/api/v1/me/pass.png")
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert decode_qr(image.data) == image.headers["X-Pass-Code"]
    # Compact enough for a phone at arm's length: version 6 (41 modules) at error correction M.
    modules = Image.open(io.BytesIO(base64.b64decode(body["png_base64"]))).width // 8 - 8
    assert modules <= 41


@time_machine.travel(T0, tick=False)
def test_only_approved_residents_get_a_pass(app, world, as_user):
    assert as_user(world.guard_a).get("/api/v1/me/pass").status_code == 403
    from tests.factories import make_user

    with app.app_context():
        pending = make_user(db.session.merge(world.alliance), "resident", residency="pending")
        db.session.commit()
    response = as_user(pending).get("/api/v1/me/pass")
    assert response.status_code == 409 and response.json["reason"] == "not_registered"


@time_machine.travel(T0, tick=False)
def test_private_keys_are_encrypted_at_rest_and_shared_through_the_database(app, world, as_user):
    code = as_user(world.resident_a).get("/api/v1/me/pass?qr=none").json["code"]
    with app.app_context():
        row = db.session.scalar(select(PassSigningKey))
        key = passes.signing_key()
        raw = key.private_key.private_bytes_raw()
        assert raw not in row.private_key_encrypted.encode() and base64.b64encode(raw).decode() not in \
            row.private_key_encrypted
        # Another process (an empty cache) reads the same key from the rows and accepts the code.
        passes.forget_cached_keys()
        assert passes.read_pass(code, T0).user_id == world.resident_a.id
    # A process with another SECRET_KEY (and no fallback) cannot use the stored private key: a 503, not a 500.
    from server.errors import UnavailableError

    with app.app_context():
        old = app.config["SECRET_KEY"]
        app.config["SECRET_KEY"] = "another-secret-" + "y" * 40
        try:
            passes.forget_cached_keys()
            with pytest.raises(UnavailableError) as refused:
                passes.signing_key()
            assert refused.value.reason == "pass_keys_unreadable"
        finally:
            app.config["SECRET_KEY"] = old
            passes.forget_cached_keys()


def test_keys_rotate_with_overlapping_kids(app, world, as_user, client):
    with time_machine.travel(T0, tick=False):
        old_code = as_user(world.resident_a).get("/api/v1/me/pass?qr=none").json
        with app.app_context():
            new_kid = passes.rotate_signing_key(timedelta(minutes=10))
        published = {k["kid"]: k for k in client.get("/api/v1/passes/keys").json["keys"]}
        assert set(published) == {str(old_code["kid"]), str(new_kid)}
        # The new key is published ahead of use: codes are still signed with the old one.
        assert as_user(world.resident_a).get("/api/v1/me/pass?qr=none").json["kid"] == old_code["kid"]
        assert published[str(old_code["kid"])]["exp"] > (T0 + timedelta(minutes=10)).timestamp()
    with time_machine.travel(T0 + timedelta(minutes=10, seconds=1), tick=False):
        passes.forget_cached_keys()
        fresh = as_user(world.resident_a).get("/api/v1/me/pass?qr=none").json
        assert fresh["kid"] == new_kid
        with app.app_context():
            assert passes.read_pass(fresh["code"], T0 + timedelta(minutes=10, seconds=1)).user_id == \
                world.resident_a.id
        published = {k["kid"] for k in client.get("/api/v1/passes/keys").json["keys"]}
        assert published == {str(old_code["kid"]), str(new_kid)}  # still inside the grace period
    with time_machine.travel(T0 + timedelta(minutes=20), tick=False):
        passes.forget_cached_keys()
        assert {k["kid"] for k in client.get("/api/v1/passes/keys").json["keys"]} == {str(new_kid)}
        with app.app_context():
            # Retired, but an offline scan of a code it signed may still be uploaded for 7 days.
            assert passes.drop_retired_keys() == 0
    with time_machine.travel(T0 + passes.OFFLINE_MAX_AGE + timedelta(minutes=20), tick=False):
        with app.app_context():
            assert passes.drop_retired_keys() == 1
            assert db.session.scalars(select(PassSigningKey.kid)).all() == [new_kid]


def test_offline_scan_signed_by_a_retired_key_is_verified_after_the_clean_up(app, world, as_user):
    with time_machine.travel(T0, tick=False):
        code = as_user(world.resident_a).get("/api/v1/me/pass?qr=none").json["code"]
        with app.app_context():
            passes.rotate_signing_key()
    item = {"kind": "scan", "pass_code": code, "gate_id": world.gate_a.id, "direction": "in",
            "client_id": "offline-old-key", "device_time": T0.isoformat()}
    # The guard's device comes back online the next day (as late as an unrostered guard's queue is taken:
    # services/gate/offline_bounds.py), after the nightly key clean-up ran.
    with time_machine.travel(T0 + timedelta(hours=23), tick=False):
        with app.app_context():
            assert passes.drop_retired_keys() == 0
        passes.forget_cached_keys()
        result = as_user(world.guard_a).post("/api/v1/checkins/batch", json={"items": [item]}).json["results"][0]
    assert result["status"] == 201 and result["checkin"]["reason"] == "ok", result


def test_rotate_command(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["wuye", "rotate-pass-key", "--lead-minutes", "0"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(PassSigningKey.kid)) == 1
    assert "kid=1" in result.output


@time_machine.travel(T0, tick=False)
def test_pass_by_default_is_the_code_alone_dumped_as_its_schema_would(app, world, as_user):
    """The mini-program draws the QR itself: the minute-by-minute refresh renders no image unless asked."""
    from server.schemas.passes import PassSchema

    response = as_user(world.resident_a).get("/api/v1/me/pass")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    body = response.json
    assert set(body) == {"code", "kid", "issued_at", "expires_at", "refresh_after_seconds"}
    assert body["refresh_after_seconds"] == 45
    loaded = {**body, "issued_at": datetime.fromisoformat(body["issued_at"]),
              "expires_at": datetime.fromisoformat(body["expires_at"])}
    assert PassSchema().dump(loaded) == body
    assert datetime.fromisoformat(body["issued_at"]) == T0
    with app.app_context():
        assert verify_pass(body["code"], passes.verify_keys(), T0).kid == body["kid"]
    both = as_user(world.resident_a).get("/api/v1/me/pass?qr=both").json
    assert decode_svg_qr(both["svg"]) == both["code"] and decode_qr(base64.b64decode(both["png_base64"])) == both["code"]


def test_a_pass_refresh_is_one_sql_statement(app, world, as_user, hot_reads):
    """The refresh every shown pass makes each minute reads the caller and their live session in one
    statement and writes nothing; a second look-up (household, quarantine, an audit row) must be a choice."""
    from sqlalchemy import event

    client = as_user(world.resident_a)
    assert client.get("/api/v1/me/pass").status_code == 200  # the key snapshot and the id mask are loaded once
    statements: list[str] = []

    def count(_conn, _cursor, statement, _parameters, _context, _executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        codes = {client.get("/api/v1/me/pass").json["code"] for _ in range(3)}
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(codes) == 3
    # The caller's read runs on its own (HotRead, outside a transaction): no BEGIN or COMMIT either.
    assert statements == [], statements
    assert len(hot_reads) == 4, hot_reads  # the first request's, then one per refresh
    assert all(s.lstrip().upper().startswith("SELECT") and "auth_sessions" in s for s in hot_reads), hot_reads
