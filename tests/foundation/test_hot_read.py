"""The caller's row read outside SQLAlchemy's Connection (`server.plumbing.hot_read`), on SQLite and PostgreSQL:
the same values as the ORM reads, nothing left behind on the pooled connection, errors as SQLAlchemy's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Float, Numeric, bindparam, cast, create_engine, func, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError

from server.extensions import db
from server.models.alliance import Alliance
from server.models.people import User
from server.plumbing.hot_read import HotRead, in_one_transaction

USER_BY_ID = HotRead(select(*User.__table__.c).where(User.id == bindparam("user_id"),
                                                     User.role == bindparam("role")), "UserRow")


def test_the_row_has_the_orm_s_values_and_types(app, world, ctx):
    user = db.session.get(User, world.resident_a.id)
    user.lives_alone = True
    db.session.commit()
    row = USER_BY_ID.one_or_none(db.engine, {"role": "resident", "user_id": world.resident_a.id})
    expected = {column.key: getattr(user, column.key) for column in User.__table__.c}
    # SQLite keeps dates as text and booleans as integers: the column types' processors turn them back.
    assert row._asdict() == expected
    assert row.lives_alone is True and row.is_active is True and isinstance(row.created_at, datetime)
    # Both parameters are bound by name, whatever order the dialect's placeholders take.
    assert USER_BY_ID.one_or_none(db.engine, {"role": "guard", "user_id": world.resident_a.id}) is None


def test_the_pooled_connection_still_serves_transactions(app, world, ctx):
    """The read leaves no transaction or mode behind: a write after it on the same connection rolls back."""
    engine = create_engine(db.engine.url, pool_size=1, max_overflow=0)  # one connection: the read's and the write's
    try:
        assert USER_BY_ID.one_or_none(engine, {"role": "resident", "user_id": world.resident_a.id}) is not None
        with engine.connect() as connection:
            connection.execute(Alliance.__table__.insert().values(name="不该留下"))
            connection.rollback()
            assert connection.scalar(select(func.count()).select_from(Alliance).where(
                Alliance.name == "不该留下")) == 0
    finally:
        engine.dispose()


def test_a_database_it_cannot_reach_is_sqlalchemy_s_operational_error(app, ctx, tmp_path):
    """The view layer answers SQLAlchemy's OperationalError with 503; a raw driver error would be a 500."""
    if db.engine.dialect.name == "postgresql":
        url = db.engine.url.set(host="127.0.0.1", port=1, query={})  # nothing listens on port 1
    else:
        url = f"sqlite:///{tmp_path}/no-such-dir/wuye.db"
    engine = create_engine(url)
    try:
        with pytest.raises(OperationalError):
            USER_BY_ID.one_or_none(engine, {"role": "resident", "user_id": 1})
    finally:
        engine.dispose()


def test_parameters_go_through_their_types_and_the_statement_keeps_its_own_values(app, world, ctx):
    """A time is bound as its column stores it (SQLite keeps text), and a value written into the statement
    (`role == "resident"`) is bound without the caller passing it."""
    created = db.session.get(User, world.resident_a.id).created_at
    read = HotRead(select(User.id).where(User.id == bindparam("user_id"), User.created_at == bindparam("at"),
                                         User.role == "resident"), "Row")
    assert read.one_or_none(db.engine, {"user_id": world.resident_a.id, "at": created}) == (world.resident_a.id,)
    later = created + timedelta(microseconds=1)
    assert read.one_or_none(db.engine, {"user_id": world.resident_a.id, "at": later}) is None


def test_numbers_come_back_as_the_orm_reads_them(app, ctx):
    """A Numeric column comes back a Decimal of its scale and a Float a float, on both databases (psycopg's
    processor must be told PostgreSQL's numeric from float8 without a cursor to ask)."""
    read = HotRead(select(cast(bindparam("t", type_=Numeric(4, 1)), Numeric(4, 1)).label("t"),
                          cast(bindparam("f", type_=Float), Float).label("f")), "Numbers")
    assert read.one_or_none(db.engine, {"t": Decimal("37.0"), "f": 0.25}) == (Decimal("37.0"), 0.25)
    row = read.one_or_none(db.engine, {"t": Decimal("36.5"), "f": 1.5})
    assert isinstance(row.t, Decimal) and str(row.t) == "36.5" and isinstance(row.f, float)


