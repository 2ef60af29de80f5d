"""Committing a use case, with concurrent-change failures turned into 409s."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..errors import Conflict
from ..extensions import db


@contextmanager
def committing(on_conflict: Callable[[], Conflict]) -> Iterator[None]:
    """Commit what the block did; on a lost race roll back and raise on_conflict()."""
    try:
        yield
        db.session.commit()
    except (StaleDataError, IntegrityError):
        db.session.rollback()
        raise on_conflict() from None
    except BaseException:
        db.session.rollback()
        raise
