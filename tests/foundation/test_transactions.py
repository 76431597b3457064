"""One commit per request: a savepoint never commits on its own, on SQLite as on PostgreSQL."""

from __future__ import annotations

from sqlalchemy import func, select

from server.extensions import db
from server.models.alliance import Alliance


def test_savepoint_release_does_not_commit(app, ctx):
    db.session.scalar(select(func.count()).select_from(Alliance))  # a read first, as a request does
    with db.session.begin_nested():
        db.session.add(Alliance(name="临时联盟"))
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Alliance)) == 0


def test_savepoint_rollback_keeps_the_outer_work(app, ctx):
    db.session.add(Alliance(name="外层"))
    db.session.flush()
    try:
        with db.session.begin_nested():
            db.session.add(Alliance(name="外层"))  # unique name: fails inside the savepoint only
            db.session.flush()
    except Exception:  # noqa: BLE001 - the integrity error is the point
        pass
    db.session.commit()
    assert db.session.scalars(select(Alliance.name)).all() == ["外层"]
