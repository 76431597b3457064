"""Retried supplies writes: a receipt, use, adjustment, offer or move sent again with the same client id
(`client_id` in the body or an `Idempotency-Key` header) is recorded once.

The client id is optional here (the staff console sends one; a script may not). A replay with the same
body answers the stored record (200); with another body, 409 ``idempotency_mismatch``. Two copies sent
at once: the unique key (person, client id) lets one insert, the other's savepoint is rolled back with
its stock change, and it answers the winner's record (also when the winner took the last of the stock,
so that the copy's own withdrawal was refused).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import has_request_context, request
from sqlalchemy import select

from server.errors import ConflictError
from server.extensions import db
from server.models.people import User
from server.models.supplies import SupplyEntry, SupplyTransfer
from server.plumbing.idempotency import IdempotentWrite, client_id_of, fingerprint

T = TypeVar("T", SupplyEntry, SupplyTransfer)


def optional_client_id(payload: dict) -> str | None:
    """The write's client id, when the caller sent one (422 when it is malformed)."""
    if payload.get("client_id") or (has_request_context() and request.headers.get("Idempotency-Key")):
        return client_id_of(payload)
    return None


def _stored(model: type[T], user: User, client_id: str) -> T | None:
    person = SupplyEntry.actor_id if model is SupplyEntry else SupplyTransfer.offered_by_id
    return db.session.scalar(select(model).where(person == user.id, model.client_id == client_id))


def once(model: type[T], user: User, payload: dict, write: Callable[[dict], T]) -> tuple[T, bool]:
    """Run `write(stamp)` once per client id (the stamp goes on the new record); and whether it was a replay."""
    client_id = optional_client_id(payload)
    if client_id is None:
        return write({}), False
    body = fingerprint(payload)
    retry = IdempotentWrite.by_fingerprint(lambda: _stored(model, user, client_id), body)
    stored = retry.stored()
    if stored is not None:
        return stored, True
    try:
        return retry.insert(lambda: write({"client_id": client_id, "fingerprint": body}))
    except ConflictError:
        # The same retry, sent at once, took the last of the stock first: answer its record.
        stored = retry.stored()
        if stored is None:
            raise
        return stored, True
