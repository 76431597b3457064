"""The OpenAPI document as clients may trust it: the real error shape with every reason code, bounds
as JSON numbers, the pass wire format, and the docs served in production only when allowed."""

from __future__ import annotations

from decimal import Decimal

from flask import Flask
from flask_smorest import Api

from server.errors import reason_codes

_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


def _decimal_bounds_as_numbers(self, field, ret, **kwargs) -> dict:
    # apispec serializes a Range's bounds with the field: a Decimal field's become strings ("34.0").
    return {key: float(ret[key]) for key in _BOUNDS if isinstance(ret.get(key), (Decimal, str))
            and _is_number(ret[key])}


def _is_number(value) -> bool:
    try:
        Decimal(str(value))
    except ArithmeticError:
        return False
    return True


def prepare_spec(api: Api) -> None:
    """Before the blueprints are documented: the bearer scheme and numeric bounds."""
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    api.spec.options["security"] = [{"bearerAuth": []}]
    api.ma_plugin.converter.add_attribute_function(_decimal_bounds_as_numbers)


def publish_reason_codes(api: Api) -> None:
    """After every API module (and the services it imports) registered its reasons: the `reason` enum."""
    error = api.spec.components.schemas.get("Error")
    if error is not None:
        error["properties"]["reason"]["enum"] = reason_codes()


def docs_are_public(app: Flask) -> bool:
    """Whether /api/v1/openapi.json and /api/v1/docs are served (WUYE_PUBLIC_API_DOCS)."""
    return bool(app.config.get("PUBLIC_API_DOCS"))
