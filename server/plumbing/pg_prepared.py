"""One statement on PostgreSQL through libpq itself: prepared once per connection, executed in one call.

The hot reads (`hot_read`) on PostgreSQL are single statements on an idle pooled connection, so each
is its own transaction with no BEGIN. Through a psycopg cursor one cost about 60 us of the worker's
CPU: the cursor's generator and wait loop, the autocommit switch, a new cursor. Here it is
`PQexecPrepared` (which releases the GIL while it waits) and psycopg's own `Transformer` for the
parameters and the row: about 35 us, and a pass refresh a tenth cheaper in-process. Hand-written
because psycopg offers no lighter public path for a statement run hundreds of times a second; the
types, the row's values and the errors are still psycopg's.

Parameters go as text to a statement prepared without parameter types: each takes its type from the
cast SQLAlchemy writes after it (`$1::INTEGER`) or from its column, as with psycopg's cursor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import errors, pq
from psycopg.adapt import PyFormat, Transformer

# SQLAlchemy's psycopg dialect writes named parameters `%(name)s` and a literal percent as `%%`.
_PYFORMAT = re.compile(r"%\((\w+)\)s|%%")
_INFO_KEY = "wuye_prepared"  # in the pool's record of the connection (cleared when it reconnects)


@dataclass(frozen=True)
class _Statement:
    name: bytes
    parameters: tuple[str, ...]  # the names of $1, $2, ...
    formats: tuple[PyFormat, ...]


@dataclass
class _ConnectionState:
    connection: psycopg.Connection  # the DBAPI connection its statements were prepared on
    transformer: Transformer
    statements: dict[str, _Statement] = field(default_factory=dict)  # by the statement's pyformat SQL
    prepared: int = 0  # names are never reused on a connection, even after its statements were dropped


def numbered(sql: str) -> tuple[str, tuple[str, ...]]:
    """The statement with `$n` placeholders, and the parameter name of each n."""
    order: list[str] = []

    def number(match: re.Match) -> str:
        name = match.group(1)
        if name is None:
            return "%"
        if name not in order:
            order.append(name)
        return f"${order.index(name) + 1}"

    return _PYFORMAT.sub(number, sql), tuple(order)


def first_row(info: dict, connection: psycopg.Connection, sql: str, arguments: dict[str, Any]) -> tuple | None:
    """The first row of one statement run on its own on an idle connection, or None; raises psycopg's errors.

    `info` is the pool's dictionary for this connection, where its prepared statements are remembered.
    """
    state = info.get(_INFO_KEY)
    if state is None or state.connection is not connection:
        state = info[_INFO_KEY] = _ConnectionState(connection, Transformer(connection))
    try:
        return _execute(state, sql, arguments)
    except errors.InvalidSqlStatementName:
        # Dropped on the server (a DISCARD ALL, a pooler): prepare them again, once.
        state.statements.clear()
        return _execute(state, sql, arguments)


def _execute(state: _ConnectionState, sql: str, arguments: dict[str, Any]) -> tuple | None:
    statement = state.statements.get(sql) or _prepare(state, sql)
    transformer = state.transformer
    values = transformer.dump_sequence([arguments[name] for name in statement.parameters], statement.formats)
    result = state.connection.pgconn.exec_prepared(statement.name, values)
    if result.status != pq.ExecStatus.TUPLES_OK:
        raise _error(state.connection, result)
    if not result.ntuples:
        return None
    transformer.set_pgresult(result)
    return transformer.load_row(0, tuple)


def _prepare(state: _ConnectionState, sql: str) -> _Statement:
    text, parameters = numbered(sql)
    name = f"wuye_hot_{state.prepared}".encode()
    state.prepared += 1
    connection = state.connection
    result = connection.pgconn.prepare(name, text.encode(connection.info.encoding))
    if result.status != pq.ExecStatus.COMMAND_OK:
        raise _error(connection, result)
    statement = state.statements[sql] = _Statement(name, parameters, (PyFormat.TEXT,) * len(parameters))
    return statement


def _error(connection: psycopg.Connection, result: pq.abc.PGresult) -> psycopg.Error:
    encoding = connection.info.encoding
    if result.error_field(pq.DiagnosticField.SQLSTATE):
        return errors.error_from_result(result, encoding=encoding)  # the server's error, as psycopg raises it
    # Only libpq's own errors have no SQLSTATE: the connection is lost ("server closed the connection
    # unexpectedly"), perhaps before libpq marked it bad. Closed here, the pool discards it
    # (`is_disconnect`), and an OperationalError answers 503.
    error = psycopg.OperationalError(result.get_error_message(encoding) or "the connection to the database is lost")
    connection.close()
    return error
