"""Statistics and exports read from a real PostgreSQL streaming replica; writes never go there.

The replica is `pg_basebackup -R` of the throwaway primary, a hot standby on a socket of its own.
Pausing its replay makes the proof exact: while paused, what the primary got is not in the answer.
"""

from __future__ import annotations

import csv
import io
import time

import psycopg
import pytest
from sqlalchemy import event, func, select, text, update
from sqlalchemy.exc import DBAPIError, InvalidRequestError

from server import create_app
from server.extensions import db
from server.models.audit import AuditEntry
from server.models.compounds import Compound, Household
from server.plumbing.replica import reads
from tests.conftest import TEST_SECRET
from tests.factories import client_for, make_household
from tests.hosts.processes import Replica


@pytest.fixture
def replica(database_url):
    server = Replica(database_url)
    try:
        server.start()
    except Exception as exc:  # noqa: BLE001 - the replica's own log says why
        server.stop()
        raise RuntimeError(f"the replica did not start: {exc}\n{server.log()}") from exc
    yield server
    server.stop()


@pytest.fixture
def replicated_app(app, world, database_url, replica):
    """The app of a host configured with the replica; compound A has declared an emergency."""
    with app.app_context():
        db.session.get(Compound, world.compound_a.id).health_emergency = True
        db.session.commit()
    host = create_app({"WUYE_ENV": "testing", "WUYE_SECRET_KEY": TEST_SECRET, "WUYE_DATABASE_URL": database_url,
                       "WUYE_DATABASE_REPLICA_URL": replica.url, "WUYE_PUBLIC_BASE_URL": "https://wuye.example.cn"})
    yield host
    with host.app_context():
        for engine in db.engines.values():
            engine.dispose()


class _Statements:
    """The SQL each engine ran, by bind name."""

    def __init__(self, host):
        self.by_bind: dict[str, list[str]] = {"primary": [], "replica": []}
        with host.app_context():
            for name, engine in (("primary", db.engines[None]), ("replica", db.engines["replica"])):
                event.listen(engine, "before_cursor_execute", self._recorder(name))

    def _recorder(self, name):
        def record(_conn, _cursor, statement, *_args):
            self.by_bind[name].append(" ".join(statement.split()).upper())
        return record

    def clear(self):
        for statements in self.by_bind.values():
            statements.clear()

    def writes(self, name):
        return [s for s in self.by_bind[name] if s.startswith(("INSERT", "UPDATE", "DELETE"))]


def _wait_for(condition, seconds=15.0):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the replica did not catch up in time")
        time.sleep(0.1)


def _control(replica, sql):
    with psycopg.connect(host=str(replica.dir), port=replica.port, user="wuye", dbname="wuye",
                         autocommit=True) as conn:
        conn.execute(sql)


def _export_rows(staff, compound_id):
    answer = staff.get(f"/api/v1/compounds/{compound_id}/temperatures/export")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return list(csv.reader(io.StringIO(answer.data.decode("utf-8-sig"))))[1:]


def test_statistics_and_exports_read_the_replica_and_never_write_there(app, world, replicated_app, replica):
    host, w = replicated_app, world
    statements = _Statements(host)
    with host.app_context():
        # reads() is the replica's session, db.session the primary's.
        assert reads().scalar(text("SELECT pg_is_in_recovery()")) is True
        assert db.session.scalar(text("SELECT pg_is_in_recovery()")) is False
        # Nothing is written through it: the database refuses a statement, the session a flush.
        with pytest.raises(DBAPIError, match="read-only transaction"):
            reads().execute(update(Compound).where(Compound.id == w.compound_a.id).values(name="改名"))
        reads().rollback()
        _wait_for(lambda: reads().get(Compound, w.compound_a.id) is not None)
        reads().get(Compound, w.compound_a.id).name = "改名"
        with pytest.raises(InvalidRequestError, match="read only"):
            reads().flush()
        reads().rollback()
        households = db.session.scalar(select(func.count()).select_from(Household))
        _wait_for(lambda: reads().scalar(select(func.count()).select_from(Household)) == households)

    staff, guard = client_for(host, w.staff_a), client_for(host, w.guard_a)
    _wait_for(lambda: staff.get("/api/v1/alliance").status_code == 200)  # the session reached the replica
    before = staff.get("/api/v1/alliance").json["totals"]["households"]
    assert before == households and _export_rows(staff, w.compound_a.id) == []

    _control(replica, "SELECT pg_wal_replay_pause()")
    try:
        # Written on the primary while the replica stands still: a reading through the API, a household.
        measured = guard.post(f"/api/v1/gates/{w.gate_a.id}/temperatures",
                              json={"subject_user_id": w.resident_a.id, "celsius": 37.4})
        assert measured.status_code == 201, measured.get_data(as_text=True)
        with host.app_context():
            make_household(db.session.get(Compound, w.compound_a.id), "9号楼", room="901")
            db.session.commit()
        statements.clear()
        # The export and the statistics do not show them yet: they were read from the replica ...
        assert _export_rows(staff, w.compound_a.id) == []
        assert staff.get("/api/v1/alliance").json["totals"]["households"] == before
        assert any("FROM TEMPERATURE_READINGS" in s for s in statements.by_bind["replica"])
        assert not any("FROM TEMPERATURE_READINGS" in s for s in statements.by_bind["primary"])
        # ... while the export's audit row went to the primary, and nothing was written to the replica.
        assert any(s.startswith("INSERT INTO AUDIT_LOG") for s in statements.writes("primary"))
        assert statements.writes("replica") == []
    finally:
        _control(replica, "SELECT pg_wal_replay_resume()")

    # Once replicated, the same reads show what the primary got.
    _wait_for(lambda: len(_export_rows(staff, w.compound_a.id)) == 1)
    assert _export_rows(staff, w.compound_a.id)[0][3] == "37.4"
    assert staff.get("/api/v1/alliance").json["totals"]["households"] == before + 1
    with app.app_context():
        exports = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "temperature.export")).all()
        assert len(exports) >= 4  # every export audited, on the primary
    assert statements.writes("replica") == []
