"""Yearly caps on points: a rule's ``max_points_per_year``.

Such a rule gives a person at most that many points (in absolute value) per calendar year of
``occurred_on``; events beyond the cap are accepted and shown, and add nothing. Points are
allotted in the order events arrive, after what the person's counting entries of that rule
and year already used (whichever catalogue version judged them); an entry's points never
change afterwards.

On PostgreSQL the transactions that write entries counting toward a cap take turns
(``repository.take_cap_turn``), so that each allots against what the one before committed. An
import reads a batch's stored use while the batch before it is written (``read_use_ahead``),
and ``OwnUse.settle`` then makes it exact against that batch, or reads it again when another
writer wrote such entries since.
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
    "capped_rule_codes",
    "counts_toward_caps",
    "has_capped_rows",
    "read_use_ahead",
    "stored_use",
    "take_cap_turn",
]

Caps = dict[tuple[str, str], int]  # (catalogue version, rule) -> max_points_per_year

_YEAR = pl.col("n_occurred").dt.year().cast(pl.Int32)
_KEY = ["n_person_id", "n_rule", "year"]
_USED_SCHEMA = pl.Schema(
    {"n_person_id": pl.String(), "n_rule": pl.String(), "year": pl.Int32(), "used": pl.Int64()}
)


def capped_rule_codes(caps: Caps) -> list[str]:
    """The rules capped in some catalogue version: their entries count toward the cap
    whatever version judged them."""
    return sorted({rule for _, rule in caps})


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
    rules = capped_rule_codes(caps)
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
    (``OwnUse.settle``).
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
    """A batch's stored cap use, read while the batch before it was being written, with how
    many of the import's rows had committed when it was read (``imports.submitted``) and how
    many transactions had written entries that count toward a cap (``yearly_cap_writes``)."""

    stored: pl.DataFrame
    committed_rows: int
    cap_writes: int


def counts_toward_caps(accepted: pl.DataFrame, caps: Caps) -> bool:
    """Whether writing ``accepted`` changes what any yearly cap has used: it has rows of a
    rule capped in some catalogue version (their entries count, whatever version judged them),
    or it corrects or repairs events (their originals may stop counting)."""
    if not caps:
        return False
    return _any_capped(accepted, caps) or references(accepted).height > 0


def has_capped_rows(rows: pl.DataFrame, caps: Caps) -> bool:
    """Whether any accepted row of ``rows`` is of a rule capped in some catalogue version."""
    return _any_capped(rows.filter(pl.col("outcome") == "accepted"), caps)


def _any_capped(accepted: pl.DataFrame, caps: Caps) -> bool:
    return bool(accepted["n_rule"].is_in(capped_rule_codes(caps)).any())


def take_cap_turn(connection: Connection, accepted: pl.DataFrame, caps: Caps) -> int | None:
    """PostgreSQL, a batch whose ``accepted`` rows change what a yearly cap has used: take the
    cap writers' turn before reading any use, and return how many had committed before it.
    Without turns, two imports writing the same person's capped rule at once each allotted
    the cap against what had committed when they looked, and together allotted more. SQLite:
    its write transaction is already the only writer (None, as for a batch that needs no
    turn)."""
    if connection.dialect.name == "sqlite" or not counts_toward_caps(accepted, caps):
        return None
    return repository.take_cap_turn(connection)


def read_use_ahead(
    connection: Connection, accepted: pl.DataFrame, caps: Caps, import_id: int
) -> UseAhead | None:
    """The stored use of ``accepted``'s caps, with the import's committed rows and the cap
    writers' count read before and after it: each statement sees what had committed when it
    began (READ COMMITTED), so equal readings say what the use counts. Unequal: something
    committed while it was read, and what it counts is not known (None: read it again).
    A batch that takes no cap writers' turn uses nothing ahead: None without a query."""
    if not counts_toward_caps(accepted, caps):
        return None
    progress = repository.import_progress(connection, import_id)
    stored = stored_use(connection, accepted, caps)
    if repository.import_progress(connection, import_id) != progress:
        return None
    return UseAhead(stored, *progress)


@dataclass
class OwnUse:
    """An import's side of the use read ahead: what its last written batch used.

    When the next batch's use was read, every batch before the last had committed, and the
    last had or had not (its committed rows say which). If it had, the use counts it; if not,
    its accepted rows' use is added, unless it corrected or repaired events: their originals
    may have stopped counting, and the batch reads its use from the store instead.

    Other imports: every transaction that writes entries counting toward a cap takes its turn
    first (``repository.take_cap_turn``), which says how many such writers had committed. If
    that is more than when the use was read (besides the import's own last batch), someone
    else wrote such entries since, and the batch reads its use again, in its turn.
    """

    caps: Caps
    rows_before: int = 0  # the import's rows committed before its last batch
    rows_after: int = 0  # ... and with it
    last_use: pl.DataFrame | None = field(default_factory=lambda: pl.DataFrame(schema=_USED_SCHEMA))
    last_turns: int = 0  # cap writers' turns the last batch took: 0 or 1

    def settle(self, ahead: UseAhead | None, cap_writes: int | None) -> pl.DataFrame | None:
        """The stored use for the next batch, exact; None when only the store can tell.

        ``cap_writes``: the cap writers committed before this batch's turn (None: it took no
        turn, and so has no capped rows to allot)."""
        if ahead is None or cap_writes is None:
            return None
        if ahead.committed_rows == self.rows_after and cap_writes == ahead.cap_writes:
            return ahead.stored
        last_unseen = ahead.committed_rows == self.rows_before
        if last_unseen and cap_writes == ahead.cap_writes + self.last_turns:
            return None if self.last_use is None else _add_use(ahead.stored, self.last_use)
        return None

    def written(self, classified: pl.DataFrame, *, took_turn: bool) -> None:
        """A batch committed: its rows with their outcomes; ``took_turn``: as a cap writer."""
        accepted = classified.filter(pl.col("outcome") == "accepted")
        self.rows_before, self.rows_after = self.rows_after, self.rows_after + classified.height
        self.last_turns = int(took_turn)
        refers = references(accepted).height > 0  # it corrected or repaired events
        self.last_use = None if refers else batch_use(accepted, self.caps)
