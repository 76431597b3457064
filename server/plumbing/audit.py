"""Writing the audit log: every export or bulk read of personal data, and sensitive actions."""

from __future__ import annotations

from flask import has_request_context, request

from server.extensions import db
from server.models.audit import AuditEntry
from server.models.people import User
from server.plumbing.request_caller import caller_if_authenticated


def record(action: str, *, actor: User | None = None, object_type: str = "", object_id: object = "",
           compound_id: int | None = None, reason: str = "", detail: dict | None = None) -> AuditEntry:
    """Add one audit entry (flushed with the request's transaction)."""
    if actor is None:
        actor = caller_if_authenticated()
    entry = AuditEntry(
        actor_id=actor.id if actor else None,
        actor_role=actor.role if actor else "system",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        compound_id=compound_id,
        reason=reason,
        detail=detail or {},
        ip=(request.remote_addr or "") if has_request_context() else "",
    )
    db.session.add(entry)
    db.session.flush()
    return entry
