"""Column helpers shared by the models."""

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from ..extensions import db


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """Stores naive UTC, returns aware UTC: SQLite has no time zones."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        return value.replace(tzinfo=UTC) if value is not None else None


class EpochTime(sa.types.TypeDecorator):
    """A time as seconds since 1970 in SQL, an aware UTC datetime in Python: the one form in which both
    databases add hours to a time and compare the results the same way (see `epoch`)."""

    impl = sa.Float
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return value.timestamp() if value is not None else None

    def process_result_value(self, value, dialect):
        # SQLite's date functions count whole milliseconds: rounded there, both databases give the same time.
        return datetime.fromtimestamp(round(float(value), 3), UTC) if value is not None else None


class epoch(FunctionElement):
    """SQL: a naive UTC timestamp column as seconds since 1970 (a number; `EpochTime` reads it as a time)."""

    type = sa.Float()
    inherit_cache = True


@compiles(epoch, "postgresql")
def _epoch_postgresql(element, compiler, **kw):
    return f"EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})"


@compiles(epoch, "sqlite")
def _epoch_sqlite(element, compiler, **kw):
    return f"((julianday({compiler.process(element.clauses, **kw)}) - 2440587.5) * 86400.0)"


# One INSERT … RETURNING id per table, built once: a statement built per call is keyed for the compiled cache on
# every call.
_INSERTS: dict[sa.Table, sa.Insert] = {}


def insert_rows(rows: list) -> None:
    """INSERT new rows of one model now, in one Core statement, and give each its id; they stay out of the session.

    For the rows a hot path writes and never changes afterwards (a decision, its audit row, the inbox rows): through
    the session's unit of work each costs about three times the Python calls, and a flush of its own. Only what the
    objects were given is sent: a column's default fills the database's row, not the object (give them what they
    are read for).
    """
    if not rows:
        return
    table = type(rows[0]).__table__
    keys = [column.key for column in table.c if column.key in rows[0].__dict__]
    ids = insert_values(table, [{key: row.__dict__[key] for key in keys} for row in rows])
    for row, row_id in zip(rows, ids, strict=True):
        row.id = row_id


def insert_values(table: sa.Table, values: list[dict]) -> list[int]:
    """INSERT rows given as their column values (each naming the same columns), as `insert_rows` does; their ids.

    For a row nothing reads back as an object (an audit row): a model's constructor costs ~80 Python calls.
    """
    statement = _INSERTS.get(table)
    if statement is None:
        statement = _INSERTS[table] = table.insert().returning(table.c.id, sort_by_parameter_order=True)
    return db.session.execute(statement, values).scalars().all()
