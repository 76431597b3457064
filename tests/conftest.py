"""Test harness: the app on SQLite (default) or PostgreSQL (WUYE_TEST_DATABASE_URL), clean tables per
test, a small standard world of two companies, and API clients signed in as each role."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import text

from server import create_app
from server.extensions import db, limiter
from server.plumbing import hot_read
from tests.factories import World, build_world, client_for
from tests.fakes.wechat_server import fake_wechat  # noqa: F401 - a fixture

TEST_SECRET = "test-secret-" + "x" * 40


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """PostgreSQL when `make test` started one, else a SQLite file (threads need a real file)."""
    return os.environ.get("WUYE_TEST_DATABASE_URL") or \
        f"sqlite:///{tmp_path_factory.mktemp('db') / 'wuye-test.db'}"


@pytest.fixture(scope="session")
def app(database_url):
    """The application, with every table created once for the session."""
    app = create_app({"WUYE_ENV": "testing", "WUYE_SECRET_KEY": TEST_SECRET, "WUYE_DATABASE_URL": database_url,
                      "WUYE_WECHAT_APP_ID": "wx-fake-appid", "WUYE_WECHAT_APP_SECRET": "fake-app-secret",
                      "WUYE_PUBLIC_BASE_URL": "https://wuye.example.cn"})
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _clean(app) -> None:
    with app.app_context():
        db.session.remove()
        tables = db.metadata.sorted_tables
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                names = ", ".join(f'"{t.name}"' for t in tables)
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in reversed(tables):
                    conn.execute(table.delete())


@pytest.fixture(autouse=True)
def _clean_tables(request, app):
    """Every test starts from empty tables and a fresh rate limiter."""
    limiter.reset()
    yield
    _clean(app)


@pytest.fixture
def ctx(app):
    """An app context for tests that call services directly."""
    with app.app_context():
        yield
        db.session.rollback()


@pytest.fixture
def client(app):
    """An anonymous test client."""
    return app.test_client()


@pytest.fixture
def world(app) -> World:
    """Two companies (A, B), a compound each plus one with no company, and a user of every role."""
    with app.app_context():
        w = build_world()
        db.session.commit()
        return w


@pytest.fixture
def hot_reads(monkeypatch) -> list[str]:
    """The SQL of each `HotRead` statement sent from here on (the caller's row, the guard scan's look-up and
    write: outside SQLAlchemy's events); a commit on their connection is recorded as "COMMIT"."""
    seen: list[str] = []
    fetch = hot_read._fetch

    def recorded(engine, batch):
        seen.extend(sql for sql, _ in batch)
        rows = fetch(engine, batch)
        if len(batch) > 1 and len(rows) == len(batch):
            seen.append("COMMIT")
        return rows

    monkeypatch.setattr(hot_read, "_fetch", recorded)
    return seen


@pytest.fixture
def as_user(app):
    """as_user(user) -> a client that sends that user's bearer token with every request."""
    return lambda user: client_for(app, user)


@pytest.fixture
def wechat_app(app, fake_wechat):  # noqa: F811 - the fixture imported above
    """The app pointed at the fake WeChat server for this test."""
    old = app.config["WECHAT_API_BASE"]
    app.config["WECHAT_API_BASE"] = fake_wechat.base_url
    yield fake_wechat
    app.config["WECHAT_API_BASE"] = old
