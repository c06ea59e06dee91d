"""Use case: register people and keep their name, district and public-servant flag current.

Rows are judged in file order. A valid row adds a person, updates a known one (the change is
appended to ``person_changes`` with its time) or changes nothing. Two rows for the same ID in
one file apply one after the other, so the last one wins and each change is recorded.
"""

from collections import Counter
from datetime import date, datetime
from pathlib import Path

import polars as pl
from sqlalchemy import Connection

from socialcredit.domain.invariant import invariant
from socialcredit.files.readers import RawTable
from socialcredit.files.writers import TableWriter
from socialcredit.services import imports
from socialcredit.services.columnar import (
    Check,
    apply_checks,
    invalid_text,
    invalid_text_message,
    missing_fields,
    missing_fields_message,
    person_id_message,
    person_id_valid,
    stripped,
)
from socialcredit.services.models import PeopleImportResult
from socialcredit.services.registry import Registry
from socialcredit.store import repository
from socialcredit.store.bulk import (
    PERSON_CHANGE_COLUMNS,
    insert_rows,
    lock_people_writes,
    upsert_people,
)

__all__ = ["FLAG_FALSE", "FLAG_TRUE", "PEOPLE_REQUIRED", "import_people", "parse_flag"]

PEOPLE_REQUIRED = ("id", "name", "district", "public_servant")
FLAG_TRUE = ("true", "1", "yes")
FLAG_FALSE = ("false", "0", "no")
STATE = ("name", "district", "public_servant")


def parse_flag() -> pl.Expr:
    """``public_servant`` as a boolean (``true/false``, ``1/0``, ``yes/no``, any case)."""
    flag = stripped("public_servant").str.to_lowercase()
    return (
        pl.when(flag.is_in(FLAG_TRUE))
        .then(True)
        .when(flag.is_in(FLAG_FALSE))
        .then(False)
        .otherwise(None)
    )


def _judge(batch: pl.DataFrame, today: date, max_chars: int) -> pl.DataFrame:
    frame = batch.with_columns(
        n_id=stripped("id").str.to_uppercase(),
        n_name=stripped("name"),
        n_district=stripped("district"),
        n_flag=parse_flag(),
    )
    identifier = pl.col("n_id")
    checks = [
        Check("malformed-row", pl.col("malformed").is_not_null(), pl.col("malformed")),
        Check(
            "missing-field",
            missing_fields(PEOPLE_REQUIRED),
            missing_fields_message(PEOPLE_REQUIRED),
        ),
        Check(
            "invalid-text",
            invalid_text(PEOPLE_REQUIRED, (), max_chars),
            invalid_text_message(PEOPLE_REQUIRED, (), max_chars),
        ),
        Check(
            "invalid-person-id",
            ~person_id_valid(identifier, today),
            pl.format("id {}: {}", identifier, person_id_message(identifier, today)),
        ),
        Check(
            "invalid-flag",
            pl.col("n_flag").is_null(),
            pl.format(
                "public_servant {} is not one of true/false, 1/0, yes/no",
                pl.col("public_servant").str.strip_chars(),
            ),
        ),
    ]
    return apply_checks(frame, checks)


def _settle(judged: pl.DataFrame, stored: pl.DataFrame) -> pl.DataFrame:
    """``outcome`` per row: added, updated, unchanged or rejected, in file order."""
    valid = judged.filter(pl.col("reason").is_null())
    before = stored.select(n_id="id", s_name="name", s_district="district", s_flag="public_servant")
    valid = valid.join(before, on="n_id", how="left", maintain_order="left")
    if valid["n_id"].is_duplicated().any():
        valid = valid.with_columns(
            p_name=pl.col("n_name").shift(1).over("n_id"),
            p_district=pl.col("n_district").shift(1).over("n_id"),
            p_flag=pl.col("n_flag").shift(1).over("n_id"),
            first=pl.col("row").rank("ordinal").over("n_id") == 1,
        )
    else:  # the usual file names each person once: no windows needed
        valid = valid.with_columns(
            p_name=pl.lit(None, pl.String),
            p_district=pl.lit(None, pl.String),
            p_flag=pl.lit(None, pl.Boolean),
            first=pl.lit(True),
        )
    # The state a row changes: the previous row for the same ID, or else the stored person.
    prev_name = pl.when(pl.col("first")).then(pl.col("s_name")).otherwise(pl.col("p_name"))
    prev_district = pl.when(pl.col("first")).then("s_district").otherwise("p_district")
    prev_flag = pl.when(pl.col("first")).then("s_flag").otherwise("p_flag")
    same = (
        (pl.col("n_name") == prev_name)
        & (pl.col("n_district") == prev_district)
        & (pl.col("n_flag") == prev_flag)
    )
    valid = valid.with_columns(
        outcome=pl.when(pl.col("first") & pl.col("s_name").is_null())
        .then(pl.lit("added"))
        .when(same)
        .then(pl.lit("unchanged"))
        .otherwise(pl.lit("updated")),
        new_person=pl.col("first") & pl.col("s_name").is_null(),
    )
    rejected = judged.filter(pl.col("reason").is_not_null()).with_columns(
        outcome=pl.lit("rejected"), new_person=pl.lit(False)
    )
    return pl.concat([valid, rejected], how="diagonal").sort("row")