def test_a_write_that_clashes_is_an_integrity_error_and_its_connection_serves_on(app, world, ctx):
    """PostgreSQL runs a SELECT carrying a data-modifying WITH alone, as its own transaction (the guard scan's
    write): a unique key it breaks is SQLAlchemy's IntegrityError, and the pooled connection serves on,
    a transaction on it still rolling back."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a data-modifying WITH is PostgreSQL's")
    table = Alliance.__table__
    # Every column is given: a HotRead computes no Python-side default (the guard scan's write gives all).
    columns = ("id", "name", "region", "created_at")
    inserted = insert(table).values({c: bindparam(c) for c in columns}).returning(table.c.id).cte("inserted")
    write = HotRead(select(inserted.c.id), "Inserted")
    engine = create_engine(db.engine.url, pool_size=1, max_overflow=0)  # one connection: the write's and the next
    try:
        taken = db.session.scalar(select(Alliance.id).limit(1))
        with pytest.raises(IntegrityError):
            write.one_or_none(engine, {"id": taken, "name": "同号", "region": "", "created_at": datetime.now(UTC)})
        fresh = write.one_or_none(engine, {"id": 900_001, "name": "自动提交", "region": "",
                                           "created_at": datetime.now(UTC)})
        assert fresh == (900_001,)  # committed on its own
        with engine.connect() as connection:
            connection.execute(table.insert().values(name="不该留下", region=""))
            connection.rollback()
            assert connection.scalar(select(func.count()).select_from(Alliance).where(Alliance.name == "不该留下")) == 0
            assert connection.scalar(select(func.count()).select_from(Alliance).where(Alliance.id == 900_001)) == 1
    finally:
        engine.dispose()


def test_a_write_that_leaves_a_python_default_out_is_refused(app, ctx):
    """A column whose default only Python computes (`created_at`, `region`) would go in as NULL: refused at
    the first run instead, naming the columns to give."""
    table = Alliance.__table__
    inserted = insert(table).values(name=bindparam("name")).returning(table.c.id).cte("inserted")
    with pytest.raises(ValueError, match="region"):
        HotRead(select(inserted.c.id), "Inserted").one_or_none(db.engine, {"name": "缺省"})


def test_statements_in_one_transaction_commit_together_or_not_at_all(app, ctx):
    """`in_one_transaction` (SQLite's guard-scan write: the row, then its count) commits when every statement
    answered a row and rolls back everything at the first that answers none; a clash in the second
    statement undoes the first's insert too."""
    table = Alliance.__table__
    columns = ("name", "region", "created_at")
    insert_one = HotRead(insert(table).values({c: bindparam(c) for c in columns}).returning(table.c.id), "Inserted")
    named = HotRead(select(Alliance.id).where(Alliance.name == bindparam("other")), "Named")
    now = datetime.now(UTC)

    def count(name: str) -> int:
        return db.session.scalar(select(func.count()).select_from(Alliance).where(Alliance.name == name))

    row = in_one_transaction(db.engine, [(insert_one, {"name": "一起提交", "region": "", "created_at": now}),
                                         (named, {"other": "一起提交"})])
    assert row is not None and row.id == db.session.scalar(select(Alliance.id).where(Alliance.name == "一起提交"))
    assert in_one_transaction(db.engine, [(insert_one, {"name": "一起撤回", "region": "", "created_at": now}),
                                          (named, {"other": "没有这个"})]) is None
    assert count("一起撤回") == 0
    with pytest.raises(IntegrityError):  # names are unique: the second insert clashes, the first is undone
        in_one_transaction(db.engine, [(insert_one, {"name": "先插入", "region": "", "created_at": now}),
                                       (insert_one, {"name": "一起提交", "region": "", "created_at": now})])
    assert count("先插入") == 0 and count("一起提交") == 1
    # The pooled connections are left with nothing open: a session's write still commits and is seen.
    db.session.add(Alliance(name="之后", region=""))
    db.session.commit()
    assert count("之后") == 1
