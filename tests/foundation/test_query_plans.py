"""The hot queries at a district's shape use indexes: no full scan of a large table, on either database.

A small synthetic district is generated and analysed; each hot request runs through the API (the purge
through its service) while a `before_cursor_execute` listener keeps the SQL actually sent, and each
statement's plan is read with the same parameters: SQLite's `EXPLAIN QUERY PLAN` must not `SCAN` a
large table (by its rows or by a whole index), PostgreSQL's `EXPLAIN (FORMAT JSON)` must not hold a
`Seq Scan` of one, nor an index scan without an index condition. PostgreSQL prefers sequential scans
on so few rows, so the check runs with `enable_seqscan = off`: a missing index still shows, as a
sequential scan or as a walk over a whole index.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from server.demo.synth import generate_district
from server.extensions import db
from server.models.alliance import Alliance
from server.models.checkins import CheckIn
from server.models.compounds import Compound, Gate
from server.models.people import User
from server.plumbing import hot_read
from server.plumbing.clock import local_today, utcnow
from server.services.gate.passes import issue_for
from server.services.people.retention import purge
from tests.factories import client_for, make_user

# Tables that grow with the district's households, days and traffic.
LARGE = {"checkins", "temperature_readings", "visitors", "users", "households", "delivery_requests",
         "delivery_items", "delivery_events", "quarantine_orders", "shifts", "shift_assignments", "audit_log",
         "notifications", "alerts", "supply_entries", "trips", "clock_events", "sessions", "checkin_hourly"}
DML = re.compile(r"^\s*(SELECT|WITH|UPDATE|DELETE|INSERT)\b", re.I)


@contextmanager
def captured(app) -> list[tuple[str, object]]:
    """The statements the application sends inside the block, with their parameters: through SQLAlchemy's
    Connection (its events) and as `HotRead`s (the caller, the guard scan's look-up and write)."""
    with app.app_context():
        engine = db.engine
    statements: list[tuple[str, object]] = []

    def keep(_conn, _cursor, statement, parameters, _context, executemany):
        if not executemany and DML.match(statement):
            statements.append((statement, parameters))

    fetch = hot_read._fetch

    def keep_hot(hot_engine, batch):
        statements.extend(batch)
        return fetch(hot_engine, batch)

    event.listen(engine, "before_cursor_execute", keep)
    hot_read._fetch = keep_hot
    try:
        yield statements
    finally:
        hot_read._fetch = fetch
        event.remove(engine, "before_cursor_execute", keep)


def _aliases(statement: str) -> dict[str, str]:
    """Alias -> table, for the large tables named in a statement (SQLite plans name the alias)."""
    names = {t: t for t in LARGE}
    for table, alias in re.findall(r"\b(\w+) AS (\w+)\b", statement):
        if table in LARGE:
            names[alias] = table
    return names


def full_scans_sqlite(cursor, statement: str, parameters, used: set[str]) -> list[str]:
    """SQLite plan lines that read a whole large table or a whole index of one (indexes used go to `used`)."""
    names = _aliases(statement)
    cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters or ())
    bad = []
    for row in cursor.fetchall():
        detail = row[-1]
        used.update(re.findall(r"USING (?:COVERING )?INDEX (\w+)", detail))
        match = re.match(r"SCAN (\w+)", detail)
        if match and match.group(1) in names and _rows(cursor, names[match.group(1)]) >= SMALL:
            bad.append(detail)
    return bad


# A table this small in the test district may rightly be scanned (SQLite's planner, reading ANALYZE's
# figures, sometimes walks a handful of visitors rather than looking each one up); every large
# table of the district is far bigger, so a missing index there still fails.
SMALL = 200


