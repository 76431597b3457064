"""The bulk loader of synthetic districts: what it drops for the load comes back, and is checked."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from server.demo.bulk import BulkLoader
from server.demo.synth import BULK_TABLES, generate_district
from server.demo.synth_checkins import CHECKIN_COLUMNS
from server.extensions import db
from server.models.base import Base
from tests.factories import build_world


def _schema_of(table_name: str) -> dict[str, set]:
    """Index, unique-key and foreign-key names of a table, as the database has them."""
    inspector = inspect(db.session.connection())
    return {"indexes": {i["name"] for i in inspector.get_indexes(table_name)},
            "unique": {u["name"] for u in inspector.get_unique_constraints(table_name)},
            "foreign": {f["name"] for f in inspector.get_foreign_keys(table_name)}}


def test_a_load_leaves_every_index_and_key_of_the_bulk_tables(ctx):
    before = {name: _schema_of(name) for name in BULK_TABLES}
    # The models' own names: nothing the migrations made is missing to begin with.
    checkins = Base.metadata.tables["checkins"]
    assert {i.name for i in checkins.indexes} <= before["checkins"]["indexes"]
    assert "fk_checkins_gate_id_gates" in before["checkins"]["foreign"]
    assert "uq_checkins_author_id_client_id" in before["checkins"]["unique"] | before["checkins"]["indexes"]
    progress: list[str] = []
    counts = generate_district(2, 30, 2, seed=3, progress=progress.append)
    db.session.flush()
    assert counts["checkins"] > 0
    assert {name: _schema_of(name) for name in BULK_TABLES} == before
    if db.engine.dialect.name == "postgresql":
        assert "adding and checking fk_checkins_gate_id_gates" in progress


def test_a_row_that_breaks_a_foreign_key_fails_the_load(ctx):
    world = build_world()
    db.session.flush()
    loader = BulkLoader(db.session.connection())
    now = datetime.now(UTC)
    row = (loader.next_id("checkins"), world.compound_a.id, world.gate_a.id + 1000, world.resident_a.id,
           world.household_a.id, "", "in", "self_scan", "allowed", "ok", [], None, "", None, world.resident_a.id,
           "broken-1", "synth", now, now, "public_health_emergency", {})
    # SQLite checks it as the row goes in; PostgreSQL when the key is added back at the end of the load.
    with pytest.raises((IntegrityError, sqlite3.IntegrityError)):
        with loader.indexes_and_keys_deferred("checkins"):
            loader.write("checkins", CHECKIN_COLUMNS, [row])
    db.session.rollback()
    assert "fk_checkins_gate_id_gates" in _schema_of("checkins")["foreign"]
