"""The one error shape: routing, validation, oversized bodies, unexpected exceptions, a lost database."""

from __future__ import annotations

import pytest

from server import create_app
from server.messages import MESSAGES, register
from tests.conftest import TEST_SECRET

SHAPE = {"code", "status", "reason", "message"}


def _isolated_app(tmp_path, **env):
    environ = {"WUYE_ENV": "testing", "WUYE_SECRET_KEY": TEST_SECRET,
               "WUYE_DATABASE_URL": f"sqlite:///{tmp_path / 'iso.db'}", **env}
    return create_app(environ)


def test_routing_errors_have_the_shape(client):
    missing = client.get("/api/v1/no-such-thing")
    assert missing.status_code == 404 and SHAPE <= set(missing.json)
    wrong_method = client.delete("/api/v1/auth/password")
    assert wrong_method.status_code == 405 and wrong_method.json["reason"] == "method_not_allowed"
    assert "POST" in wrong_method.headers["Allow"]


@pytest.mark.parametrize("body, content_type, status", [
    ("{not json", "application/json", 400),
    ('{"username": 5, "password": []}', "application/json", 422),
    ('{"username": "a", "password": "b", "extra": 1}', "application/json", 422),
    ('["a list"]', "application/json", 422),
    ("username=a", "application/x-www-form-urlencoded", 415),
    ('{"username": "a", "password": "b"}', "text/plain", 415),
])
def test_bad_bodies(client, body, content_type, status):
    response = client.post("/api/v1/auth/password", data=body, content_type=content_type)
    assert response.status_code == status
    assert SHAPE <= set(response.json)


def test_validation_names_each_field(client):
    response = client.post("/api/v1/auth/password", json={"username": "x" * 65, "password": 3, "other": 1})
    errors = response.json["errors"]["json"]
    assert set(errors) == {"username", "password", "other"}


def test_oversized_body_is_413(app, client):
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = client.post("/api/v1/auth/password", data="x" * (limit + 1), content_type="application/json")
    assert response.status_code == 413 and response.json["reason"] == "body_too_large"


def test_unexpected_exception_is_500_without_trace(tmp_path):
    app = _isolated_app(tmp_path)

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals /etc/passwd")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    text = response.get_data(as_text=True)
    assert "secret internals" not in text and "Traceback" not in text
    assert response.json["reason"] == "server_error"


def test_english_on_request(client):
    response = client.get("/api/v1/me", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert response.json["message"] == "Sign-in required"
    assert client.get("/api/v1/me").json["message"] == "请先登录"


@pytest.mark.parametrize(("accept", "message"), [
    ("zh-CN,en;q=0.9", "请先登录"), ("zh-TW,en;q=0.1", "请先登录"), ("en;q=0.5,zh-Hans;q=0.8", "请先登录"),
    ("fr-FR,en-GB;q=0.8,zh;q=0.5", "Sign-in required"), ("en", "Sign-in required"), ("fr, de", "请先登录"),
    ("fr, en;q=0", "请先登录"), ("en;q=0, zh;q=0.1", "请先登录"),
])
def test_the_callers_most_preferred_of_chinese_and_english_wins(client, accept, message):
    assert client.get("/api/v1/me", headers={"Accept-Language": accept}).json["message"] == message


def test_one_reason_code_cannot_get_two_messages():
    register({"pass_expired": MESSAGES["pass_expired"]})  # the same text again is harmless
    with pytest.raises(ValueError, match="pass_expired"):
        register({"pass_expired": ("别的意思", "Something else")})


def test_health_probes(client):
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").status_code == 200


def test_database_down_is_503_not_200(tmp_path):
    app = _isolated_app(tmp_path, WUYE_DATABASE_URL="sqlite:////nonexistent-dir/wuye.db")
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.headers["Retry-After"]
    write = client.post("/api/v1/auth/password", json={"username": "a", "password": "b"})
    assert write.status_code == 503 and write.headers["Retry-After"]


def test_security_headers_and_no_wildcard_cors(client):
    response = client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Access-Control-Allow-Origin" not in response.headers


def test_a_view_s_own_security_header_stays(app):
    with app.test_request_context():
        from flask import make_response
        response = make_response("<p>poster</p>")
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        response = app.process_response(response)
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")  # an HTML page's
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_no_cookie_session_is_opened_or_written(app, client):
    """Bearer tokens only: Flask's cookie session is never opened, and a write to it fails loudly."""
    from flask import session
    assert "Set-Cookie" not in client.get("/healthz").headers
    with app.test_request_context(), pytest.raises(RuntimeError):
        session["caller"] = 1


def test_openapi_and_local_docs(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/auth/wechat" in spec["paths"]
    assert "bearerAuth" in spec["components"]["securitySchemes"]
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/api/v1/docs/assets/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower() and "unpkg" not in page.lower() and "jsdelivr" not in page.lower()
    asset = client.get("/api/v1/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.data) > 100_000


def test_ids_beyond_a_database_integer_are_404(world, as_user):
    response = as_user(world.staff_a).get("/api/v1/gates/99999999999999999999")
    assert response.status_code == 404 and response.json["reason"] == "not_found"


def test_conflict_found_only_at_commit_is_409(tmp_path):
    from server.extensions import db
    from server.models.compounds import Gate

    app = _isolated_app(tmp_path)
    with app.app_context():
        db.create_all(bind_key=None)  # the app's own database (another test may have registered a replica bind)

    @app.post("/dangling")
    def dangling():
        # never flushed by the view: the foreign key fails at the request's one commit
        db.session.add(Gate(compound_id=424242, name="x", code="dangling"))
        return {"ok": True}

    response = app.test_client().post("/dangling")
    assert response.status_code == 409 and response.json["reason"] == "conflict"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_out_of_range_numbers_and_dates_are_422(world, as_user):
    staff = as_user(world.staff_a)
    assert staff.patch(f"/api/v1/compounds/{world.compound_a.id}",
                       json={"company_id": 2**64}).status_code == 422
    early = staff.get(f"/api/v1/compounds/{world.compound_a.id}/checkins?from=0001-01-01T00:00:00%2B05:00")
    assert early.status_code == 422 and "from" in str(early.json["errors"])


def test_a_value_the_database_refuses_is_a_422(tmp_path):
    from sqlalchemy.exc import DataError

    app = _isolated_app(tmp_path)

    @app.get("/refused")
    def refused():
        # What psycopg raises for a value PostgreSQL cannot hold (e.g. a NUL in text).
        raise DataError("SELECT 1", {}, ValueError("invalid byte sequence"))

    response = app.test_client().get("/refused")
    assert response.status_code == 422 and response.json["reason"] == "value_invalid"
