"""Helpers of the check-in tests: fresh pass keys, client ids, passes, scans, direct row changes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from server.extensions import db
from server.models.compounds import Compound, Gate
from server.models.health import QuarantineOrder
from server.models.people import User
from server.services.gate import passes

T0 = datetime(2020, 2, 3, 0, 30, tzinfo=UTC)  # 08:30 in Beijing




@pytest.fixture(autouse=True)
def _fresh_key_cache():
    passes.forget_cached_keys()
    yield
    passes.forget_cached_keys()


@contextmanager
def session_statements(app) -> Iterator[list[str]]:
    """The first four words of each statement sent through SQLAlchemy's Connection inside the block (the
    session's: a `HotRead` fires no event, the `hot_reads` fixture counts those)."""
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def listen(conn, cursor, statement, params, context, executemany):
        statements.append(" ".join(statement.split()[:4]))

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def cid() -> str:
    """A fresh client id."""
    return uuid.uuid4().hex


def pass_of(as_user, resident) -> str:
    """A fresh pass code for the resident, through the API."""
    response = as_user(resident).get("/api/v1/me/pass?qr=none")
    assert response.status_code == 200, response.json
    return response.json["code"]


def give_consent(as_user, resident) -> None:
    """The resident consents to health processing, through the API."""
    assert as_user(resident).post("/api/v1/me/consent", json={}).status_code == 201


def scan(guard_client, code: str, gate_id: int, direction: str = "in", **extra):
    """POST one guard scan."""
    body = {"pass_code": code, "gate_id": gate_id, "direction": direction, "client_id": cid(), **extra}
    return guard_client.post("/api/v1/checkins", json=body)


def set_user(app, user_id: int, **values) -> None:
    """Change a user's columns directly."""
    with app.app_context():
        user = db.session.get(User, user_id)
        for key, value in values.items():
            setattr(user, key, value)
        db.session.commit()


def quarantine(app, world, *, user_id=None, household_id=None, start=T0 - timedelta(days=1), days=14) -> None:
    """Place a home-quarantine order."""
    with app.app_context():
        db.session.add(QuarantineOrder(compound_id=world.compound_a.id, user_id=user_id, household_id=household_id,
                                       reason="returned_from_city", starts_at=start,
                                       ends_at=start + timedelta(days=days)))
        db.session.commit()


def count(app, model, *where) -> int:
    """Rows of a model matching conditions."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def self_scan(client, gate_code: str, direction: str = "in", **extra):
    """POST a resident's scan of a gate code."""
    return client.post("/api/v1/checkins/self",
                       json={"gate_code": gate_code, "direction": direction, "client_id": cid(), **extra})


def gate_row(app, gate_id: int) -> Gate:
    """A gate, detached."""
    with app.app_context():
        return db.session.get(Gate, gate_id)


def set_emergency(app, compound_id: int, declared: bool = True) -> None:
    """Declare (or end) a public-health emergency at a compound."""
    with app.app_context():
        db.session.get(Compound, compound_id).health_emergency = declared
        db.session.commit()

