"""Hot reads on PostgreSQL through libpq (`server.plumbing.pg_prepared`): prepared once per connection, prepared
again when the server dropped them, and a lost connection an OperationalError that leaves the pool."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, create_engine, func, select, text
from sqlalchemy.exc import OperationalError

from server.extensions import db
from server.models.people import User
from server.plumbing.hot_read import HotRead
from server.plumbing.pg_prepared import numbered

BACKEND = HotRead(select(func.pg_backend_pid().label("pid"), User.id).where(User.id == bindparam("user_id")),
                  "Backend")


def test_named_parameters_become_numbered_ones_in_order_of_first_use():
    sql, names = numbered("SELECT %(b)s::INTEGER, %(a)s::VARCHAR, %(b)s::INTEGER WHERE x LIKE 'a%%'")
    assert sql == "SELECT $1::INTEGER, $2::VARCHAR, $1::INTEGER WHERE x LIKE 'a%'"
    assert names == ("b", "a")


@pytest.fixture
def one_connection(app, ctx):
    """An engine of one pooled PostgreSQL connection, so every hot read and check lands on it."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("prepared through libpq on PostgreSQL only")
    engine = create_engine(db.engine.url, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def _prepared_names(engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.scalars(text("SELECT name FROM pg_prepared_statements "
                                            "WHERE name LIKE 'wuye_hot_%' ORDER BY name")))


def test_a_statement_is_prepared_once_per_connection_and_again_after_the_server_dropped_it(one_connection, world):
    params = {"user_id": world.resident_a.id}
    first = BACKEND.one_or_none(one_connection, params)
    assert first.id == world.resident_a.id
    assert BACKEND.one_or_none(one_connection, params) == first  # the same connection, the same statement
    assert _prepared_names(one_connection) == ["wuye_hot_0"]
    with one_connection.connect() as connection:
        connection.execute(text("DEALLOCATE ALL"))  # as a pooler or an operator might
        connection.commit()
    assert BACKEND.one_or_none(one_connection, params) == first
    assert _prepared_names(one_connection) == ["wuye_hot_1"]  # a new name: an old one is never reused


def test_a_lost_connection_is_an_operational_error_and_the_next_read_gets_a_new_one(one_connection, world):
    params = {"user_id": world.resident_a.id}
    pid = BACKEND.one_or_none(one_connection, params).pid
    with db.engine.connect() as other:
        assert other.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}) is True
    with pytest.raises(OperationalError):  # answered 503 with Retry-After by the view layer
        BACKEND.one_or_none(one_connection, params)
    again = BACKEND.one_or_none(one_connection, params)
    assert again.id == world.resident_a.id and again.pid != pid
