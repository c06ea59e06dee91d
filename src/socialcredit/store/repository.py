"""Reads and small writes against the schema. Bulk writes live in ``store.bulk``.

Functions take an open ``Connection`` (from ``Database.read()`` or ``.write()``), so that a
service decides the transaction boundaries and several calls share one transaction.
"""

import functools
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import polars as pl
from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    any_,
    bindparam,
    func,
    insert,
    literal,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import BindParameter

from socialcredit.domain.scoring import Entry
from socialcredit.store import ledger
from socialcredit.store.schema import (
    UTCDateTime,
    catalogue_versions,
    entries,
    entry_changes,
    imports,
    people,
    person_changes,
    yearly_cap_writes,
)

__all__ = [
    "IN_CHUNK",
    "chunks",
    "one_of",
    "add_import_counts",
    "batch_memory",
    "catalogue_generation",
    "driver_rows",
    "count_people",
    "fetch_entry_keys",
    "fetch_people",
    "finish_import",
    "get_person",
    "import_progress",
    "insert_catalogue_version",
    "latest_changes",
    "load_catalogue_rows",
    "person_entries",
    "person_ids",
    "people_mark",
    "start_import",
    "take_cap_turn",
]

# Bound the number of values in one IN (...) list: SQLite allows 32,766 parameters.
IN_CHUNK = 10_000


