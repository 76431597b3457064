"""Bulk loading for synthetic districts: COPY on PostgreSQL (psycopg 3), executemany batches on SQLite.

Rows are tuples of Python values in the order of the columns named; ids are given by the caller
(`next_id`), so no row has to be read back, and the sequences are moved past them at the end.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime

from sqlalchemy import Connection, ForeignKeyConstraint, Table, UniqueConstraint, func, select, text
from sqlalchemy.schema import AddConstraint, DropConstraint

from server.models.base import Base

SQLITE_BATCH = 10_000
SQLITE_LOAD_CACHE_KIB = 512 * 1024
POSTGRES_SORT_MEMORY = "512MB"


class BulkLoader:
    """Writes rows into tables of one connection (the session's, so they share its transaction)."""

    def __init__(self, connection: Connection, progress: Callable[[str], None] | None = None):
        self.connection = connection
        self.progress = progress or (lambda _message: None)
        self.dialect = connection.dialect.name
        self._next: dict[str, int] = {}
        self.written: dict[str, int] = {}

    def next_id(self, table_name: str, count: int = 1) -> int:
        """Reserve `count` ids of a table; answers the first."""
        if table_name not in self._next:
            table = _table(table_name)
            self._next[table_name] = (self.connection.scalar(select(func.max(table.c.id))) or 0) + 1
        first = self._next[table_name]
        self._next[table_name] += count
        return first

    def write(self, table_name: str, columns: Sequence[str], rows: Iterable[tuple]) -> int:
        """Insert rows (tuples in the order of `columns`); answers how many."""
        rows = rows if isinstance(rows, list) else list(rows)
        if not rows:
            return 0
        if self.dialect == "postgresql":
            self._copy(table_name, columns, rows)
        else:
            self._executemany(table_name, columns, rows)
        self.written[table_name] = self.written.get(table_name, 0) + len(rows)
        return len(rows)

    def _copy(self, table_name: str, columns: Sequence[str], rows: list[tuple]) -> None:
        cursor = self.connection.connection.dbapi_connection.cursor()
        json_at = _json_positions(table_name, columns)
        with cursor.copy(f"COPY {table_name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                if json_at:
                    row = tuple(json.dumps(v, ensure_ascii=False) if i in json_at else v for i, v in enumerate(row))
                copy.write_row(row)

    def _executemany(self, table_name: str, columns: Sequence[str], rows: list[tuple]) -> None:
        cursor = self.connection.connection.dbapi_connection.cursor()
        sql = f"INSERT INTO {table_name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        table = _table(table_name)
        converters = [(i, _sqlite_converter(table.c[name].type)) for i, name in enumerate(columns)]
        converters = [(i, convert) for i, convert in converters if convert is not None]
        for start in range(0, len(rows), SQLITE_BATCH):
            batch = rows[start:start + SQLITE_BATCH]
            if converters:
                batch = [_converted(row, converters) for row in batch]
            cursor.executemany(sql, batch)

    @contextmanager
    def indexes_and_keys_deferred(self, *table_names: str) -> Iterator[None]:
        """Drop the secondary indexes of these tables while loading them and build them once at the end:
        one sort per index instead of millions of scattered B-tree inserts.

        On PostgreSQL their foreign keys and unique keys go too, and come back (validated) at the end:
        a foreign key checked row by row locks the row it points at (millions of row locks on a few
        thousand users and gates), and the unique key on (author, client id) takes each row at a page
        of its own author's, scattered once the index outgrows shared_buffers. The whole district
        went from unfinished after 28 minutes to 6. SQLite keeps both (it cannot drop a constraint)."""
        tables = [_table(name) for name in table_names]
        indexes = [index for table in tables for index in sorted(table.indexes, key=lambda i: i.name)
                   if not index.unique or self.dialect == "postgresql"]
        constraints = [] if self.dialect != "postgresql" else [
            constraint for table in tables for constraint in sorted(
                table.constraints, key=lambda c: (not isinstance(c, UniqueConstraint), c.name))
            if isinstance(constraint, UniqueConstraint | ForeignKeyConstraint)]
        if self.dialect == "sqlite":
            # A large page cache for the load alone (the default 2 MB thrashes on a district).
            self.connection.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_LOAD_CACHE_KIB}")
        else:
            # For this transaction only: the index builds sort in memory.
            self.connection.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{POSTGRES_SORT_MEMORY}'")
        for constraint in constraints:
            self.connection.execute(DropConstraint(constraint))
        for index in indexes:
            index.drop(self.connection)
        try:
            yield
            # Not on an error: the transaction rolls back, and with it the drops.
            for index in indexes:
                self.progress(f"building index {index.name}")
                index.create(self.connection)
            for constraint in constraints:
                self.progress(f"adding and checking {constraint.name}")
                self.connection.execute(AddConstraint(constraint))
        finally:
            if self.dialect == "sqlite":
                self.connection.exec_driver_sql("PRAGMA cache_size = -2000")

    def finish(self) -> None:
        """Move PostgreSQL's id sequences past the ids given here."""
        if self.dialect != "postgresql":
            return
        for table_name in self._next:
            self.connection.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table_name}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table_name}), false)"))

    def analyze(self) -> None:
        """Refresh the planner's statistics after a load."""
        self.connection.execute(text("ANALYZE"))


def _table(table_name: str) -> Table:
    return Base.metadata.tables[table_name]


def _json_positions(table_name: str, columns: Sequence[str]) -> set[int]:
    table = _table(table_name)
    return {i for i, name in enumerate(columns) if table.c[name].type.__class__.__name__ == "JSON"}


def _converted(row: tuple, converters: list) -> list:
    row = list(row)
    for i, convert in converters:
        if row[i] is not None:
            row[i] = convert(row[i])
    return row


def _json(value) -> str:
    if not value:  # most synthetic flags and replies are empty
        return "[]" if isinstance(value, list) else "{}"
    return json.dumps(value, ensure_ascii=False)


def _sqlite_datetime(value: datetime) -> str:
    # As SQLAlchemy stores it on SQLite: naive UTC text with microseconds.
    return value.astimezone(UTC).isoformat(" ", "microseconds")[:26]


def _sqlite_converter(column_type):
    """How SQLAlchemy would store a value of this column type on SQLite (None: as it is)."""
    python_type = getattr(column_type, "impl", column_type).__class__.__name__
    if python_type == "JSON":
        return _json
    if python_type == "DateTime":
        return _sqlite_datetime
    if python_type == "Date":
        return date.isoformat
    if python_type == "Time":
        return lambda v: v.strftime("%H:%M:%S.%f")
    if python_type == "Boolean":
        return int
    return None
