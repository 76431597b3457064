"""/healthz (the process is alive) and /readyz (the database answers), for the load balancer."""

from flask import Blueprint
from sqlalchemy import text

from server.auth import public
from server.errors import error_body
from server.extensions import db

bp = Blueprint("probes", __name__)


@bp.get("/healthz")
@public
def healthz():
    """Alive."""
    return {"status": "ok"}


@bp.get("/readyz")
@public
def readyz():
    """Ready when the database answers a query."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means not ready
        db.session.rollback()
        return error_body(503, "unavailable"), 503, {"Retry-After": "5"}
    return {"status": "ready"}
