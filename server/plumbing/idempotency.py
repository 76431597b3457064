"""Client ids for writes a device may retry: a replay returns the stored result, a changed body is 409."""

from __future__ import annotations

import hashlib
import json

from flask import has_request_context, request

from server.errors import ConflictError, UnprocessableError

MAX_CLIENT_ID = 64


def fingerprint(payload: dict) -> str:
    """A stable hash of a request body (keys sorted, client id left out)."""
    body = {k: v for k, v in payload.items() if k != "client_id"}
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def client_id_of(payload: dict) -> str:
    """The client id from the body or, failing that, the Idempotency-Key header; 422 when neither.

    Printable characters only: a header is not screened like a JSON body, and PostgreSQL refuses a NUL.
    """
    value, location, name = payload.get("client_id"), "json", "client_id"
    if not value and has_request_context() and request.headers.get("Idempotency-Key"):
        value, location, name = request.headers["Idempotency-Key"], "headers", "Idempotency-Key"
    if not value or len(value) > MAX_CLIENT_ID or not value.isprintable():
        rule = f"required: 1 to {MAX_CLIENT_ID} printable characters (or Idempotency-Key)"
        raise UnprocessableError("validation_failed", errors={location: {name: [rule]}})
    return value


def check_replay(stored_fingerprint: str, payload: dict) -> None:
    """A replay with the same body is fine; with a different body it is a conflict."""
    if stored_fingerprint != fingerprint(payload):
        raise ConflictError("idempotency_mismatch")
