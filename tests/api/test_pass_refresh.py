"""The phones' plain pass refresh, answered below Flask (`server.api.pass_refresh`): the same answer as the
view's, and every refresh that does not end in a pass handed to Flask, which answers its error."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime

import time_machine
from flask import request_started

from server.extensions import db
from server.services.gate import passes
from server.services.gate.pass_tokens import verify_pass
from tests.api.checkin_helpers import T0, _fresh_key_cache  # noqa: F401 - an autouse fixture
from tests.factories import make_user

PASS = "/api/v1/me/pass"


@contextmanager
def flask_requests(app):
    """The paths of the requests Flask's own machinery handled meanwhile."""
    seen: list[str] = []

    def started(sender, **_extra):
        from flask import request

        seen.append(request.full_path.rstrip("?"))

    request_started.connect(started, app)
    try:
        yield seen
    finally:
        request_started.disconnect(started, app)


@time_machine.travel(T0, tick=False)
def test_a_plain_refresh_is_answered_below_flask_exactly_as_the_view_answers(app, world, as_user):
    """Same status, same headers in the same order, same JSON bytes but for the code (a fresh nonce each time)."""
    resident = as_user(world.resident_a)
    with flask_requests(app) as handled:
        fast = resident.get(PASS)
        viewed = resident.get(PASS + "?qr=none")  # a query string: the Flask view answers
    assert handled == [PASS + "?qr=none"]
    assert fast.status_code == viewed.status_code == 200
    assert list(fast.headers.items()) == list(viewed.headers.items())
    assert fast.headers["Cache-Control"] == "no-store" and fast.headers["Content-Type"] == "application/json"
    assert "Strict-Transport-Security" not in fast.headers  # plain http (see the next test)
    assert fast.data.replace(fast.json["code"].encode(), b"CODE") == viewed.data.replace(
        viewed.json["code"].encode(), b"CODE")
    assert fast.data.endswith(b"}\n") and b'": ' not in fast.data  # Flask's compact JSON
    assert fast.json["code"] != viewed.json["code"]
    with app.app_context():
        for body in (fast.json, viewed.json):
            verified = verify_pass(body["code"], passes.verify_keys(), T0)
            assert passes.decode_pass_id(verified.pass_id) == world.resident_a.id
            assert verified.issued_at == datetime.fromisoformat(body["issued_at"]) == T0


def test_over_tls_both_answers_carry_hsts(app, world, as_user):
    resident = as_user(world.resident_a)
    https = {"base_url": "https://localhost"}
    with flask_requests(app) as handled:
        fast = resident.get(PASS, **https)
        viewed = resident.get(PASS + "?qr=none", **https)
    assert handled == [PASS + "?qr=none"]
    assert fast.status_code == viewed.status_code == 200
    assert fast.headers["Strict-Transport-Security"] == viewed.headers["Strict-Transport-Security"]
    assert [name for name, _ in fast.headers] == [name for name, _ in viewed.headers]


def test_every_refresh_that_does_not_end_in_a_pass_is_answered_by_flask(app, world, as_user, client):
    """No token, a forged one, a logged-out session, another role, a resident not yet approved, and a
    browser's call (an Origin, for CORS): each reaches the view and gets the view's own answer."""
    with app.app_context():
        pending = make_user(db.session.merge(world.alliance), "resident", residency="pending")
        db.session.commit()
    resident = as_user(world.resident_a)
    with flask_requests(app) as handled:
        anonymous = client.get(PASS)
        forged = client.get(PASS, headers={"Authorization": "Bearer not.a.token"})
        guard = as_user(world.guard_a).get(PASS)
        unapproved = as_user(pending).get(PASS)
        from_a_browser = resident.get(PASS, headers={"Origin": "https://elsewhere.example"})
        assert resident.post("/api/v1/auth/logout").status_code == 204
        logged_out = resident.get(PASS)
    assert handled == [PASS] * 5 + ["/api/v1/auth/logout", PASS]
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"] == "Bearer"
    assert forged.status_code == 401 and forged.json["reason"] == "token_invalid"
    assert guard.status_code == 403 and guard.json["reason"] == "forbidden"
    assert unapproved.status_code == 409 and unapproved.json["reason"] == "not_registered"
    assert from_a_browser.status_code == 200 and from_a_browser.json["code"].startswith("WY1.")
    assert logged_out.status_code == 401 and logged_out.json["reason"] == "token_invalid"


def test_other_methods_and_paths_are_flasks(app, world, as_user):
    resident = as_user(world.resident_a)
    with flask_requests(app) as handled:
        assert resident.open("HEAD", PASS).status_code == 200
        assert resident.post(PASS).status_code == 405
        assert resident.get(PASS + ".png").status_code == 200
    assert handled == [PASS, PASS, PASS + ".png"]


def test_the_hooks_the_refresh_stands_in_for(app):
    """Answered below Flask, the refresh runs none of the app's request hooks: it sends the security
    headers itself, has no session to commit, and its app context runs the teardowns. A hook added to
    the app must be applied in `server/api/pass_refresh.py` too (or the refresh handed to Flask), then listed here."""
    names = {attr: {blueprint: [hook.__qualname__ for hook in hooks] for blueprint, hooks in getattr(app, attr).items()}
             for attr in ("before_request_funcs", "after_request_funcs", "teardown_request_funcs",
                          "url_value_preprocessors")}
    assert names == {
        "before_request_funcs": {},
        "after_request_funcs": {None: ["install_security_headers.<locals>.security_headers",
                                       "install_request_commit.<locals>.commit_or_rollback"]},
        "teardown_request_funcs": {},
        "url_value_preprocessors": {},
    }
    assert [hook.__qualname__ for hook in app.teardown_appcontext_funcs] == [
        "SQLAlchemy._teardown_session", "init_app.<locals>._close_replica_session"]
