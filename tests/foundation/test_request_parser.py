"""Every API body is read by `server.request_parser`: JSON the database cannot store is a 400, not a 500."""

from __future__ import annotations

import pytest

CHECKIN = "/api/v1/checkins"
JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize("text", [r"\ud800", r"\udfff", r"abc\u0000def", r"\uDBFF x"])
def test_nul_and_lone_surrogates_are_refused_in_any_string(world, as_user, text):
    guard = as_user(world.guard_a)
    for body in (f'{{"pass_code": "{text}", "gate_id": 1, "direction": "in", "client_id": "c1"}}',
                 f'{{"items": [{{"client_id": "{text}", "kind": "scan"}}]}}',
                 f'{{"{text}": 1}}'):
        url = "/api/v1/checkins/batch" if "items" in body else CHECKIN
        response = guard.open("POST", url, data=body.encode(), headers=JSON)
        assert response.status_code == 400, body
        assert response.json["errors"]["json"] == ["Text must not contain NUL characters or lone surrogates."]


def test_a_surrogate_pair_and_an_escaped_backslash_are_ordinary_text(world, as_user):
    staff = as_user(world.staff_a)
    # an emoji spelled as a surrogate pair; a backslash followed by the letters u0000
    for spelled, stored in ((r"\ud83d\ude00 东门", "😀 东门"), (r"a\\u0000b", "a\\u0000b")):
        response = staff.open("POST", f"/api/v1/compounds/{world.compound_a.id}/gates",
                              data=f'{{"name": "{spelled}"}}'.encode(), headers=JSON)
        assert response.status_code == 201, response.json
        assert response.json["name"] == stored


def test_json_nested_too_deeply_is_a_400(world, as_user):
    body = b"[" * 100_000 + b"]" * 100_000
    response = as_user(world.guard_a).open("POST", CHECKIN, data=body, headers=JSON)
    assert response.status_code == 400 and response.json["errors"]["json"] == ["JSON nested too deeply."]


def test_a_nul_in_a_query_argument_is_a_400_on_every_database(world, as_user):
    # PostgreSQL would refuse it in text, SQLite would look it up: both now answer before either is asked.
    staff = as_user(world.staff_a)
    for path in (f"/api/v1/compounds/{world.compound_a.id}/residents?residency=%00",
                 f"/api/v1/compounds/{world.compound_a.id}/temperatures?purpose=a%00b",
                 f"/api/v1/compounds/{world.compound_a.id}/temperatures?purpose=ok&purpose=%00"):
        response = staff.get(path)
        assert response.status_code == 400, (path, response.json)
        assert response.json["errors"]["query"] == ["Text must not contain NUL characters."]


def test_deep_json_holding_a_nul_is_a_400(world, as_user):
    # Deep enough that a recursive walk of the parsed body would overflow Python's stack.
    for body in (b"[" * 900 + b'"\\u0000"' + b"]" * 900, b'{"a":' * 900 + b'"\\ud800"' + b"}" * 900):
        response = as_user(world.guard_a).open("POST", CHECKIN, data=body, headers=JSON)
        assert response.status_code == 400, response.json
        assert response.json["errors"]["json"] == ["Text must not contain NUL characters or lone surrogates."]


def test_an_integer_too_long_to_read_is_a_400(world, as_user):
    body = b'{"gate_id": ' + b"9" * 5000 + b', "direction": "in", "pass_code": "x", "client_id": "c1"}'
    response = as_user(world.guard_a).open("POST", CHECKIN, data=body, headers=JSON)
    assert response.status_code == 400 and response.json["errors"]["json"] == ["JSON number too long."]


def test_broken_json_is_invalid_json_and_an_empty_body_is_no_body(world, as_user):
    for body in (b'{"gate_id": 1,', b'{"note": "\xff"}'):
        response = as_user(world.guard_a).open("POST", CHECKIN, data=body, headers=JSON)
        assert response.status_code == 400 and response.json["errors"]["json"] == ["Invalid JSON body."], body
    # Every field of an acknowledgement is optional: an empty JSON body reads as {}, and the unknown
    # alert is then what answers.
    response = as_user(world.staff_a).open("POST", "/api/v1/alerts/999999/acknowledge", data=b"", headers=JSON)
    assert response.status_code == 404 and response.json["reason"] == "not_found"


@pytest.mark.parametrize("data, content_type", [
    ("display_name=changed", "application/x-www-form-urlencoded"),
    ('{"display_name": "changed"}', "text/plain"),
    ('{"display_name": "changed"}', "application/octet-stream"),
    ('{"display_name": "changed"}', None),
])
def test_a_body_that_is_not_json_is_a_415_not_ignored(app, world, as_user, data, content_type):
    staff = as_user(world.staff_a)
    headers = {"Content-Type": content_type} if content_type else {}
    response = staff._client.patch("/api/v1/me", data=data, headers={**staff.headers, **headers})
    assert response.status_code == 415 and response.json["reason"] == "unsupported_media_type"
    assert staff.get("/api/v1/me").json["display_name"] != "changed"
    # JSON, also with a charset or a +json type, is read as before; no body at all is no body
    assert staff.patch("/api/v1/me", json={"display_name": "changed"}).status_code == 200
    assert staff._client.patch("/api/v1/me", data='{"display_name": "again"}', headers={
        **staff.headers, "Content-Type": "application/merge-patch+json; charset=utf-8"}).status_code == 200
    assert staff._client.post("/api/v1/auth/logout", headers=staff.headers).status_code == 204
