"""Column helpers shared by the models."""

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


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
