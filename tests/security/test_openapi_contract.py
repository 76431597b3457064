"""The OpenAPI document tells the truth: the error shape the server really answers (with every reason
code), bounds that are numbers, and the pass wire format an offline guard device implements."""

from __future__ import annotations

import importlib
import pkgutil
import re

import jsonschema_rs
import pytest

import server
from server.errors import DEFAULT_REASONS
from server.messages import MESSAGES
from server.services.gate import pass_tokens


@pytest.fixture
def spec(client):
    return client.get("/api/v1/openapi.json").json


def _error_schema(spec) -> dict:
    return spec["components"]["schemas"]["Error"]


def _walk(node, path=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield path + (key,), key, value
            yield from _walk(value, path + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, path + (i,))


def test_the_error_schema_is_the_one_the_server_answers(spec):
    error = _error_schema(spec)
    assert set(error["required"]) == {"code", "status", "reason", "message"}
    assert error.get("additionalProperties", True) is not False  # a conflict's details may ride along
    assert set(error["properties"]) >= {"code", "status", "reason", "message", "errors"}


def test_every_reason_code_is_in_the_enum():
    # Every module registers its reasons at import: import them all, then compare with a fresh document.
    for info in pkgutil.walk_packages(server.__path__, "server."):
        importlib.import_module(info.name)
    from server import create_app
    from tests.conftest import TEST_SECRET

    app = create_app({"WUYE_ENV": "testing", "WUYE_SECRET_KEY": TEST_SECRET, "WUYE_DATABASE_URL": "sqlite://"})
    enum = set(_error_schema(app.test_client().get("/api/v1/openapi.json").json)["properties"]["reason"]["enum"])
    assert set(MESSAGES) <= enum
    assert set(DEFAULT_REASONS.values()) <= enum


def test_every_operation_documents_its_errors_with_that_schema(spec):
    responses = spec["components"]["responses"]
    assert responses["DEFAULT_ERROR"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    operations = [(path, method, op) for path, item in spec["paths"].items() for method, op in item.items()
                  if method in ("get", "post", "put", "patch", "delete")]
    assert len(operations) > 100
    for path, method, op in operations:
        assert op["responses"]["default"] == {"$ref": "#/components/responses/DEFAULT_ERROR"}, (method, path)
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")):
                ref = response.get("$ref", "")
                assert ref.startswith("#/components/responses/"), (method, path, status)
                schema = responses[ref.rsplit("/", 1)[1]]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, status)


@pytest.mark.parametrize("request_args", [
    ("GET", "/api/v1/nowhere", None, {}),
    ("GET", "/api/v1/me", None, {}),
    ("DELETE", "/api/v1/auth/password", None, {}),
    ("POST", "/api/v1/auth/password", {"username": "x" * 99, "password": 1, "other": 2}, {}),
    ("POST", "/api/v1/auth/password", "user=x", {"content_type": "application/x-www-form-urlencoded"}),
])
def test_real_error_answers_validate_against_the_published_schema(client, spec, request_args):
    method, url, body, extra = request_args
    if isinstance(body, dict):
        response = client.open(url, method=method, json=body)
    else:
        response = client.open(url, method=method, data=body, **extra)
    assert response.status_code >= 400
    validator = jsonschema_rs.Draft4Validator(_error_schema(spec))
    assert validator.is_valid(response.json), (response.json, list(validator.iter_errors(response.json)))
    assert response.json["reason"] in _error_schema(spec)["properties"]["reason"]["enum"]


def test_bounds_are_numbers_and_the_temperature_bounds_are_published(spec):
    for path, key, value in _walk(spec):
        if key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum") and "properties" in path[:-1]:
            assert isinstance(value, (int, float)) and not isinstance(value, bool), (path, value)
    for url in ("/api/v1/checkins/manual", "/api/v1/visitors/walk-in", "/api/v1/gates/{gate_id}/temperatures"):
        body = spec["paths"][url]["post"]["requestBody"]["content"]["application/json"]["schema"]
        name = body["$ref"].rsplit("/", 1)[1]
        fields = spec["components"]["schemas"][name]["properties"]
        field = fields.get("temperature") or fields.get("celsius")
        bounds = field.get("anyOf", [field])[0] if "anyOf" in field else field
        assert (bounds["minimum"], bounds["maximum"]) == (34.0, 43.0), (url, field)


def test_the_pass_wire_format_is_published(spec, world, as_user):
    for url in ("/api/v1/me/pass", "/api/v1/passes/keys"):
        description = spec["paths"][url]["get"]["description"]
        assert pass_tokens.WIRE_FORMAT in description
        assert "Ed25519" in description and "WY1." in description and "kid" in description
    pattern = spec["components"]["schemas"]["Pass"]["properties"]["code"]["pattern"]
    code = as_user(world.resident_a).get("/api/v1/me/pass?qr=none").json["code"]
    assert re.fullmatch(pattern.strip("^$"), code) and len(code) == pass_tokens.CODE_LENGTH
