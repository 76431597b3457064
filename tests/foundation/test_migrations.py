"""Upgrading an empty database through every Alembic migration gives exactly the models' schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from server import create_app
from server.extensions import db
from tests.conftest import TEST_SECRET


def _fresh_url(database_url: str, tmp_path) -> str:
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'migrated.db'}"
    # PostgreSQL: a schema of its own on the same throwaway server
    return database_url


def test_upgrade_from_empty_matches_models(database_url, tmp_path):
    url = _fresh_url(database_url, tmp_path)
    postgres = url.startswith("postgresql")
    if postgres:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS migrated CASCADE"))
            conn.execute(text("CREATE SCHEMA migrated"))
        engine.dispose()
        url += ("&" if "?" in url else "?") + "options=-csearch_path%3Dmigrated"
    app = create_app({"WUYE_ENV": "testing", "WUYE_SECRET_KEY": TEST_SECRET, "WUYE_DATABASE_URL": url})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
            tables = set(inspect(conn).get_table_names())
        assert diff == [], f"models and migrations differ: {diff}"
        assert set(db.metadata.tables) <= tables
        if postgres:
            with db.engine.connect() as conn:
                exclusion = conn.scalar(text(
                    "SELECT c.contype FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
                    "WHERE n.nspname = 'migrated' AND c.conname = 'ex_shift_assignments_guard_overlap'"))
            assert exclusion == "x"  # the overlap constraint autogenerate cannot see
            with db.engine.connect() as conn:
                caretaking = conn.scalar(text(
                    "SELECT c.contype FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
                    "WHERE n.nspname = 'migrated' AND c.conname = 'ex_caretakings_compound_overlap'"))
            assert caretaking == "x"  # at most one active caretaking per compound
        downgrade(revision="base")
        with db.engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
    if postgres:
        engine = create_engine(database_url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA migrated CASCADE"))
        engine.dispose()
