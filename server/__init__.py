"""Wuye: the application factory."""

from __future__ import annotations

import importlib
import logging
import pkgutil

from flask import Flask, Response
from flask.sessions import SessionInterface
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from server.config import load_config
from server.security_headers import install_security_headers


class BearerOnlySessions(SessionInterface):
    """No cookie session: callers authenticate with bearer tokens, so Flask's signed-cookie session is never
    opened (it built a signer on every request) and `flask.session` refuses any write."""

    def open_session(self, app: Flask, request):  # noqa: D102 - Flask's interface
        return self.make_null_session(app)

    def save_session(self, app: Flask, session, response: Response) -> None:  # noqa: D102 - Flask's interface
        return None


def create_app(environ: dict | None = None, **overrides) -> Flask:
    """Build the app from WUYE_* settings (or an explicit environ mapping), plus overrides."""
    app = Flask(__name__, instance_relative_config=True, static_folder="../static", static_url_path="/static")
    app.config.update(load_config(environ, app.instance_path))
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.config.update(overrides)
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.session_interface = BearerOnlySessions()
    app.logger.setLevel(logging.INFO)

    from server.extensions import api, db, limiter, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(_migrations_dir()))
    limiter.init_app(app)
    api.init_app(app)

    from server.plumbing import replica

    replica.init_app(app)

    from server.openapi import prepare_spec, publish_reason_codes

    prepare_spec(api)

    from server.errors import register_error_handlers
    from server.request_commit import install_request_commit

    register_error_handlers(app)
    _wire_domains()
    app.url_map.converters["int"] = DatabaseIntConverter
    _register_blueprints(app, api)
    publish_reason_codes(api)
    # after_request hooks run in reverse order: the commit first, then the headers on whatever it answers.
    install_security_headers(app)
    install_request_commit(app)
    with app.app_context():
        _install_sqlite_pragmas()

    from server.api.pass_refresh import PassRefresh

    app.wsgi_app = PassRefresh(app, app.wsgi_app)  # the phones' plain pass refresh, answered below Flask
    if app.config["PROXY_HOPS"]:
        # Behind load balancers: the client address (rate limits, audit) comes from X-Forwarded-For.
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from server.cli import wuye_cli

    app.cli.add_command(wuye_cli)
    return app


def _wire_domains() -> None:
    """Connect the domains explicitly, never as a side effect of an import: a guard acts beyond the
    home post only where a lent shift is in progress, and closing a gate or changing a guard's post
    releases the roster's shifts there; the statistics count the alliance's incidents and supplies."""
    from server.scope import wire_guard_scope
    from server.services.alliance import statistics
    from server.services.alliance.statistics_alliance_sections import ALLIANCE_SECTIONS
    from server.services.gate import gates
    from server.services.people import people
    from server.services.roster.rosters import (
        guard_changed,
        on_duty_at_gate,
        on_duty_compound_ids,
        release_gate_shifts,
    )

    wire_guard_scope(compound_providers=(on_duty_compound_ids,), gate_checks=(on_duty_at_gate,))
    statistics.EXTRA_SECTIONS[:] = ALLIANCE_SECTIONS
    gates.GATE_CLOSED_HOOKS[:] = [release_gate_shifts]
    people.GUARD_CHANGED_HOOKS[:] = [guard_changed]


class DatabaseIntConverter(IntegerConverter):
    """`<int:id>` that only matches ids a database integer can hold: a larger one is a 404, not a 500."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def _migrations_dir():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent / "migrations"


def _register_blueprints(app: Flask, api) -> None:
    """Register every module of server.api that defines a `blp` (plain Flask blueprints: `bp`)."""
    import server.api as package

    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"server.api.{module_info.name}")
        if hasattr(module, "blp"):
            api.register_blueprint(module.blp, url_prefix="/api/v1" + (module.blp.url_prefix or ""))
        if hasattr(module, "bp"):
            app.register_blueprint(module.bp)


_PRAGMAS_INSTALLED = False


def _install_sqlite_pragmas() -> None:
    """WAL, NORMAL sync, foreign keys and a busy timeout on every SQLite connection."""
    global _PRAGMAS_INSTALLED
    if _PRAGMAS_INSTALLED:
        return
    _PRAGMAS_INSTALLED = True

    @event.listens_for(Engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):
        if type(dbapi_connection).__module__ != "sqlite3":
            return
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()

    @event.listens_for(Engine, "savepoint")
    def _sqlite_transaction_before_savepoint(conn, _name):
        # pysqlite opens a transaction only before DML; a SAVEPOINT outside one would start it, and
        # its RELEASE would then commit mid-request. IMMEDIATE takes the write lock at once (waiting
        # busy_timeout), so the savepoint's reads cannot go stale before its writes.
        dbapi = conn.connection.dbapi_connection
        if type(dbapi).__module__ == "sqlite3" and not dbapi.in_transaction:
            dbapi.execute("BEGIN IMMEDIATE")
