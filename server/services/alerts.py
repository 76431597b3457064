"""Raising alerts for staff; a dedupe key makes raising the same alert twice a no-op."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server.extensions import db
from server.models.alerts import Alert


def raise_alert(compound_id: int, kind: str, *, subject_user_id: int | None = None,
                household_id: int | None = None, detail: dict | None = None,
                dedupe_key: str | None = None) -> Alert:
    """Create an alert (or return the existing one with the same dedupe key)."""
    if dedupe_key is not None:
        existing = db.session.scalar(select(Alert).where(Alert.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    alert = Alert(compound_id=compound_id, kind=kind, subject_user_id=subject_user_id,
                  household_id=household_id, detail=detail or {}, dedupe_key=dedupe_key)
    try:
        with db.session.begin_nested():
            db.session.add(alert)
    except IntegrityError:
        # Another worker raised it between our look and our insert.
        return db.session.scalar(select(Alert).where(Alert.dedupe_key == dedupe_key))
    return alert