def _rows(cursor, table: str) -> int:
    cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - a name from LARGE
    return cursor.fetchone()[0]


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def full_scans_postgresql(cursor, statement: str, parameters, used: set[str]) -> list[str]:
    """PostgreSQL plan nodes that read a whole large table or a whole index of one (indexes used go to `used`)."""
    cursor.execute("EXPLAIN (FORMAT JSON) " + statement, parameters)
    document = cursor.fetchone()[0]
    plan = (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]
    bad = []
    for node in _nodes(plan):
        if "Index Name" in node:
            used.add(node["Index Name"])
        table = node.get("Relation Name")
        if table not in LARGE:
            continue
        if node["Node Type"] == "Seq Scan":
            bad.append(f"Seq Scan on {table} (filter {node.get('Filter')})")
        elif node["Node Type"] in ("Index Scan", "Index Only Scan") and "Index Cond" not in node:
            bad.append(f"{node['Node Type']} on {table} using {node['Index Name']} without a condition")
    return bad


def full_scans(statements: list[tuple[str, object]], used: set[str] | None = None) -> list[str]:
    """Every full scan of a large table in the plans of these statements; the indexes used go to `used`."""
    used = set() if used is None else used
    connection = db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        postgresql = db.engine.dialect.name == "postgresql"
        if postgresql:
            cursor.execute("SET enable_seqscan = off")
            # With sequential scans priced out, a hash or merge join would walk a whole primary key for the
            # few rows a page joins; nested loops look each one up, as a real district's plan does.
            cursor.execute("SET enable_hashjoin = off")
            cursor.execute("SET enable_mergejoin = off")
        found = []
        for statement, parameters in statements:
            scans = (full_scans_postgresql if postgresql else full_scans_sqlite)(cursor, statement, parameters,
                                                                                 used)
            found += [f"{scan}\n    in: {' '.join(statement.split())[:400]}" for scan in scans]
        return found
    finally:
        connection.rollback()
        connection.close()


@pytest.fixture
def district(app):
    """A district of four compounds with 30 days of traffic, analysed; the people the requests need."""
    with app.app_context():
        generate_district(4, 150, 30, seed=5)
        db.session.commit()
        with db.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
        # SQLite connections read the statistics when they open: pooled ones opened by earlier tests (after
        # an ANALYZE of another shape, e.g. the synth command's) would plan with stale figures.
        db.session.remove()
        db.engine.dispose()
        compound = db.session.scalar(select(Compound).order_by(Compound.id).limit(1))
        staff = db.session.scalar(select(User).where(User.role == "staff", User.compound_id == compound.id))
        guard = db.session.scalar(select(User).where(User.role == "guard", User.compound_id == compound.id)
                                  .order_by(User.id))
        subject = db.session.scalar(select(User).join(CheckIn, CheckIn.subject_user_id == User.id)
                                    .where(CheckIn.compound_id == compound.id, CheckIn.method == "guard_scan")
                                    .order_by(CheckIn.id.desc()).limit(1))
        # The exposure look-up needs a second person to approve it.
        second = make_user(db.session.get(Alliance, compound.alliance_id), "alliance_admin", name="王五")
        gate_id = db.session.scalar(select(CheckIn.gate_id).where(CheckIn.compound_id == compound.id).limit(1))
        db.session.commit()
        return {"compound_id": compound.id, "gate_id": gate_id, "staff": staff, "guard": guard,
                "subject": subject, "admin": second}


