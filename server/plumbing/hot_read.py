"""A prebuilt one-row statement run straight on a pooled DBAPI connection, outside the request's session.

Written by hand for the hottest statements: the caller's row, which every authenticated request
reads, the look-ups of the guard and self scans (the gate and the person, a retry), and their common
write: on PostgreSQL a SELECT carrying a data-modifying WITH, which run alone on an idle connection
is its own transaction (each statement prepared once per connection through libpq: `pg_prepared`),
on SQLite the insert and the count as two statements of one transaction
(`in_one_transaction`, `checkin_rows`). Through
SQLAlchemy's `Connection.execute` it cost about 0.3 ms of CPU (execution context, result metadata,
a description object per column) plus, on PostgreSQL, a BEGIN and a COMMIT round trip: a third
of a pass refresh, the request every shown phone makes each minute. The SQL is still SQLAlchemy's,
compiled once per dialect from the models; the parameters go through each bind's type processor
(SQLite's dates, JSON), the row through each column type's result processor (SQLite's dates and
booleans), and a driver error still surfaces as SQLAlchemy's
(`OperationalError` answers 503), with a dropped connection invalidated in the pool.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Executable
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import sqltypes

from server.plumbing import pg_prepared


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positions: tuple[str, ...] | None  # parameter names in order, for positional paramstyles (SQLite's ?)
    processors: tuple
    bind_processors: tuple[tuple[str, Any], ...]  # (parameter name, its type's processor) where it has one
    literals: dict[str, Any]  # the values of the statement's own parameters (`Trip.kind == "return"`)


class HotRead:
    """One prebuilt statement answering at most one row (a SELECT, or a write with RETURNING); rows come back
    as a named tuple of its columns."""

    def __init__(self, statement: Executable, row_name: str) -> None:
        self.statement = statement
        self.row_type = namedtuple(row_name, [column.key for column in statement.exported_columns])
        self._compiled: dict[str, _Compiled] = {}  # per dialect name: a pure function of the code

    def _compile(self, engine: Engine) -> _Compiled:
        dialect = engine.dialect
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            sql = self.statement.compile(dialect=dialect)
            # SQLAlchemy's execution context would compute these; here they would go in as NULL.
            defaulted = [column.name for column in (*sql.insert_prefetch, *sql.update_prefetch)]
            computed = [name for name, bind in sql.binds.items() if bind.callable is not None]
            if defaulted or computed:
                raise ValueError(f"a HotRead computes no Python-side value: give {defaulted or computed} explicitly")
            processors = tuple(
                column.type.dialect_impl(dialect).result_processor(dialect, _type_code(column.type, dialect))
                for column in self.statement.exported_columns)
            binds = ((name, bind.type.dialect_impl(dialect).bind_processor(dialect))
                     for name, bind in sql.binds.items())
            compiled = _Compiled(sql.string, tuple(sql.positiontup) if sql.positional else None, processors,
                                 tuple((name, process) for name, process in binds if process is not None),
                                 {name: bind.effective_value for name, bind in sql.binds.items() if not bind.required})
            self._compiled[dialect.name] = compiled
        return compiled

    def _arguments(self, engine: Engine, params: dict[str, Any]) -> tuple[_Compiled, dict | tuple]:
        compiled = self._compile(engine)
        params = {**compiled.literals, **params}
        params.update((name, process(params[name])) for name, process in compiled.bind_processors)
        return compiled, tuple(params[name] for name in compiled.positions) if compiled.positions else params

    def _row(self, engine: Engine, row: tuple | None) -> tuple | None:
        if row is None:
            return None
        processors = self._compile(engine).processors
        return self.row_type._make(value if process is None else process(value)
                                   for value, process in zip(row, processors, strict=True))

    def one_or_none(self, engine: Engine, params: dict[str, Any]) -> tuple | None:
        """The row for these parameters, or None; read on its own, committed rows only."""
        return in_one_transaction(engine, ((self, params),))


def _type_code(column_type: Any, dialect: Any) -> int | None:
    """The driver's type code of a column read back as its own type, where a result processor asks for it.

    SQLAlchemy passes the cursor description's code; a HotRead builds its processors before any cursor.
    Only psycopg's numeric processor asks (to tell PostgreSQL's numeric from float8): the oids are fixed.
    """
    if dialect.name != "postgresql":
        return None
    if isinstance(column_type, sqltypes.Float):  # (not a Numeric in SQLAlchemy 2.1)
        return 701  # float8
    return 1700 if isinstance(column_type, sqltypes.Numeric) else None  # numeric


def in_one_transaction(engine: Engine, steps: Sequence[tuple[HotRead, dict[str, Any]]]) -> tuple | None:
    """Run prebuilt statements in order on one pooled connection, in one transaction; the first's row.

    Committed when every statement answered a row; rolled back at the first that answers none (an
    `ON CONFLICT DO NOTHING` that inserted nothing), which answers None. SQLite, which has no
    data-modifying WITH, writes the guard scan's row and its hourly count so: two statements, one commit.
    """
    batch = []
    for read, params in steps:
        compiled, arguments = read._arguments(engine, params)
        batch.append((compiled.sql, arguments))
    dialect = engine.dialect
    try:
        rows = _fetch(engine, tuple(batch))
    except dialect.loaded_dbapi.Error as error:  # also a refused connect, which the pool raises raw
        raise DBAPIError.instance(batch[0][0], None, error, dialect.loaded_dbapi.Error,
                                  hide_parameters=True, dialect=dialect) from error
    return steps[0][0]._row(engine, rows[0]) if len(rows) == len(steps) else None


def _fetch(engine: Engine, batch: tuple[tuple[str, dict | tuple], ...]) -> list[tuple]:
    """Each statement's first row, in order, stopping at the first that answers none (rolled back)."""
    pooled = engine.raw_connection()
    connection, cursor = pooled.dbapi_connection, None
    rows: list[tuple] = []
    try:
        if engine.dialect.name == "postgresql" and len(batch) == 1:
            # One statement on an idle connection is its own transaction: no BEGIN, no COMMIT.
            row = pg_prepared.first_row(pooled.info, connection, *batch[0])
            return [] if row is None else [row]
        # pysqlite starts no transaction before a SELECT, and opens one before the first write.
        cursor = connection.cursor()
        for sql, arguments in batch:
            cursor.execute(sql, arguments)
            row = cursor.fetchone()
            if row is None:
                break
            rows.append(row)
        cursor.close()
        connection.commit() if len(rows) == len(batch) else connection.rollback()
        return rows
    except engine.dialect.loaded_dbapi.Error as error:
        if engine.dialect.is_disconnect(error, connection, cursor):
            pooled.invalidate(error)
        raise  # e.g. a unique key the write clashed with: the connection itself is sound
    finally:
        pooled.close()  # back to the pool, rolled back there (an invalidated one is replaced on its next checkout)
