"""Production settings: no debugger, no stack traces, CORS only for configured origins, security headers
on every answer (HSTS over TLS), and the API docs served only when a setting allows it."""

from __future__ import annotations

import pytest

from server import create_app
from server.config import UnsafeConfiguration
from server.extensions import db
from tests.conftest import TEST_SECRET

ORIGIN = "https://console.wuye.example.cn"


def _production(tmp_path, **env):
    environ = {"WUYE_ENV": "production", "WUYE_SECRET_KEY": TEST_SECRET,
               "WUYE_DATABASE_URL": f"sqlite:///{tmp_path / 'prod.db'}",
               "WUYE_PUBLIC_BASE_URL": "https://wuye.example.cn", "WUYE_CORS_ORIGINS": ORIGIN, **env}
    app = create_app(environ)
    with app.app_context():
        db.create_all(bind_key=None)  # the app's own database (another test may have registered a replica bind)

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals at /srv/wuye/server/secret.py line 12")

    return app


@pytest.fixture
def prod(tmp_path):
    return _production(tmp_path)


def test_no_debugger_even_when_flask_debug_is_set(tmp_path, monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    app = _production(tmp_path)
    assert app.debug is False and app.config["DEBUG"] is False and app.config["PROPAGATE_EXCEPTIONS"] is False
    response = app.test_client().get("/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500 and response.json["reason"] == "server_error"
    assert "Traceback" not in body and "secret internals" not in body and "Werkzeug Debugger" not in body


def test_no_stack_trace_in_a_database_failure(prod):
    @prod.get("/db-boom")
    def db_boom():
        from sqlalchemy import text

        from server.extensions import db

        db.session.execute(text("SELECT * FROM no_such_table_at_all"))

    body = prod.test_client().get("/db-boom").get_data(as_text=True)
    assert "no_such_table" not in body and "SELECT" not in body and "Traceback" not in body


@pytest.mark.parametrize("path, status", [
    ("/healthz", 200), ("/api/v1/passes/keys", 200), ("/api/v1/me", 401), ("/api/v1/nowhere", 404),
    ("/boom", 500), ("/g/NOSUCHCODE", 404),
])
def test_security_headers_on_every_answer(prod, path, status):
    response = prod.test_client().get(path)
    assert response.status_code == status
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in headers  # plain http: HSTS means nothing there


def test_hsts_over_tls_and_behind_a_tls_proxy(tmp_path):
    direct = _production(tmp_path).test_client().get("/healthz", base_url="https://wuye.example.cn")
    assert direct.headers["Strict-Transport-Security"].startswith("max-age=")
    proxied = _production(tmp_path, WUYE_PROXY_HOPS="1").test_client().get(
        "/healthz", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.5"})
    assert "max-age=31536000" in proxied.headers["Strict-Transport-Security"]
    spoofed = _production(tmp_path).test_client().get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in spoofed.headers  # no trusted proxy: the header is not believed


def test_cors_only_for_configured_origins(prod, tmp_path):
    client = prod.test_client()
    allowed = client.get("/api/v1/passes/keys", headers={"Origin": ORIGIN})
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN and "Origin" in allowed.headers["Vary"]
    preflight = client.options("/api/v1/me", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "PATCH"})
    assert preflight.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    for origin in ("https://evil.example", "null", ORIGIN + ".evil.example", ORIGIN.replace("https", "http")):
        answer = client.get("/api/v1/passes/keys", headers={"Origin": origin})
        assert "Access-Control-Allow-Origin" not in answer.headers, origin
    with pytest.raises(UnsafeConfiguration):
        _production(tmp_path, WUYE_CORS_ORIGINS="*")


def test_api_docs_are_not_served_in_production_unless_allowed(tmp_path):
    hidden = _production(tmp_path).test_client()
    for path in ("/api/v1/openapi.json", "/api/v1/docs", "/api/v1/docs/assets/swagger-ui-bundle.js"):
        assert hidden.get(path).status_code == 404, path
    shown = _production(tmp_path, WUYE_PUBLIC_API_DOCS="1").test_client()
    assert shown.get("/api/v1/openapi.json").json["openapi"].startswith("3.")
    page = shown.get("/api/v1/docs")
    assert page.status_code == 200 and "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert shown.get("/api/v1/docs/assets/swagger-ui-bundle.js").status_code == 200


def test_docs_setting_defaults_and_refuses_nonsense(tmp_path):
    testing = create_app({"WUYE_ENV": "testing", "WUYE_SECRET_KEY": TEST_SECRET,
                          "WUYE_DATABASE_URL": f"sqlite:///{tmp_path / 't.db'}"})
    assert testing.test_client().get("/api/v1/openapi.json").status_code == 200
    off = create_app({"WUYE_ENV": "testing", "WUYE_SECRET_KEY": TEST_SECRET, "WUYE_PUBLIC_API_DOCS": "0",
                      "WUYE_DATABASE_URL": f"sqlite:///{tmp_path / 't.db'}"})
    assert off.test_client().get("/api/v1/openapi.json").status_code == 404
    with pytest.raises(UnsafeConfiguration):
        _production(tmp_path, WUYE_PUBLIC_API_DOCS="maybe")


def test_the_pass_refresh_below_flask_has_hsts_behind_a_tls_proxy_and_cors_for_a_listed_origin(tmp_path):
    """The phones' plain refresh is answered below Flask but inside ProxyFix: X-Forwarded-Proto counts; a
    browser's refresh (an Origin) is Flask's, with its CORS headers."""
    from flask import request_started

    from tests.factories import build_world, client_for

    app = _production(tmp_path, WUYE_PROXY_HOPS="1")
    with app.app_context():
        world = build_world()
        db.session.commit()
    resident = client_for(app, world.resident_a)
    handled: list[str] = []
    request_started.connect(lambda sender, **_: handled.append("flask"), app, weak=False)
    proxied = resident.get("/api/v1/me/pass", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.5"})
    assert proxied.status_code == 200 and handled == []
    assert "max-age=31536000" in proxied.headers["Strict-Transport-Security"]
    spoofed = client_for(_production(tmp_path), world.resident_a).get(
        "/api/v1/me/pass", headers={"X-Forwarded-Proto": "https"})
    assert spoofed.status_code == 200 and "Strict-Transport-Security" not in spoofed.headers
    browser = resident.get("/api/v1/me/pass", headers={"Origin": ORIGIN})
    assert browser.status_code == 200 and handled == ["flask"]
    assert browser.headers["Access-Control-Allow-Origin"] == ORIGIN
