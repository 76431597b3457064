"""Role x route matrix: every route in the URL map, called with no token and as each role.

A view must declare who may call it (`roles_required(...)` or `public`); a route without a rule
fails here. A role outside the rule gets 403, no token gets 401, an allowed role never gets
401/403/500 even with placeholder ids and an empty body. A staff route also admits the alliance
admin, who acts as staff at the compounds without a company that they run (`server.auth.admits`).
"""

from __future__ import annotations

import re

import pytest

from server.auth import PUBLIC, admits
from server.models.people import ROLES

# flask-smorest's own documentation views and Flask's static files are public by construction.
FRAMEWORK_PUBLIC = {"static", "api-docs.openapi_json", "api-docs.openapi_swagger_ui"}
PLACEHOLDER_ID = "999999"
SESSION_ENDING = {"auth.logout"}


def _routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def _url(rule) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: "x.png" if m.group(1) == "filename" else PLACEHOLDER_ID,
                  rule.rule)


def _declared_roles(app, rule):
    view = app.view_functions[rule.endpoint]
    return getattr(view, "wuye_roles", None)


def test_every_route_declares_its_roles(app):
    missing = [f"{m} {r.rule}" for r, m in _routes(app)
               if r.endpoint not in FRAMEWORK_PUBLIC and _declared_roles(app, r) is None]
    assert missing == [], "routes without a role rule: " + ", ".join(missing)


def test_matrix(app, world, as_user, client):
    clients = {role: as_user(user) for role, user in world.by_role().items()}
    failures = []
    checked = 0
    for rule, method in _routes(app):
        if rule.endpoint in FRAMEWORK_PUBLIC:
            continue
        roles = _declared_roles(app, rule)
        url = _url(rule)
        anonymous = client.open(url, method=method, json={})
        if roles != PUBLIC and anonymous.status_code != 401:
            failures.append(f"{method} {rule.rule} without token: {anonymous.status_code}, expected 401")
        if anonymous.status_code >= 500:
            failures.append(f"{method} {rule.rule} without token: {anonymous.status_code}")
        for role in ROLES:
            # Logging out ends the session, so it gets a session of its own.
            caller = as_user(world.by_role()[role]) if rule.endpoint in SESSION_ENDING else clients[role]
            status = caller.open(method, url, json={}).status_code
            allowed = roles == PUBLIC or admits(roles, role)
            if not allowed and status != 403:
                failures.append(f"{method} {rule.rule} as {role}: {status}, expected 403")
            if allowed and status in (401, 403) or status >= 500:
                failures.append(f"{method} {rule.rule} as {role}: {status}")
            checked += 1
    assert failures == [], "\n".join(failures)
    assert checked >= 4 * 30


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Basic abc", "Bearer not.a.jwt"])
def test_malformed_authorization_is_401(client, header):
    response = client.get("/api/v1/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json["reason"] in ("unauthorized", "token_invalid")
