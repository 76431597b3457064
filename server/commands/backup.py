"""`flask wuye backup PATH` and `flask wuye restore PATH`: a consistent copy of the database, and back.

SQLite is copied with its online backup API (a consistent snapshot while the app keeps writing);
PostgreSQL with `pg_dump --format=custom` and restored with `pg_restore` in one transaction. Each
command prints the row count and checksum of every table, so a restore can be compared with its
backup (`table_fingerprints`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import click
from sqlalchemy import MetaData, create_engine, inspect, select
from sqlalchemy.engine import URL, Engine, make_url

# Debian's place for the PostgreSQL 15 client; PATH is searched when it is not there.
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def register(group) -> None:
    """Add the backup and restore commands to `flask wuye`."""

    @group.command("backup")
    @click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
    def backup_command(path: Path) -> None:
        """Write a consistent backup of the database to PATH (SQLite file, or pg_dump's custom format)."""
        url = _app_url()
        backup(url, path)
        click.echo(f"backup written to {path} ({path.stat().st_size} bytes)")
        _print_fingerprints(_engine(url))

    @group.command("restore")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--into", "into", default=None,
                  help="database URL to restore into (a scratch database); default: the app's own")
    @click.option("--replace", is_flag=True, help="replace the tables of a database that already has some")
    def restore_command(path: Path, into: str | None, replace: bool) -> None:
        """Restore a backup made by `flask wuye backup` (stop the app first when restoring its own database)."""
        url = _normalise(into) if into else _app_url()
        try:
            restore(path, url, replace=replace)
        except RestoreRefused as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"restored {path} into {url.render_as_string(hide_password=True)}")
        _print_fingerprints(_engine(url))


class RestoreRefused(RuntimeError):
    """The target already holds tables and --replace was not given, or the backup is not usable."""


def _app_url() -> URL:
    from flask import current_app

    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def _normalise(raw: str) -> URL:
    url = make_url(raw)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url


def _engine(url: URL) -> Engine:
    return create_engine(url)


def backup(url: URL, path: Path) -> None:
    """Write a consistent copy of the database at `url` to `path` (atomically: a temporary file, then renamed)."""
    path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    if url.get_backend_name() == "sqlite":
        _sqlite_copy(_sqlite_path(url), partial)
    elif url.get_backend_name() == "postgresql":
        _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
              f"--file={partial}", f"--dbname={_libpq_url(url)}"], url)
    else:
        raise click.ClickException(f"no backup for {url.get_backend_name()} databases")
    os.replace(partial, path)


def restore(path: Path, url: URL, *, replace: bool = False) -> None:
    """Restore `path` into the database at `url`; a database that has tables needs `replace`."""
    engine = _engine(url)
    try:
        has_tables = bool(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    if has_tables and not replace:
        raise RestoreRefused("the target database already has tables: pass --replace to overwrite them")
    if url.get_backend_name() == "sqlite":
        _check_sqlite_backup(path)
        _sqlite_copy(path, _sqlite_path(url))
    elif url.get_backend_name() == "postgresql":
        clean = ["--clean", "--if-exists"] if has_tables else []
        _run([_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--single-transaction",
              "--exit-on-error", *clean, f"--dbname={_libpq_url(url)}", str(path)], url)
    else:
        raise click.ClickException(f"no restore for {url.get_backend_name()} databases")


def table_fingerprints(engine: Engine) -> dict[str, tuple[int, str]]:
    """Every table's row count and a SHA-256 of its rows in primary-key order."""
    metadata = MetaData()
    metadata.reflect(bind=engine)
    fingerprints = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            digest, count = hashlib.sha256(), 0
            for row in conn.execute(select(table).order_by(*order)):
                digest.update(repr(tuple(row)).encode())
                count += 1
            fingerprints[table.name] = (count, digest.hexdigest())
    return fingerprints


def _print_fingerprints(engine: Engine) -> None:
    try:
        for name, (count, digest) in sorted(table_fingerprints(engine).items()):
            click.echo(f"  {name}: {count} rows, sha256 {digest[:16]}")
    finally:
        engine.dispose()


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise click.ClickException("an in-memory SQLite database cannot be backed up or restored")
    return Path(url.database)


def _sqlite_copy(source: Path, target: Path) -> None:
    # The online backup API copies a consistent snapshot page by page, WAL included, while others write.
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _check_sqlite_backup(path: Path) -> None:
    try:
        conn = sqlite3.connect(path)
        try:
            result = conn.execute("PRAGMA integrity_check").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise RestoreRefused(f"{path} is not a SQLite backup: {exc}") from exc
    if result is None or result[0] != "ok":
        raise RestoreRefused(f"{path} fails SQLite's integrity check: {result}")


def _pg_tool(name: str) -> str:
    candidate = PG_BIN / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise click.ClickException(f"{name} not found (install postgresql-client-15)")
    return found


def _libpq_url(url: URL) -> str:
    # The password goes through the environment (PGPASSWORD), not the command line others can read.
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)


def _run(command: list[str], url: URL) -> None:
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise click.ClickException(f"{Path(command[0]).name} failed: {result.stderr.strip()[-2000:]}")
