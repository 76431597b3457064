"""Reads that may be served by a PostgreSQL streaming replica: statistics and exports.

With WUYE_DATABASE_REPLICA_URL set, the replica is Flask-SQLAlchemy's bind "replica" and `reads()`
answers a session of its own on that engine, one per app context (a request, a command), closed
when the context ends. Its transactions are READ ONLY (the engine's `postgresql_readonly`) and it
refuses to flush, so nothing can be written through it, even if the URL named the primary by
mistake. Without a replica, `reads()` is `db.session` itself: the same rows, the same transaction.

Only reads that tolerate replication lag (a fraction of a second, or seconds under load) belong
here: aggregate figures and exports. A read whose answer must include what the same request just
wrote, and every scope check, stays on `db.session`. The replica's session is separate: an object
loaded through it is not the same object as the primary's, so keep to plain rows and values.
"""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy import event
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import Session

from server.extensions import db

REPLICA_BIND = "replica"


def replica_configured() -> bool:
    """Whether a replica is configured for this app."""
    return REPLICA_BIND in (current_app.config.get("SQLALCHEMY_BINDS") or {})


def reads() -> Session:
    """The session statistics and exports read through: the replica's when configured, else db.session."""
    if not replica_configured():
        return db.session
    session = g.get("_replica_session")
    if session is None:
        session = Session(bind=db.engines[REPLICA_BIND], autoflush=False, expire_on_commit=False,
                          info={"replica": True})
        event.listen(session, "before_flush", _refuse_writes)
        g._replica_session = session
    return session


def _refuse_writes(session, _flush_context, _instances) -> None:
    if session.new or session.dirty or session.deleted:
        raise InvalidRequestError("the replica session is read only: write through db.session")


def init_app(app: Flask) -> None:
    """Close the replica session at the end of each app context (it holds a pooled connection)."""

    @app.teardown_appcontext
    def _close_replica_session(_exc) -> None:
        session = g.pop("_replica_session", None)
        if session is not None:
            session.close()
