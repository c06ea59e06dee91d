"""Events that refer to earlier ones: corrections and credit repairs; and yearly caps on points.

An agency corrects one of its own events by sending a new event with ``corrects`` = the
original's ``event_id``: the original is withdrawn ("corrected by ...") and stays visible in
the statement. It reports a repair (a listed debtor pays) with ``repairs`` = the original's
``event_id`` under the rule the original's rule names as ``repair_rule``: the original ends on
the repair's date (it stops counting from then, not retroactively) and the repair counts from
then on. Originals must already be stored (an earlier import or an earlier batch).

Rules with ``max_points_per_year`` give a person at most that many points (in absolute value)
per calendar year; events beyond the cap are accepted and shown and add nothing. Points are
allotted in the order events arrive; an entry's points never change afterwards.
"""

from collections.abc import Sequence
from datetime import date, datetime

import polars as pl
from sqlalchemy import Connection, and_, func, select, tuple_

from socialcredit.domain.catalogue import Catalogue
from socialcredit.services.columnar import Check
from socialcredit.store import repository
from socialcredit.store.schema import entries

__all__ = [
    "ORIGINAL_SCHEMA",
    "apply_yearly_caps",
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


_YEAR = pl.col("n_occurred").dt.year().cast(pl.Int32)


def _used_this_year(connection: Connection, capped: pl.DataFrame) -> pl.DataFrame:
    """Points already allotted per (person, rule, year) to counting entries in the store."""
    people = capped["n_person_id"].unique().to_list()
    rules = capped["n_rule"].unique().to_list()
    years = capped["year"].cast(pl.Int32).to_list()
    first = date(min(years), 1, 1)
    last = date(max(years), 12, 31)
    rows: list[tuple[object, ...]] = []
    for chunk in repository.chunks(connection, people):
        theirs_only = repository.one_of(connection, entries.c.person_id, chunk)
        # The newest changes of these people's entries of these rules only.
        theirs = select(entries.c.id).where(theirs_only, entries.c.rule.in_(rules))
        latest = repository.latest_changes(among=theirs).subquery()
        status = func.coalesce(latest.c.status, "active")
        query = (
            select(
                entries.c.person_id,
                entries.c.rule,
                entries.c.occurred_on,
                func.abs(entries.c.points),
            )
            .outerjoin(latest, latest.c.entry_id == entries.c.id)
            .where(
                and_(
                    theirs_only,
                    entries.c.rule.in_(rules),
                    entries.c.occurred_on >= first,
                    entries.c.occurred_on <= last,
                    status.in_(("active", "contested")),
                )
            )
        )
        rows.extend(tuple(row) for row in connection.execute(query))
    stored = pl.DataFrame(
        rows,
        orient="row",
        schema={
            "n_person_id": pl.String,
            "n_rule": pl.String,
            "occurred": pl.Date,
            "size": pl.Int64,
        },
    )
    return stored.group_by(
        "n_person_id", "n_rule", year=pl.col("occurred").dt.year().cast(pl.Int32)
    ).agg(used=pl.col("size").sum())


def apply_yearly_caps(
    connection: Connection, accepted: pl.DataFrame, caps: dict[tuple[str, str], int]
) -> pl.DataFrame:
    """Cut the points of accepted rows beyond their rule's yearly cap; adds ``points_cut``.

    ``caps`` maps (catalogue version, rule) to ``max_points_per_year``. Rows are allotted in
    row order, after what stored counting entries of the same person, rule and year used.
    """
    if not caps or accepted.height == 0:
        return accepted.with_columns(points_cut=pl.lit(0, pl.Int64))
    cap_of = pl.DataFrame(
        [(v, r, c) for (v, r), c in caps.items()],
        orient="row",
        schema={"version": pl.String, "n_rule": pl.String, "cap": pl.Int64},
    )
    # Only the rows of capped rules are allotted (the window below over a whole batch cost ten
    # times more); their cuts are joined back by row number, unique in a batch.
    capped = accepted.join(
        cap_of, on=["version", "n_rule"], how="inner", maintain_order="left"
    ).select("row", "n_person_id", "n_rule", "points", "cap", year=_YEAR)
    if capped.height == 0:
        return accepted.with_columns(points_cut=pl.lit(0, pl.Int64))
    used = _used_this_year(connection, capped)
    capped = capped.join(
        used, on=["n_person_id", "n_rule", "year"], how="left", maintain_order="left"
    )
    size = pl.col("points").abs()
    before = pl.col("used").fill_null(0) + (
        size.cum_sum().over(["n_person_id", "n_rule", "year"], order_by="row") - size
    )
    allowed = (pl.col("cap") - before).clip(lower_bound=0)
    cuts = capped.select("row", cut=size - pl.min_horizontal(size, allowed))
    cut = pl.col("cut").fill_null(0)
    return (
        accepted.join(cuts, on="row", how="left", maintain_order="left")
        .with_columns(points=pl.col("points").sign() * (size - cut), points_cut=cut)
        .drop("cut")
    )