def _write(
    connection: Connection, settled: pl.DataFrame, import_id: int, recorded_at: datetime
) -> pl.DataFrame:
    """Append the changes and upsert the final state; returns that state (id, name, ...)."""
    moment = recorded_at.replace(tzinfo=None)
    changes = settled.filter(pl.col("outcome").is_in(["added", "updated"]))
    insert_rows(
        connection,
        "person_changes",
        changes.select(
            person_id="n_id",
            name="n_name",
            district="n_district",
            public_servant="n_flag",
            import_id=pl.lit(import_id),
            recorded_at=pl.lit(moment),
        ),
        PERSON_CHANGE_COLUMNS,
    )
    final = changes.group_by("n_id", maintain_order=True).agg(
        pl.col("n_name").last(),
        pl.col("n_district").last(),
        pl.col("n_flag").last(),
        pl.col("new_person").any(),
    )
    state = final.select(id="n_id", name="n_name", district="n_district", public_servant="n_flag")
    upsert_people(
        connection, state.with_columns(registered_at=pl.lit(moment), updated_at=pl.lit(moment))
    )
    return state


def _settle_current(
    connection: Connection,
    people: imports.PeopleLookup,
    judged: pl.DataFrame,
    settled: pl.DataFrame,
) -> pl.DataFrame:
    """``settled`` if the register is still as the lookup saw it, else the batch settled again
    against the register as it is now, inside the write transaction.

    Two imports naming the same person at once must not both count them ``added``: the writers'
    lock makes this transaction the only people writer until it ends, and the mark says
    whether anyone wrote since the lookup read. Usually nobody did and nothing is read again.
    """
    lock_people_writes(connection)
    if people.mark is not None and repository.people_mark(connection) == people.mark:
        return settled
    people.forget()
    ids = judged.filter(pl.col("reason").is_null())["n_id"].unique().to_list()
    return _settle(judged, repository.fetch_people(connection, ids))


def _import_batches(
    registry: Registry,
    raw: RawTable,
    import_id: int,
    rejects: TableWriter,
    progress: imports.Progress | None,
) -> Counter[str]:
    totals: Counter[str] = Counter()
    people = imports.PeopleLookup(registry)
    for batch in imports.batches(raw.frame, registry.settings.batch_rows):
        judged = _judge(batch, registry.clock.today(), registry.settings.max_field_chars)
        stored = people.fetch(judged.filter(pl.col("reason").is_null())["n_id"])
        settled = _settle(judged, stored)
        recorded_at = registry.clock.now()
        with registry.database.write() as connection:
            settled = _settle_current(connection, people, judged, settled)
            outcomes = Counter(settled["outcome"].to_list())
            rejected = settled.filter(pl.col("outcome") == "rejected")
            state = _write(connection, settled, import_id, recorded_at)
            imports.store_rejections(
                connection,
                rejected.with_columns(recorded_at=pl.lit(recorded_at.replace(tzinfo=None))),
                raw.columns,
                import_id,
            )
            repository.add_import_counts(
                connection,
                import_id,
                submitted=settled.height,
                accepted=outcomes["added"],
                duplicates=outcomes["updated"],
                unchanged=outcomes["unchanged"],
                rejected=outcomes["rejected"],
            )
            people.mark = repository.people_mark(connection)  # our own changes are known
        people.absorb(state)  # the next batch must see this batch's people
        rejects.write(imports.rejects_frame(rejected, raw.columns))
        totals += outcomes
        totals += Counter(f"reason:{r}" for r in rejected["reason"].to_list())
        if progress is not None:
            progress(int(batch["row"][-1]), raw.height)  # batches are never empty
    return totals


def import_people(
    registry: Registry,
    path: Path,
    *,
    rejects_path: Path | None = None,
    encoding: str = "utf-8",
    progress: imports.Progress | None = None,
) -> PeopleImportResult:
    """Import a people file (CSV, JSON Lines or Parquet); rejects go to ``rejects_path``."""
    raw = imports.read_import_file(registry, path, encoding, PEOPLE_REQUIRED)
    rejects_path = imports.rejects_path_for(path, rejects_path)
    with registry.database.write() as connection:
        import_id = repository.start_import(
            connection, "people", str(path), raw.sha256, registry.clock.now()
        )
    with imports.open_rejects(rejects_path, raw.columns) as rejects:
        totals = _import_batches(registry, raw, import_id, rejects, progress)
    with registry.database.write() as connection:
        repository.finish_import(connection, import_id, registry.clock.now())
    reasons = {
        key.split(":", 1)[1]: n for key, n in sorted(totals.items()) if key.startswith("reason:")
    }
    result = PeopleImportResult(
        submitted=raw.height,
        added=totals["added"],
        updated=totals["updated"],
        unchanged=totals["unchanged"],
        rejected=totals["rejected"],
        rejects_path=str(rejects_path),
        reasons=reasons,
    )
    invariant(
        result.submitted == result.added + result.updated + result.unchanged + result.rejected,
        "submitted = added + updated + unchanged + rejected",
    )
    return result