def _requests(app, d) -> dict[str, Callable[[], object]]:
    staff, guard = client_for(app, d["staff"]), client_for(app, d["guard"])
    c, gate, subject = d["compound_id"], d["gate_id"], d["subject"].id
    now = utcnow()
    with app.app_context():
        code = issue_for(db.session.merge(d["subject"])).code
        gate_code = db.session.get(Gate, gate).code
        db.session.commit()
    asked = staff.post("/api/v1/exposure-requests", json={
        "subject_user_id": subject, "window_start": (now - timedelta(days=3)).isoformat(),
        "window_end": now.isoformat(), "minutes": 15, "reason": "密接排查:确诊病例同楼"})
    assert asked.status_code == 201, asked.json
    approved = client_for(app, d["admin"]).post(f"/api/v1/exposure-requests/{asked.json['id']}/approve",
                                                        json={"note": "同意"})
    assert approved.status_code == 200, approved.json

    def ok(response):
        assert response.status_code in (200, 201), response.json
        return response

    return {
        "gate check-in list": lambda: ok(staff.get(f"/api/v1/gates/{gate}/checkins")),
        "compound check-in list": lambda: ok(staff.get(f"/api/v1/compounds/{c}/checkins")),
        "a person's check-ins": lambda: ok(staff.get(f"/api/v1/compounds/{c}/checkins?user_id={subject}")),
        "a person's temperatures": lambda: ok(staff.get(f"/api/v1/people/{subject}/temperatures")),
        "visitors inside": lambda: ok(guard.get(f"/api/v1/compounds/{c}/visitors/inside")),
        "exposure look-up": lambda: ok(staff.get(f"/api/v1/exposure-requests/{asked.json['id']}/contacts")),
        "hourly counts today": lambda: ok(staff.get(f"/api/v1/compounds/{c}/checkins/hourly")),
        "delivery queue": lambda: ok(staff.get(f"/api/v1/compounds/{c}/delivery-queue")),
        "roster week": lambda: ok(staff.get(f"/api/v1/compounds/{c}/roster?week={local_today('Asia/Shanghai').isoformat()}")),
        "guard-scan check-in": lambda: ok(guard.post("/api/v1/checkins", json={
            "pass_code": code, "gate_id": gate, "direction": "in", "client_id": "plan-1", "temperature": "36.5"})),
        "self check-in": lambda: ok(client_for(app, d["subject"]).post("/api/v1/checkins/self", json={
            "gate_code": gate_code, "direction": "out", "client_id": "plan-self-1"})),
    }


# A search by compound is no full scan, yet reads a compound's whole history: these must find their rows
# by the narrower index.
NARROWEST = {
    "gate check-in list": "ix_checkins_gate_time",
    "a person's check-ins": "ix_checkins_subject_time",
    "a person's temperatures": "ix_temperature_readings_subject_time",
    # The subject's passages by person and time, then the others' by gate and time.
    "exposure look-up": ("ix_checkins_subject_time", "ix_checkins_gate_time"),
    # (The rollup is read only once a local hour has closed today: its scan is checked, its index not required.)
    "hourly counts today": "ix_checkins_compound_time",
    "delivery queue": "ix_delivery_requests_queue",
    "roster week": "ix_shifts_compound_starts",
}


def test_hot_queries_use_indexes(app, district):
    requests = _requests(app, district)
    problems = []
    for name, request in requests.items():
        with captured(app) as statements:
            request()
        assert statements, name
        if name in ("guard-scan check-in", "self check-in"):  # its look-ups run as HotReads: their plans are read too
            assert any(sql.lstrip().startswith("SELECT gates.") for sql, _ in statements), statements
        used: set[str] = set()
        with app.app_context():
            problems += [f"{name}: {scan}" for scan in full_scans(statements, used)]
        wanted = NARROWEST.get(name, ())
        for index in (wanted,) if isinstance(wanted, str) else wanted:
            if index not in used:
                problems.append(f"{name}: {index} not used (used: {sorted(used)})")
    assert not problems, "full scans of large tables:\n" + "\n".join(problems)


def test_the_purge_finds_old_rows_by_index(app, district):
    with app.app_context():
        with captured(app) as statements:
            # A short retention, so every kind of row has some to delete (and each delete's plan is read,
            # with the look-ups its foreign keys make). Small batches: a batch of 500 ids is a fair share
            # of this small district's rows, and SQLite would rightly scan for it; in a district it is not.
            counts = purge(days=3, batch=20)
        assert counts["checkins"] > 0 and counts["quarantine_orders"] > 0 and counts["visitors"] > 0
        problems = full_scans(statements)
    assert not problems, "full scans of large tables:\n" + "\n".join(problems)
