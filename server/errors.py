"""The one JSON error shape for every exception, and the domain errors services raise.

Every error answers ``{"code": 409, "status": "Conflict", "message": "...", "reason": "...",
"errors": {...}}``; ``reason`` is the stable code clients branch on, ``message`` is for people.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app
from marshmallow import INCLUDE, Schema, fields
from werkzeug.exceptions import HTTPException, InternalServerError

from server.messages import MESSAGES, localize_errors, message_for

DEFAULT_REASONS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
    500: "server_error",
    503: "unavailable",
}
RETRY_AFTER_SECONDS = "5"


class ApiError(HTTPException):
    """An error a service raises on purpose: a status, a reason code, and optional details."""

    code = 400

    def __init__(self, reason: str | None = None, message: str | None = None, *,
                 errors: dict | None = None, code: int | None = None,
                 headers: dict | None = None, **extra: Any):
        if code is not None:
            self.code = code
        self.reason = reason or DEFAULT_REASONS.get(self.code, "error")
        super().__init__(description=message)
        self.errors = errors
        self.extra = extra
        self.extra_headers = headers or {}


class BadRequestError(ApiError):
    """400: the request cannot be understood."""

    code = 400


class UnauthorizedError(ApiError):
    """401: no valid credentials."""

    code = 401


class ForbiddenError(ApiError):
    """403: the caller's role may not do this."""

    code = 403


class NotFoundError(ApiError):
    """404: the object does not exist or is out of the caller's scope."""

    code = 404


class ConflictError(ApiError):
    """409: the request conflicts with the current state."""

    code = 409


class UnprocessableError(ApiError):
    """422: well-formed but semantically invalid."""

    code = 422


class TooManyRequestsError(ApiError):
    """429: slow down."""

    code = 429


class UnavailableError(ApiError):
    """503: try again later; nothing was saved."""

    code = 503

    def __init__(self, reason: str | None = None, message: str | None = None, **kwargs: Any):
        kwargs.setdefault("headers", {"Retry-After": RETRY_AFTER_SECONDS})
        super().__init__(reason, message, **kwargs)


class ErrorSchema(Schema):
    """The one error payload, as published in the OpenAPI document (flask-smorest's `ERROR_SCHEMA`).

    Only documents what `error_body` builds; extra fields (a conflict's details) are allowed.
    """

    class Meta:
        unknown = INCLUDE

    code = fields.Integer(required=True, metadata={"description": "The HTTP status code"})
    status = fields.String(required=True, metadata={"description": "The HTTP status phrase"})
    reason = fields.String(required=True, metadata={
        "description": "The stable reason code clients branch on (the enum is every registered code)"})
    message = fields.String(required=True, metadata={
        "description": "For people: Chinese, or English on `Accept-Language: en`; never branch on it"})
    errors = fields.Dict(metadata={"description": "Field messages by location (json, query) and field name"})


def reason_codes() -> list[str]:
    """Every reason code an error may carry: the registered catalogue and the status defaults."""
    return sorted(set(MESSAGES) | set(DEFAULT_REASONS.values()) | {"error"})


def error_body(code: int, reason: str, message: str | None = None,
               errors: dict | None = None, **extra: Any) -> dict:
    """Build the one error payload."""
    from http import HTTPStatus

    try:
        status = HTTPStatus(code).phrase
    except ValueError:
        status = "Error"
    body: dict[str, Any] = {"code": code, "status": status, "reason": reason,
                            "message": message or message_for(reason)}
    if errors:
        body["errors"] = localize_errors(errors)
    body.update(extra)
    return body


def handle_http_exception(error: HTTPException):
    """Render any HTTPException (ours, werkzeug's, webargs') in the one shape."""
    code = error.code or 500
    headers: dict = {}
    if isinstance(error, ApiError):
        body = error_body(code, error.reason, error.description, error.errors, **error.extra)
        headers.update(error.extra_headers)
    else:
        data = getattr(error, "data", None) or {}
        reason = DEFAULT_REASONS.get(code, "error")
        errors = data.get("errors") or data.get("messages")
        if isinstance(errors, list):
            errors = {"_schema": errors}
        message = data.get("message") if code != 500 else None
        body = error_body(code, reason, message, errors)
        headers.update(data.get("headers") or {})
        if code == 405 and error.get_headers():
            headers.update({k: v for k, v in error.get_headers() if k == "Allow"})
        if code == 500:
            original = getattr(error, "original_exception", None)
            if original is not None:
                current_app.logger.exception("unhandled error", exc_info=original)
    return body, code, headers


def _handle_unexpected(error: Exception):
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    wrapped = InternalServerError(original_exception=error)
    return handle_http_exception(wrapped)


def register_error_handlers(app: Flask) -> None:
    """Install the handlers of HTTP errors and the last-resort 500; called after flask-smorest's so ours win
    (the database errors' handlers, which roll back, are `request_commit.install_request_commit`'s)."""
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, _handle_unexpected)