def batch_memory(connection: Connection, work_mem_mib: int) -> None:
    """For a batch query over every person in this transaction: on PostgreSQL, raise work_mem
    so that its groups are hashed in memory (the default 4 MB sorted 200,000 people on disk).
    SQLite has nothing like it (its page cache is a connection setting)."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SET LOCAL work_mem = '{int(work_mem_mib)}MB'")


def driver_rows(connection: Connection, query: Select[Any]) -> list[tuple[Any, ...]]:
    """Run ``query`` through the driver's cursor: plain tuples, no per-row result processing.

    For hundreds of thousands of rows this is several times faster than SQLAlchemy rows. Only
    for internal queries whose parameters are dates, numbers or codes: they are rendered inline.
    Types come back as the driver gives them (SQLite: dates as text, booleans as 0/1).
    """
    sql = str(query.compile(connection, compile_kwargs={"literal_binds": True}))
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    cursor.execute(sql)
    return cursor.fetchall()  # type: ignore[no-any-return]


# PostgreSQL takes a list of values as one array parameter (``one_of``); the bound is then only
# on the bytes of one statement.
ARRAY_CHUNK = 1_000_000


def _chunks(values: Sequence[Any], size: int = IN_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def chunks(connection: Connection, values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    """``values`` in pieces small enough for one ``one_of`` on this database."""
    postgres = connection.dialect.name == "postgresql"
    return _chunks(values, ARRAY_CHUNK if postgres else IN_CHUNK)


def one_of(
    connection: Connection, column: ColumnElement[Any], values: Sequence[Any]
) -> ColumnElement[bool]:
    """``column IN values``, written the way this database takes it best.

    PostgreSQL gets one array parameter (``= ANY``). Rendering and binding a list of 2,000
    parameters cost the client about 25 ms a statement and the server more to plan it, against
    22 ms to run the yearly-caps query it was part of. SQLite has no arrays and gets an
    expanding ``IN``, so callers keep to ``chunks``.
    """
    if connection.dialect.name == "postgresql":
        array = bindparam(None, list(values), type_=postgresql.ARRAY(column.type))
        return column == any_(array)
    return column.in_(values)


def load_catalogue_rows(connection: Connection) -> list[dict[str, Any]]:
    query = select(catalogue_versions).order_by(catalogue_versions.c.effective_from)
    return [dict(row._mapping) for row in connection.execute(query)]


def catalogue_generation(connection: Connection) -> tuple[int, datetime | None]:
    """Changes whenever a version is loaded: (count, newest recorded_at)."""
    row = connection.execute(select(func.count(), func.max(catalogue_versions.c.recorded_at))).one()
    return int(row[0]), row[1]


def insert_catalogue_version(connection: Connection, row: dict[str, Any]) -> None:
    ledger.insert_row(connection, "catalogue_versions", row)  # the row and its leaf


def start_import(
    connection: Connection, kind: str, source: str, sha256: str | None, started_at: datetime
) -> int:
    result = connection.execute(
        insert(imports).values(
            kind=kind,
            source=source,
            source_sha256=sha256,
            submitted=0,
            accepted=0,
            duplicates=0,
            unchanged=0,
            rejected=0,
            started_at=started_at,
        )
    )
    primary_key = result.inserted_primary_key
    assert primary_key is not None
    return int(primary_key[0])


def add_import_counts(connection: Connection, import_id: int, **counts: int) -> None:
    values = {name: getattr(imports.c, name) + count for name, count in counts.items()}
    connection.execute(update(imports).where(imports.c.id == import_id).values(**values))


def import_progress(connection: Connection, import_id: int) -> tuple[int, int]:
    """How many rows of import ``import_id`` have committed (each batch adds its rows to
    ``submitted`` in its own transaction), and how many transactions have written entries that
    count toward a yearly cap: one statement, so both are of the same moment."""
    writes = select(yearly_cap_writes.c.writes).where(yearly_cap_writes.c.id == 1)
    query = select(imports.c.submitted, writes.scalar_subquery()).where(imports.c.id == import_id)
    submitted, cap_writes = connection.execute(query).one()
    return int(submitted), int(cap_writes)


def take_cap_turn(connection: Connection) -> int:
    """Before writing entries that count toward a yearly cap: wait for the transaction that
    is writing such entries, if any, and hold the turn until this one ends. Returns how many
    such transactions had committed (this one not counted).

    The row update is the turn: a second updater waits for the first to end, and READ
    COMMITTED then lets each statement after it see what the first wrote."""
    query = (
        update(yearly_cap_writes)
        .where(yearly_cap_writes.c.id == 1)
        .values(writes=yearly_cap_writes.c.writes + 1)
        .returning(yearly_cap_writes.c.writes)
    )
    return int(connection.execute(query).scalar_one()) - 1


def finish_import(connection: Connection, import_id: int, finished_at: datetime) -> None:
    connection.execute(
        update(imports).where(imports.c.id == import_id).values(finished_at=finished_at)
    )


def people_mark(connection: Connection) -> int:
    """How far the register's history goes: the newest ``person_changes`` id (0 if none).

    Every change of a person's name, district or flag appends there, so an unchanged mark
    means an unchanged register (people writers are serialised: ``bulk.lock_people_writes``).
    """
    newest = connection.execute(select(func.max(person_changes.c.id))).scalar_one()
    return 0 if newest is None else int(newest)


def count_people(connection: Connection) -> int:
    return int(connection.execute(select(func.count()).select_from(people)).scalar_one())


_PEOPLE_SCHEMA = {
    "id": pl.String,
    "name": pl.String,
    "district": pl.String,
    "public_servant": pl.Boolean,
}


def _people_frame(rows: list[Any], names: Sequence[str]) -> pl.DataFrame:
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [[] for _ in names]
    data: dict[str, Any] = dict(zip(names, columns, strict=True))
    # SQLite hands booleans back as 0/1: one cast for the whole column.
    data["public_servant"] = pl.Series(data["public_servant"], dtype=pl.Int8).cast(pl.Boolean)
    return pl.DataFrame(data, schema={name: _PEOPLE_SCHEMA[name] for name in names})


def fetch_people(
    connection: Connection,
    ids: Sequence[str] | None,
    *,
    names: Sequence[str] = ("id", "name", "district", "public_servant"),
) -> pl.DataFrame:
    """Current state of the people in ``ids`` (all people when ``None``): ``names`` columns."""
    rows: list[Any] = []
    if ids is None:
        # The whole register: read through the driver, skipping per-row result processing
        # (it is several times faster for hundreds of thousands of rows).
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(f"SELECT {', '.join(names)} FROM people")
        rows = cursor.fetchall()
    else:
        columns = [people.c[name] for name in names]
        for chunk in chunks(connection, list(ids)):
            query = select(*columns).where(one_of(connection, people.c.id, chunk))
            rows.extend(tuple(row) for row in connection.execute(query))
    return _people_frame(rows, names)


def person_ids(connection: Connection, known_at: datetime | None = None) -> pl.DataFrame:
    """Every registered person's ID, sorted (as of ``known_at`` when given)."""
    query = select(people.c.id).order_by(people.c.id)
    if known_at is not None:
        query = query.where(people.c.registered_at <= known_at)
    ids = [row[0] for row in driver_rows(connection, query)]
    return pl.DataFrame({"id": ids}, schema={"id": pl.String})


# Built once (see ``_person_entries_query``): one person's row is read on every look.
_PERSON_BY_ID = select(people).where(people.c.id == bindparam("person_id"))


def get_person(
    connection: Connection, person_id: str, *, known_at: datetime | None = None
) -> dict[str, Any] | None:
    """A registered person's details, as they were at ``known_at`` when given."""
    row = connection.execute(_PERSON_BY_ID, {"person_id": person_id}).first()
    if row is None:
        return None
    person = dict(row._mapping)
    if known_at is None:
        return person
    if person["registered_at"] > known_at:
        return None
    # The details the registry held then: the newest change recorded by that moment.
    change = connection.execute(
        select(person_changes.c.name, person_changes.c.district, person_changes.c.public_servant)
        .where(person_changes.c.person_id == person_id, person_changes.c.recorded_at <= known_at)
        .order_by(person_changes.c.id.desc())
        .limit(1)
    ).first()
    if change is not None:
        person.update(
            name=change.name, district=change.district, public_servant=change.public_servant
        )
    return person


