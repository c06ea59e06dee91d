"""Events that refer to earlier ones: corrections and credit repairs.

An agency corrects one of its own events by sending a new event with ``corrects`` = the
original's ``event_id``: the original is withdrawn ("corrected by ...") and stays visible in
the statement. It reports a repair (a listed debtor pays) with ``repairs`` = the original's
``event_id`` under the rule the original's rule names as ``repair_rule``: the original ends on
the repair's date (it stops counting from then, not retroactively) and the repair counts from
then on. Originals must already be stored (an earlier import or an earlier batch).

Yearly caps on points are in ``services.yearly_caps``.
"""

from collections.abc import Sequence
from datetime import datetime

import polars as pl
from sqlalchemy import Connection, func, select, tuple_

from socialcredit.domain.catalogue import Catalogue
from socialcredit.services.columnar import Check
from socialcredit.store import repository
from socialcredit.store.schema import entries

__all__ = [
    "ORIGINAL_SCHEMA",
    "fetch_originals",
    "original_changes",
    "reference_checks",
    "references",
]

ORIGINAL_SCHEMA = {
    "n_agency": pl.String,
    "reference": pl.String,
    "original_id": pl.Int64,
    "original_person": pl.String,
    "original_rule": pl.String,
    "original_version": pl.String,
    "original_status": pl.String,
    "original_ends_on": pl.Date,
    "original_occurred": pl.Date,
}


def references(frame: pl.DataFrame) -> pl.DataFrame:
    """The events a normalised batch refers to (corrects or repairs): agency and event ID."""
    return (
        frame.select("n_agency", reference=pl.coalesce("n_corrects", "n_repairs"))
        .drop_nulls()
        .unique()
    )


