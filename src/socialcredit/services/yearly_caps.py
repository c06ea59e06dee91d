"""Yearly caps on points: a rule's ``max_points_per_year``.

Such a rule gives a person at most that many points (in absolute value) per calendar year of
``occurred_on``; events beyond the cap are accepted and shown, and add nothing. Points are
allotted in the order events arrive, after what the person's counting entries of that rule
and year already used (whichever catalogue version judged them); an entry's points never
change afterwards.

An import over PostgreSQL reads a batch's stored use while the batch before it is written
(``read_use_ahead``), and ``UseAhead.settle`` then makes it exact against that batch.
"""

from dataclasses import dataclass, field
from datetime import date

import polars as pl
from sqlalchemy import Connection, and_, func, select

from socialcredit.services.event_references import references
from socialcredit.store import repository
from socialcredit.store.schema import entries

__all__ = [
    "Caps",
    "OwnUse",
    "UseAhead",
    "apply_yearly_caps",
    "batch_use",
    "capped_rows",
    "read_use_ahead",
    "stored_use",
]

Caps = dict[tuple[str, str], int]  # (catalogue version, rule) -> max_points_per_year

_YEAR = pl.col("n_occurred").dt.year().cast(pl.Int32)
_KEY = ["n_person_id", "n_rule", "year"]
_USED_SCHEMA = pl.Schema(
    {"n_person_id": pl.String(), "n_rule": pl.String(), "year": pl.Int32(), "used": pl.Int64()}
)


def capped_rows(accepted: pl.DataFrame, caps: Caps) -> pl.DataFrame:
    """The accepted rows of rules with a yearly cap: row, person, rule, points, cap, year.

    Only these rows are allotted (a window over a whole batch cost ten times more); their
    cuts are joined back by row number, unique in a batch.
    """
    schema = {"version": pl.String, "n_rule": pl.String, "cap": pl.Int64}
    cap_of = pl.DataFrame([(v, r, c) for (v, r), c in caps.items()], orient="row", schema=schema)
    return accepted.join(
        cap_of, on=["version", "n_rule"], how="inner", maintain_order="left"
    ).select("row", "n_person_id", "n_rule", "points", "cap", year=_YEAR)


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
    schema = {"n_person_id": pl.String, "n_rule": pl.String, "occurred": pl.Date, "size": pl.Int64}
    stored = pl.DataFrame(rows, orient="row", schema=schema)
    return stored.group_by(
        "n_person_id", "n_rule", year=pl.col("occurred").dt.year().cast(pl.Int32)
    ).agg(used=pl.col("size").sum())


def stored_use(connection: Connection, accepted: pl.DataFrame, caps: Caps) -> pl.DataFrame:
    """What the store's counting entries used of the caps of ``accepted``'s capped rows,
    per (person, rule, year): what ``apply_yearly_caps`` reads when not given it."""
    capped = capped_rows(accepted, caps) if caps else pl.DataFrame()
    if capped.height == 0:
        return pl.DataFrame(schema=_USED_SCHEMA)
    return _used_this_year(connection, capped)


def batch_use(written: pl.DataFrame, caps: Caps) -> pl.DataFrame:
    """Points a written batch's accepted rows used per (person, rule, year), for every rule
    capped in some catalogue version: the store's use counts a rule's entries whatever
    version judged them, so here too."""
    rules = sorted({rule for _, rule in caps})
    used = written.filter(pl.col("n_rule").is_in(rules)).select(
        "n_person_id", "n_rule", year=_YEAR, size=pl.col("points").abs()
    )
    return used.group_by(_KEY).agg(used=pl.col("size").sum().cast(pl.Int64))


def _add_use(*frames: pl.DataFrame) -> pl.DataFrame:
    return (
        pl.concat([frame.select(_USED_SCHEMA.names()).cast(_USED_SCHEMA) for frame in frames])
        .group_by(_KEY)
        .agg(pl.col("used").sum())
    )


def apply_yearly_caps(
    connection: Connection,
    accepted: pl.DataFrame,
    caps: Caps,
    used: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Cut the points of accepted rows beyond their rule's yearly cap; adds ``points_cut``.

    Rows are allotted in row order, after what stored counting entries of the same person,
    rule and year used: read from the store, or ``used`` when the caller has it
    (``UseAhead.settle``).
    """
    if not caps or accepted.height == 0:
        return accepted.with_columns(points_cut=pl.lit(0, pl.Int64))
    capped = capped_rows(accepted, caps)
    if capped.height == 0:
        return accepted.with_columns(points_cut=pl.lit(0, pl.Int64))
    if used is None:
        used = _used_this_year(connection, capped)
    capped = capped.join(used, on=_KEY, how="left", maintain_order="left")
    size = pl.col("points").abs()
    before = pl.col("used").fill_null(0) + (size.cum_sum().over(_KEY, order_by="row") - size)
    allowed = (pl.col("cap") - before).clip(lower_bound=0)
    cuts = capped.select("row", cut=size - pl.min_horizontal(size, allowed))
    cut = pl.col("cut").fill_null(0)
    return (
        accepted.join(cuts, on="row", how="left", maintain_order="left")
        .with_columns(points=pl.col("points").sign() * (size - cut), points_cut=cut)
        .drop("cut")
    )


@dataclass(frozen=True, slots=True)
class UseAhead:
    """A batch's stored cap use, read while the batch before it was being written, and how
    many of the import's rows had committed when it was read (``imports.submitted``)."""

    stored: pl.DataFrame
    committed_rows: int


def read_use_ahead(
    connection: Connection, accepted: pl.DataFrame, caps: Caps, import_id: int
) -> UseAhead | None:
    """The stored use of ``accepted``'s caps, with the import's committed rows counted before
    and after it: each statement sees what had committed when it began (READ COMMITTED), so
    equal counts say which of the import's batches the use counts. Unequal: the batch before
    committed while it was read, and which it counts is not known (None: read it again)."""
    committed_rows = repository.import_submitted(connection, import_id)
    stored = stored_use(connection, accepted, caps)
    if repository.import_submitted(connection, import_id) != committed_rows:
        return None
    return UseAhead(stored, committed_rows)


@dataclass
class OwnUse:
    """An import's side of the use read ahead: what its last written batch used.

    When the next batch's use was read, every batch before the last had committed, and the
    last had or had not (its committed rows say which). If it had, the use counts it; if not,
    its accepted rows' use is added, unless it corrected or repaired events: their originals
    may have stopped counting, and the batch reads its use from the store instead.
    """

    caps: Caps
    rows_before: int = 0  # the import's rows committed before its last batch
    rows_after: int = 0  # ... and with it
    last_use: pl.DataFrame | None = field(default_factory=lambda: pl.DataFrame(schema=_USED_SCHEMA))

    def settle(self, ahead: UseAhead | None) -> pl.DataFrame | None:
        """The stored use for the next batch, exact; None when only the store can tell."""
        if ahead is None:
            return None
        if ahead.committed_rows == self.rows_after:
            return ahead.stored
        if ahead.committed_rows == self.rows_before and self.last_use is not None:
            return _add_use(ahead.stored, self.last_use)
        return None

    def written(self, classified: pl.DataFrame) -> None:
        """A batch committed: its rows with their outcomes."""
        accepted = classified.filter(pl.col("outcome") == "accepted")
        self.rows_before, self.rows_after = self.rows_after, self.rows_after + classified.height
        refers = references(accepted).height > 0  # it corrected or repaired events
        self.last_use = None if refers else batch_use(accepted, self.caps)
