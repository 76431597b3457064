"""Client ids for writes a device may retry: a replay returns the stored result, a changed body is 409."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from flask import has_request_context, request
from sqlalchemy.exc import IntegrityError

from server.errors import ConflictError, UnprocessableError
from server.extensions import db

Row = TypeVar("Row")
Written = TypeVar("Written")

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


@dataclass(frozen=True)
class IdempotentWrite(Generic[Row]):
    """One write a device may retry, kept once under a unique (author, client id) key in the database.

    ``find`` looks up the row stored under the client id (None when there is none, or no client id);
    ``same_body`` says whether a stored row was written from this request's body. A retry with the same
    body replays the stored row; with another body it is 409 idempotency_mismatch. An insert that
    clashes with the key (the same retry raced us) replays the row that won.
    """

    find: Callable[[], Row | None]
    same_body: Callable[[Row], bool]

    @classmethod
    def by_fingerprint(cls, find: Callable[[], Row | None], fp: str) -> IdempotentWrite[Row]:
        """A write whose rows keep the fingerprint of their body in a ``fingerprint`` column."""
        return cls(find, lambda stored: stored.fingerprint == fp)

    def replay(self, stored: Row) -> Row:
        """The stored row for a retry with the same body; another body is 409 idempotency_mismatch."""
        if not self.same_body(stored):
            raise ConflictError("idempotency_mismatch")
        return stored

    def stored(self) -> Row | None:
        """The replay of the row already stored under the client id, or None when there is none."""
        stored = self.find()
        return None if stored is None else self.replay(stored)

    def insert(self, write: Callable[[], Written], *, savepoint: bool = True,
               unexplained: str | None = None) -> tuple[Written | Row, bool]:
        """Run the insert; answers (row, replayed).

        A unique-key clash answers the replay of the row stored under the client id. In a savepoint
        only the insert is undone; without one (a hot path sparing the savepoint's round trips) the
        whole transaction is rolled back first. A clash with no row under the client id (another key)
        is re-raised, or 409 ``unexplained`` when given.
        """
        try:
            if not savepoint:
                return write(), False
            with db.session.begin_nested():
                return write(), False
        except IntegrityError:
            if not savepoint:
                db.session.rollback()
            stored = self.find()
            if stored is None:
                if unexplained is None:
                    raise
                raise ConflictError(unexplained) from None
            return self.replay(stored), True

    def add(self, row: Written, *, unexplained: str | None = None) -> tuple[Written | Row, bool]:
        """Insert an ORM row in a savepoint; answers (row, replayed) as `insert`."""
        def write() -> Written:
            db.session.add(row)
            db.session.flush()
            return row
        return self.insert(write, unexplained=unexplained)