def fetch_originals(connection: Connection, frame: pl.DataFrame) -> pl.DataFrame:
    """The stored entries the batch refers to, with their current status and end."""
    wanted = references(frame)
    if wanted.height == 0:
        return pl.DataFrame(schema=ORIGINAL_SCHEMA)
    pairs = list(zip(wanted["n_agency"].to_list(), wanted["reference"].to_list(), strict=True))
    rows: list[tuple[object, ...]] = []
    for start in range(0, len(pairs), repository.IN_CHUNK // 2):
        chunk = pairs[start : start + repository.IN_CHUNK // 2]
        # The newest changes of these entries only, not of the whole registry.
        these = select(entries.c.id).where(tuple_(entries.c.agency, entries.c.event_id).in_(chunk))
        latest = repository.latest_changes(among=these).subquery()
        query = (
            select(
                entries.c.agency,
                entries.c.event_id,
                entries.c.id,
                entries.c.person_id,
                entries.c.rule,
                entries.c.catalogue_version,
                func.coalesce(latest.c.status, "active"),
                latest.c.ends_on,
                entries.c.occurred_on,
            )
            .outerjoin(latest, latest.c.entry_id == entries.c.id)
            .where(tuple_(entries.c.agency, entries.c.event_id).in_(chunk))
        )
        rows.extend(tuple(row) for row in connection.execute(query))
    return pl.DataFrame(rows, schema=ORIGINAL_SCHEMA, orient="row")


def _repair_rules(catalogues: Sequence[Catalogue]) -> pl.DataFrame:
    pairs = [
        (c.version, rule.code, rule.repair_rule)
        for c in catalogues
        for rule in c.rules.values()
        if rule.repair_rule is not None
    ]
    return pl.DataFrame(
        pairs,
        orient="row",
        schema={
            "original_version": pl.String,
            "original_rule": pl.String,
            "repaired_by": pl.String,
        },
    )


def join_originals(
    frame: pl.DataFrame, originals: pl.DataFrame, catalogues: Sequence[Catalogue]
) -> pl.DataFrame:
    """Add the original's columns (null when the row refers to nothing or to nothing stored)."""
    frame = frame.with_columns(reference=pl.coalesce("n_corrects", "n_repairs"))
    frame = frame.join(originals, on=["n_agency", "reference"], how="left", maintain_order="left")
    return frame.join(
        _repair_rules(catalogues),
        on=["original_version", "original_rule"],
        how="left",
        maintain_order="left",
    )


def reference_checks() -> list[Check]:
    """The checks for rows with ``corrects`` or ``repairs``, judged after the catalogue's."""
    corrects, repairs = pl.col("n_corrects"), pl.col("n_repairs")
    refers = corrects.is_not_null() | repairs.is_not_null()
    alive = pl.col("original_status").is_in(["active", "contested"])
    wrong = (
        (corrects.is_not_null() & repairs.is_not_null())
        | (pl.col("reference") == pl.col("n_event_id"))
        | (pl.col("original_person") != pl.col("n_person_id"))
        | ~alive
        | (repairs.is_not_null() & pl.col("original_ends_on").is_not_null())
        | (repairs.is_not_null() & ~pl.col("repaired_by").eq_missing(pl.col("n_rule")))
        | (repairs.is_not_null() & (pl.col("n_occurred") < pl.col("original_occurred")))
    )
    why = (
        pl.when(corrects.is_not_null() & repairs.is_not_null())
        .then(pl.lit("a row may correct or repair an event, not both"))
        .when(pl.col("reference") == pl.col("n_event_id"))
        .then(pl.lit("an event cannot refer to itself"))
        .when(pl.col("original_person") != pl.col("n_person_id"))
        .then(pl.format("event {} concerns another person", pl.col("reference")))
        .when(~alive)
        .then(
            pl.format(
                "event {} is {} and cannot be changed",
                pl.col("reference"),
                pl.col("original_status"),
            )
        )
        .when(repairs.is_not_null() & pl.col("original_ends_on").is_not_null())
        .then(pl.format("event {} has already ended", pl.col("reference")))
        .when(repairs.is_not_null() & (pl.col("n_occurred") < pl.col("original_occurred")))
        .then(
            pl.format(
                "a repair cannot occur before the event it repairs ({})",
                pl.col("original_occurred").dt.to_string("%Y-%m-%d"),
            )
        )
        .otherwise(
            pl.format(
                "rule {} does not repair rule {} (its repair rule: {})",
                pl.col("n_rule"),
                pl.col("original_rule"),
                pl.col("repaired_by").fill_null("none"),
            )
        )
    )
    return [
        Check(
            "unknown-original",
            refers & pl.col("original_id").is_null(),
            pl.format(
                "agency {} has no accepted event {} to refer to",
                pl.col("n_agency"),
                pl.col("reference"),
            ),
        ),
        Check(
            "invalid-reference",
            refers & pl.col("original_id").is_not_null() & wrong,
            pl.format(
                "{}: {}",
                pl.coalesce(
                    pl.when(corrects.is_not_null()).then(pl.lit("corrects")), pl.lit("repairs")
                ),
                why,
            ),
        ),
    ]


def original_changes(accepted: pl.DataFrame, recorded_at: datetime, actor: str) -> pl.DataFrame:
    """entry_changes rows for the originals that accepted corrections and repairs change."""
    moment = recorded_at.replace(tzinfo=None)
    corrected = accepted.filter(pl.col("n_corrects").is_not_null()).select(
        entry_id="original_id",
        status=pl.lit("withdrawn"),
        ends_on="original_ends_on",
        reason=pl.format("corrected by event {}", pl.col("n_event_id")),
    )
    repaired = accepted.filter(pl.col("n_repairs").is_not_null()).select(
        entry_id="original_id",
        status="original_status",
        ends_on="n_occurred",
        reason=pl.format("repaired by event {} ({})", pl.col("n_event_id"), pl.col("n_rule")),
    )
    return pl.concat([corrected, repaired]).with_columns(
        actor=pl.lit(actor), recorded_at=pl.lit(moment, dtype=pl.Datetime("us"))
    )
