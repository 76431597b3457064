"""`flask wuye backup` and `flask wuye restore`: a restore into a scratch database holds every table's
rows, proved by row counts and checksums per table (SQLite's online backup API; pg_dump/pg_restore)."""

from __future__ import annotations

import uuid
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from server.commands.backup import table_fingerprints
from server.extensions import db
from server.models.audit import AuditEntry


@contextmanager
def scratch_database(app, tmp_path):
    """The URL of an empty database of the same kind as the app's, dropped afterwards."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        yield url.set(database=str(tmp_path / "scratch.db"))
        return
    name = f"scratch_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _some_data(app, world, as_user):
    # Rows of many kinds: the world, a session and refresh token, audit entries with JSON details.
    staff = as_user(world.staff_a)
    assert staff.get(f"/api/v1/households/{world.household_a.id}/members").status_code == 200
    with app.app_context():
        db.session.add(AuditEntry(action="test.unicode", object_type="note", object_id="1",
                                  reason="备份测试 ' \" \\ ; --", detail={"k": ["v", 1, None]}))
        db.session.commit()


def _fingerprints(url):
    engine = create_engine(url)
    try:
        return table_fingerprints(engine)
    finally:
        engine.dispose()


def test_backup_then_restore_into_a_scratch_database_keeps_every_row(app, world, as_user, tmp_path):
    _some_data(app, world, as_user)
    runner = app.test_cli_runner()
    path = tmp_path / "wuye.backup"
    made = runner.invoke(args=["wuye", "backup", str(path)])
    assert made.exit_code == 0, made.output
    assert path.stat().st_size > 0 and not path.with_name(path.name + ".partial").exists()
    with app.app_context():
        source = table_fingerprints(db.engine)
    assert source["users"][0] >= 5 and source["audit_log"][0] >= 2
    assert sum(count for count, _ in source.values()) > 20

    with scratch_database(app, tmp_path) as scratch:
        url = scratch.render_as_string(hide_password=False)
        restored = runner.invoke(args=["wuye", "restore", str(path), "--into", url])
        assert restored.exit_code == 0, restored.output
        assert _fingerprints(url) == source


def test_restore_refuses_a_database_with_tables_unless_told_and_then_replaces_them(app, world, as_user, tmp_path):
    _some_data(app, world, as_user)
    runner = app.test_cli_runner()
    path = tmp_path / "wuye.backup"
    assert runner.invoke(args=["wuye", "backup", str(path)]).exit_code == 0
    with app.app_context():
        source = table_fingerprints(db.engine)
    with scratch_database(app, tmp_path) as scratch:
        url = scratch.render_as_string(hide_password=False)
        assert runner.invoke(args=["wuye", "restore", str(path), "--into", url]).exit_code == 0
        engine = create_engine(url)
        with engine.begin() as conn:  # the scratch copy drifts: a row changed, a row deleted
            conn.execute(text("UPDATE users SET display_name = 'changed'"))
            conn.execute(text("DELETE FROM audit_log WHERE action = 'test.unicode'"))
        engine.dispose()
        assert _fingerprints(url) != source
        refused = runner.invoke(args=["wuye", "restore", str(path), "--into", url])
        assert refused.exit_code != 0 and "--replace" in refused.output
        replaced = runner.invoke(args=["wuye", "restore", str(path), "--into", url, "--replace"])
        assert replaced.exit_code == 0, replaced.output
        assert _fingerprints(url) == source


def test_restore_refuses_a_file_that_is_not_a_backup(app, tmp_path):
    if make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() != "sqlite":
        pytest.skip("pg_restore's own check answers for PostgreSQL")
    bogus = tmp_path / "bogus.backup"
    bogus.write_bytes(b"not a database at all" * 100)
    result = app.test_cli_runner().invoke(
        args=["wuye", "restore", str(bogus), "--into", f"sqlite:///{tmp_path / 'target.db'}"])
    assert result.exit_code != 0 and "not a SQLite backup" in result.output
