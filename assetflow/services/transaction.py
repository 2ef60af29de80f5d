"""Committing a use case: a lost race becomes the caller's 409, any other violation says which rule broke."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import MANYTOONE, Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from ..errors import Conflict, ConstraintViolation
from ..extensions import db
from ..models.base import insert_rows

log = logging.getLogger(__name__)
KEPT = "assetflow_kept_loaded"  # session.info: objects kept loaded by the last commit, expired at the next begin
# SQLite names a failed unique index by its columns ("UNIQUE constraint failed: assets.tag"),
# a failed CHECK by its name ("CHECK constraint failed: ck_assets_status").
_SQLITE_FAILED = re.compile(r"(UNIQUE|CHECK|NOT NULL) constraint failed: (.+)$", re.MULTILINE)
# What each constraint means to someone reading the error.
MEANINGS = {
    "uq_assets_tag": "an asset with this tag exists",
    "uq_users_username": "a user with this username exists",
    "uq_requests_pending_asset": "the asset already has an open (pending or returned) request",
    "uq_decisions_request_step": "this step of the request is already decided",
    "uq_notifications_user_seq": "this notification number is taken",
}


class Lost(Exception):
    """Raised in a `committing` block that finds a concurrent change won (a claim whose conditional UPDATE
    matched no row, a row no longer as it was found): the block stops and nothing it did is stored."""


@dataclass
class Attempt:
    """What became of a `committing` block that words no conflict: `lost` when a concurrent change won."""

    lost: bool = False


@contextmanager
def committing(on_conflict: Callable[[], Conflict] | None = None, races: Collection[str] = (),
               keep_loaded: bool = False) -> Iterator[Attempt]:
    """Commit what the block did; roll back on failure.

    A concurrent change (a versioned UPDATE that matched no row, a violation of one of the
    constraints named in `races`, or Lost raised by the block) is a lost race: after the rollback
    it raises on_conflict() (which may re-read what won, and words the 409), or, without one,
    only marks the yielded Attempt lost (a background job that simply skips what another did).
    Any other constraint violation is not a race and raises ConstraintViolation naming the
    constraint. `keep_loaded`: the caller answers from the rows it has just written, as
    committed, so the commit does not expire them and the answer does not read them back; they
    expire when the session next goes to the database (rows written beside them, or by others,
    are never read from stale objects).
    """
    attempt = Attempt()
    try:
        yield attempt
        _commit(keep_loaded)
    except (StaleDataError, Lost):
        db.session.rollback()
        _lost(attempt, on_conflict)
    except IntegrityError as error:
        db.session.rollback()
        name = violated_constraint(error)
        if name in races:
            _lost(attempt, on_conflict)
            return
        log.warning("constraint violated: %s", name or error.orig)
        meaning = MEANINGS.get(name or "", "it conflicts with data already stored")
        raise ConstraintViolation(f"The change was not stored: {meaning}", {"constraint": name}) from None
    except BaseException:
        db.session.rollback()
        raise


def _lost(attempt: Attempt, on_conflict: Callable[[], Conflict] | None) -> None:
    if on_conflict is not None:
        raise on_conflict() from None
    attempt.lost = True


def _commit(keep_loaded: bool) -> None:
    session = db.session()
    if not keep_loaded:
        session.commit()
        return
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True
    session.info[KEPT] = True


@sa.event.listens_for(Session, "after_begin")
def _expire_kept(session: Session, transaction: object, connection: object) -> None:
    if not session.info.pop(KEPT, False):
        return
    # As expire_on_commit would have, but late: a change made since the commit is kept (this may
    # run as that change's flush begins) and the rest of its object reloads.
    for state in list(session.identity_map.all_states()):
        obj = state.obj()
        if obj is not None:
            session.expire(obj, [key for key in state.mapper.attrs.keys() if key not in state.committed_state]
                           if state.modified else None)


# One UPDATE per table, built once: WHERE its id and read version; SET whatever columns the parameters name (with
# the columns' onupdate values), RETURNING its id (a row at all) and those onupdate values.
_VERSIONED_UPDATES: dict[sa.Table, sa.Update] = {}


def update_versioned(row: object) -> None:
    """Write a loaded, versioned row's changes now, as a flush would: one UPDATE … WHERE id = … AND version = <the
    version read>, StaleDataError when a concurrent change won, the next version and the onupdate columns set on it,
    the row then clean. Without the unit of work, which walks every relationship of the row's mapper: a request's
    flush cost a decision ~1,900 Python calls.

    When the row refers to something new or changed, it is written first, as the unit of work orders them: a new
    row of columns only (an acquired asset) by one INSERT, anything else (an assigned asset) by a flush; what refers
    to the row (its steps, its people) goes with the session's next flush, after it.
    """
    session, state = db.session(), sa.inspect(row)
    mapper = state.mapper
    version = mapper.version_id_col
    read = getattr(row, mapper.get_property_by_column(version).key)  # loaded if expired, as a flush would
    changed = {mapper.attrs[key]: state.dict[key] for key in state.committed_state}
    # Clean before any flush, which would otherwise write it through the unit of work: what a flush does to each
    # row it wrote (no public equivalent; tests/test_transaction.py fails if this stops leaving the row clean).
    state._commit_all(state.dict, session.identity_map)
    referred = [rel for rel in mapper.relationships if rel.direction is MANYTOONE and not rel.viewonly]
    targets = [sa.inspect(target) for rel in referred if (target := state.dict.get(rel.key)) is not None]
    for target in targets:
        if target.pending and not any(rel.key in target.dict for rel in target.mapper.relationships):
            _insert_now(session, target.obj())  # a new row of columns only (an acquired asset)
    if any(target.pending or target.modified for target in targets):
        session.flush()
    values = {}
    for prop, value in changed.items():
        if prop in referred:  # a changed reference: its foreign key, now that the target has an id
            values |= {local.key: getattr(value, remote.key) for local, remote in prop.local_remote_pairs}
        else:
            values[prop.columns[0].key] = value
    values[version.key] = read + 1
    row_id = mapper.primary_key_from_instance(row)[0]
    written = session.execute(_versioned_update(mapper.local_table, version),
                              {**values, "row_id": row_id, "read_version": read}).first()
    if written is None:
        raise StaleDataError(f"UPDATE of {mapper.local_table.name} {row_id} at version {read} matched no row")
    for key, value in {**values, **written._mapping}.items():
        set_committed_value(row, mapper.get_property_by_column(mapper.local_table.c[key]).key, value)


def _insert_now(session: Session, row: object) -> None:
    """INSERT a new row now, as a flush would, and keep it in the session as if loaded from it (what it was not
    given, such as its column defaults, loads when read): one prebuilt statement instead of the unit of work's
    ~550 Python calls."""
    session.expunge(row)
    insert_rows([row])
    make_transient_to_detached(row)
    session.add(row)


def _versioned_update(table: sa.Table, version: sa.Column) -> sa.Update:
    statement = _VERSIONED_UPDATES.get(table)
    if statement is None:
        key = table.primary_key.columns.values()[0]
        statement = _VERSIONED_UPDATES[table] = (
            table.update().where(key == sa.bindparam("row_id"), version == sa.bindparam("read_version"))
            .returning(key, *[column for column in table.c if column.onupdate is not None]))
    return statement


def violated_constraint(error: IntegrityError) -> str | None:
    """The name of the constraint or unique index the database refused, when it says."""
    diag = getattr(error.orig, "diag", None)  # psycopg2 reports the name itself
    if diag is not None:
        return diag.constraint_name
    match = _SQLITE_FAILED.search(str(error.orig))
    if match is None:
        return None
    kind, subject = match.groups()
    if kind == "UNIQUE":
        return _unique_by_columns().get(subject.strip(), subject)
    return subject.strip() if kind == "CHECK" else f"not_null:{subject.strip()}"


def _unique_by_columns() -> dict[str, str]:
    """"table.a, table.b" → name, for every unique constraint and unique index in the schema."""
    names: dict[str, str] = {}
    for table in db.metadata.tables.values():
        groups = [c for c in table.constraints if isinstance(c, sa.UniqueConstraint)]
        groups += [i for i in table.indexes if i.unique]
        for group in groups:
            names[", ".join(f"{table.name}.{column.name}" for column in group.columns)] = group.name
    return names