_KEY_SCHEMA = {
    "agency": pl.String,
    "event_id": pl.String,
    "stored_person_id": pl.String,
    "stored_rule": pl.String,
    "stored_occurred_on": pl.Date,
    "stored_evidence": pl.String,
}


def fetch_entry_keys(connection: Connection, keys: pl.DataFrame) -> pl.DataFrame:
    """Stored content of the entries holding any of ``keys`` (columns agency, event_id)."""
    pairs = list(zip(keys["agency"].to_list(), keys["event_id"].to_list(), strict=True))
    columns = [
        entries.c.agency,
        entries.c.event_id,
        entries.c.person_id,
        entries.c.rule,
        entries.c.occurred_on,
        entries.c.evidence,
    ]
    rows: list[Any] = []
    for chunk in _chunks(pairs, IN_CHUNK // 2):
        condition = tuple_(entries.c.agency, entries.c.event_id).in_(chunk)
        rows.extend(tuple(row) for row in connection.execute(select(*columns).where(condition)))
    return pl.DataFrame(rows, schema=_KEY_SCHEMA, orient="row")


def latest_changes(
    known_at: datetime | BindParameter[Any] | None = None, *, among: Select[Any] | None = None
) -> Select[Any]:
    """Per entry, its newest change (as known at ``known_at``): entry_id, status, ends_on, reason.

    ``among`` (a select of entry ids) limits the work to those entries: one person's reads
    must not group the whole change history of the registry.
    """
    newest = select(func.max(entry_changes.c.id))
    if known_at is not None:
        newest = newest.where(entry_changes.c.recorded_at <= known_at)
    if among is not None:
        newest = newest.where(entry_changes.c.entry_id.in_(among))
    newest_ids = newest.group_by(entry_changes.c.entry_id)
    return select(
        entry_changes.c.entry_id,
        entry_changes.c.status,
        entry_changes.c.ends_on,
        entry_changes.c.reason,
    ).where(entry_changes.c.id.in_(newest_ids))


@functools.cache
def _person_entries_query(with_known_at: bool, with_occurred_until: bool) -> Select[Any]:
    """The statement of ``person_entries`` with bound parameters, built once per shape.

    A read of one person runs on every score, statement and check: building the statement
    and its cache key anew each time cost more than running it. Built once, SQLAlchemy keeps
    both (the statement is immutable), and each call only binds ``person_id``, ``known_at``
    and ``occurred_until``.
    """
    person_id: BindParameter[str] = bindparam("person_id")
    known_at = bindparam("known_at", type_=UTCDateTime)
    mine = select(entries.c.id).where(entries.c.person_id == person_id)
    latest = latest_changes(known_at if with_known_at else None, among=mine).subquery()
    query = (
        select(
            entries,
            func.coalesce(latest.c.status, literal("active")).label("status"),
            latest.c.ends_on,
            latest.c.reason.label("status_reason"),
        )
        .outerjoin(latest, latest.c.entry_id == entries.c.id)
        .where(entries.c.person_id == person_id)
        .order_by(entries.c.occurred_on, entries.c.agency, entries.c.event_id)
    )
    if with_known_at:
        query = query.where(entries.c.recorded_at <= known_at)
    if with_occurred_until:
        query = query.where(entries.c.occurred_on <= bindparam("occurred_until", type_=Date))
    return query


def person_entries(
    connection: Connection,
    person_id: str,
    *,
    known_at: datetime | None = None,
    occurred_until: date | None = None,
) -> list[Entry]:
    """A person's entries in their state as known at ``known_at`` (now when ``None``)."""
    query = _person_entries_query(known_at is not None, occurred_until is not None)
    parameters: dict[str, Any] = {"person_id": person_id}
    if known_at is not None:
        parameters["known_at"] = known_at
    if occurred_until is not None:
        parameters["occurred_until"] = occurred_until
    rows = connection.execute(query, parameters)
    return [
        Entry(
            agency=row.agency,
            event_id=row.event_id,
            person_id=row.person_id,
            rule=row.rule,
            occurred_on=row.occurred_on,
            catalogue_version=row.catalogue_version,
            points=row.points,
            counts_until=row.counts_until,
            blacklist_until=row.blacklist_until,
            grade_cap=row.grade_cap,
            status=row.status,
            ends_on=row.ends_on,
            evidence=row.evidence,
            recorded_at=row.recorded_at,
            status_reason=row.status_reason,
            points_cut=row.points_cut,
            corrects=row.corrects,
            repairs=row.repairs,
        )
        for row in rows
    ]
