"""Use case: an agency's events file becomes entries, duplicates and rejects, none lost.

Each row ends as exactly one of accepted, duplicate or rejected (with a reason that names the
row), so ``submitted == accepted + duplicates + rejected`` always holds (checked as an
invariant per batch). Each batch is written in one transaction: its entries, its rejections
and the import's counters together.
"""

from collections import Counter
from collections.abc import Callable, Generator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path

import polars as pl
from sqlalchemy import Connection

from socialcredit.domain.invariant import invariant
from socialcredit.files.writers import TableWriter
from socialcredit.services import imports
from socialcredit.services.event_judge import (
    EVENT_COLUMNS,
    EVENT_REQUIRED,
    CatalogueFrames,
    catalogue_frames,
    classify_keys,
    judge_events,
    normalise_events,
)
from socialcredit.services.event_references import (
    fetch_originals,
    join_originals,
    original_changes,
    reference_checks,
    references,
)
from socialcredit.services.models import EventImportResult
from socialcredit.services.notices import adverse_rows, entry_notice_rows, record_entry_notices
from socialcredit.services.registry import Registry
from socialcredit.services.yearly_caps import (
    Caps,
    OwnUse,
    UseAhead,
    apply_yearly_caps,
    has_capped_rows,
    read_use_ahead,
    take_cap_turn,
)
from socialcredit.store import due_process, ledger, repository
from socialcredit.store.bulk import (
    ENTRY_COLUMNS,
    Merged,
    copy_entries,
    insert_entries,
    merge_entries,
    new_entry_ids,
    new_notice_ids,
)
from socialcredit.store.statistics import kept_up

__all__ = ["RowOutcomes", "import_events", "import_event_frame"]

# Called once per written batch with the judged rows: ``row``, ``outcome``, ``reason``,
# ``message`` and the normalised fields (``n_event_id``, ...); the HTTP API answers per row.
RowOutcomes = Callable[[pl.DataFrame], None]


@dataclass(frozen=True, slots=True)
class _Judged:
    """A batch judged, its keys settled among its own rows (``classify_keys`` without the
    store), and on PostgreSQL ids drawn for the rows accepted so far: none of it needs the
    batch's transaction, so it is worked out ahead with the judging."""

    rows: pl.DataFrame  # each row accepted for now, or rejected with its reason
    keyed: pl.DataFrame  # ``rows`` with ``outcome``, keys settled among them
    ids: pl.Series | None  # PostgreSQL: ids for the rows accepted so far, drawn ahead too
    notice_ids: pl.Series | None  # ... and for their notices (adverse rows; caps only cut)
    use: UseAhead | None  # ... and the stored use of their yearly caps


@dataclass
class _Batch:
    """One judged batch on its way into the store."""

    judged: _Judged
    used: pl.DataFrame | None  # its capped rules' use before it, if known (``OwnUse.settle``)
    import_id: int
    recorded_at: datetime
    caps: Caps


def _entries_frame(frame: pl.DataFrame, import_id: int, recorded_at: datetime) -> pl.DataFrame:
    # Insert in key order: the unique index then grows at its right edge, which is cheaper.
    # The order was worked out with the judging (``key_order``): sorting by two text columns
    # here cost 25 ms a batch between two COPYs, with the server idle.
    return (
        frame.sort("key_order")
        .select(
            agency="n_agency",
            event_id="n_event_id",
            person_id="n_person_id",
            rule="n_rule",
            occurred_on="n_occurred",
            evidence="n_evidence",
            catalogue_version="version",
            points="points",
            counts_until="counts_until",
            blacklist_until="blacklist_until",
            grade_cap="grade_cap",
            import_id=pl.lit(import_id),
            recorded_at=pl.lit(recorded_at.replace(tzinfo=None)),
            points_cut="points_cut",
            corrects="n_corrects",
            repairs="n_repairs",
        )
        .select(ENTRY_COLUMNS)
    )


def _classify(connection: Connection, batch: _Batch, stored: pl.DataFrame | None) -> pl.DataFrame:
    """Settle keys, then cut the accepted rows' points beyond their rule's yearly cap."""
    judged = batch.judged
    classified = judged.keyed if stored is None else classify_keys(judged.rows, stored)
    accepted = classified.filter(pl.col("outcome") == "accepted")
    used = batch.used if stored is None else None
    capped = apply_yearly_caps(connection, accepted, batch.caps, used).select(
        "row", "points", "points_cut"
    )
    return classified.drop("points").join(capped, on="row", how="left", maintain_order="left")


def _stored_keys(connection: Connection, batch: _Batch) -> pl.DataFrame:
    """The stored entries holding any key of the batch's rows that passed judging."""
    keys = (
        batch.judged.rows.filter(pl.col("reason").is_null())
        .select(agency="n_agency", event_id="n_event_id")
        .unique()
    )
    return repository.fetch_entry_keys(connection, keys)


def _merge_allotted(
    connection: Connection, batch: _Batch, classified: pl.DataFrame
) -> tuple[pl.DataFrame, Merged]:
    """Merge the accepted rows, their caps allotted to the rows that are written.

    Capped rows are allotted in row order, each after the ones before it. A row whose key is
    taken (sent before: an agency's file sent again with new rows) is not written, so the cap
    it was allotted would go unused: when the first COPY finds a key taken, the batch is
    settled against the store (as SQLite does) and allotted again before it is merged. Only a
    key committed in between, by a batch of no capped rule, can still take a capped row's
    place after its allotment (a conflict: the same agency's event ID, another content)."""
    accepted = classified.filter(pl.col("outcome") == "accepted")
    notices = partial(entry_notice_rows, ids=batch.judged.notice_ids)
    frame = _entries_frame(accepted, batch.import_id, batch.recorded_at)
    if has_capped_rows(accepted, batch.caps):
        copied = copy_entries(connection, frame, notices, batch.judged.ids)
        if copied is not None:
            return classified, copied
        classified = _classify(connection, batch, _stored_keys(connection, batch))
        accepted = classified.filter(pl.col("outcome") == "accepted")
        frame = _entries_frame(accepted, batch.import_id, batch.recorded_at)
    return classified, merge_entries(connection, frame, notices, batch.judged.ids)


def _merge_batch(connection: Connection, batch: _Batch, classified: pl.DataFrame) -> pl.DataFrame:
    """PostgreSQL: one merge, then settle the rows whose keys it found taken.

    Under READ COMMITTED another transaction may commit one of our keys at any moment, so
    "look, then insert" is never final. The merge is: it inserts every free key and reports
    the taken ones, each held by an entry committed before it ended. Those rows are settled
    against the stored entries (duplicate or conflict); the rows that went in stay accepted.
    Nothing is inserted twice, and no later commit can change the answer. The notices of the
    entries that went in are written right behind them (``entry_notice_rows``).
    """
    classified, merged = _merge_allotted(connection, batch, classified)
    accepted = classified.filter(pl.col("outcome") == "accepted")
    taken = merged.taken
    if taken.height == 0:
        return classified
    stored = repository.fetch_entry_keys(connection, taken)
    invariant(stored.height == taken.height, "every taken key is held by a committed entry")
    # The rows that went in keep the points they were written with (caps included).
    settled = (
        classify_keys(batch.judged.rows, stored)
        .drop("points")
        .join(
            classified.select("row", "points", "points_cut"),
            on="row",
            how="left",
            maintain_order="left",
        )
    )
    written = settled.filter(pl.col("outcome") == "accepted").height
    invariant(written == accepted.height - taken.height, "the accepted rows are the merged ones")
    invariant(written == merged.written.height, "the merge wrote the accepted rows")
    return settled


def _write_batch(connection: Connection, batch: _Batch) -> pl.DataFrame:
    """Write a judged batch; returns it with ``outcome`` settled for every row."""
    classified = _classify(connection, batch, None)
    if connection.dialect.name != "sqlite":
        return _merge_batch(connection, batch, classified)
    # SQLite: this transaction holds the only write lock, so after a short insert the store
    # stands still while the batch is settled against it and inserted again.
    accepted = classified.filter(pl.col("outcome") == "accepted")
    savepoint = connection.begin_nested()
    written = insert_entries(
        connection, _entries_frame(accepted, batch.import_id, batch.recorded_at)
    )
    if written != accepted.height:
        # Some keys are taken by earlier imports: settle against what the store holds.
        savepoint.rollback()
        classified = _classify(connection, batch, _stored_keys(connection, batch))
        accepted = classified.filter(pl.col("outcome") == "accepted")
        written = insert_entries(
            connection, _entries_frame(accepted, batch.import_id, batch.recorded_at)
        )
        invariant(written == accepted.height, "every settled key was free")
    else:
        savepoint.commit()
    return classified


def _record(
    connection: Connection,
    classified: pl.DataFrame,
    columns: list[str],
    import_id: int,
    recorded_at: datetime,
) -> Counter[str]:
    outcomes = Counter(classified["outcome"].to_list())
    rejected = classified.filter(pl.col("outcome") == "rejected").with_columns(
        recorded_at=pl.lit(recorded_at.replace(tzinfo=None))
    )
    imports.store_rejections(connection, rejected, columns, import_id)
    repository.add_import_counts(
        connection,
        import_id,
        submitted=classified.height,
        accepted=outcomes["accepted"],
        duplicates=outcomes["duplicate"],
        rejected=outcomes["rejected"],
    )
    invariant(sum(outcomes.values()) == classified.height, "every row has one outcome")
    return outcomes


# Each row's place in key order (agency, event_id; byte order, as the store writes them).
_KEY_ORDER = pl.arg_sort_by("n_agency", "n_event_id").arg_sort().cast(pl.UInt32)


@dataclass
class _Judge:
    """Judges batches of one import: each row accepted for now, or rejected with its reason."""

    registry: Registry
    frames: CatalogueFrames
    people: imports.PeopleLookup
    bound_agency: str | None
    import_id: int
    caps: Caps

    def __call__(self, batch: pl.DataFrame) -> _Judged:
        return self._finish(normalise_events(batch))

    def ahead(self, batch: pl.DataFrame) -> _Judged | None:
        """Judge ``batch`` while the batch before it is still being written, or ``None``.

        Judging reads the register of people (an events import does not change it) and the
        originals of corrections and repairs, which may be in the batch being written: a batch
        with such rows gives ``None``, and is judged once that batch has committed.
        """
        normal = normalise_events(batch)
        if references(normal).height:
            return None
        return self._finish(normal, early=not self.registry.database.is_sqlite)

    def _finish(self, normal: pl.DataFrame, *, early: bool = False) -> _Judged:
        """Judge a normalised batch; ``early`` (PostgreSQL, ahead): also draw its entries' and
        notices' ids and read its yearly caps' stored use, while the server writes the batch
        before."""
        known = self.people.fetch(normal["n_person_id"])
        with self.registry.database.read() as connection:
            originals = fetch_originals(connection, normal)
        normal = join_originals(normal, originals, self.registry.catalogues())
        judged = judge_events(
            normal,
            self.frames,
            known,
            today=self.registry.clock.today(),
            max_field_chars=self.registry.settings.max_field_chars,
            bound_agency=self.bound_agency,
            extra_checks=reference_checks(),
        )
        judged = judged.with_columns(key_order=_KEY_ORDER)
        keyed = classify_keys(judged, None)
        if not early:
            return _Judged(judged, keyed, None, None, None)
        accepted = keyed.filter(pl.col("outcome") == "accepted")
        # ``merge_entries`` draws its own ids if keys taken in the store change the count.
        with self.registry.database.write() as connection:
            ids = new_entry_ids(connection, accepted.height)
            adverse = accepted.filter(adverse_rows()).height
            notice_ids = new_notice_ids(connection, adverse)
            use = read_use_ahead(connection, accepted, self.caps, self.import_id)
        return _Judged(judged, keyed, ids, notice_ids, use)


def _judged(
    judge: _Judge, raw: pl.DataFrame, batch_rows: int, *, ahead: bool
) -> Generator[_Judged, None, None]:
    """The batches of ``raw``, judged, in order.

    ``ahead``: batch k+1 is judged in a helper thread while the caller writes batch k (the
    generator is resumed only once that write is done). Worth it where the database works in
    a process of its own (PostgreSQL): its writing and our judging then overlap. In SQLite
    both compete for the same two cores and it was slower (24.5 s against 21.6 s for 1M).
    """
    batches = list(imports.batches(raw, batch_rows))
    if not ahead:
        for batch in batches:
            yield judge(batch)
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="socialcredit-judge") as helper:
        pending: Future[_Judged | None] | None = None
        for index, batch in enumerate(batches):
            judged = pending.result() if pending is not None else None
            if judged is None:  # the first batch, or one that waited for the one before
                judged = judge(batch)
            if index + 1 < len(batches):
                pending = helper.submit(judge.ahead, batches[index + 1])
            yield judged


def _effects(
    connection: Connection,
    classified: pl.DataFrame,
    mark: int,
    import_id: int,
    recorded_at: datetime,
) -> None:
    """What accepted entries change besides themselves, in the batch's transaction: the
    originals they correct or repair, and the notices the persons get (each naming its entry:
    the entries inserted since ``mark``)."""
    accepted = classified.filter(pl.col("outcome") == "accepted")
    changes = original_changes(accepted, recorded_at, f"import {import_id}")
    if changes.height:
        due_process.append_entry_changes(connection, changes)
    # No leaf per entry notice: it is a function of its entry (person, entry id, the batch's
    # moment), and the entry has its leaf; verify holds each notice to its entry and every
    # adverse entry to its notice (services.ledger_verify). A leaf each was 40% of an import's
    # leaves.
    if connection.dialect.name == "sqlite":  # PostgreSQL wrote them behind the entries
        record_entry_notices(connection, import_id, mark)


def _write_judged(
    registry: Registry,
    judged: _Judged,
    own_use: OwnUse,
    import_id: int,
    columns: list[str],
) -> tuple[pl.DataFrame, Counter[str]]:
    """One judged batch in one transaction: its entries, their effects, its rejections and
    the import's counters. Returns the rows with their settled outcomes, and their counts."""
    with registry.database.write() as connection:
        accepted = judged.keyed.filter(pl.col("outcome") == "accepted")
        cap_writes = take_cap_turn(connection, accepted, own_use.caps)  # first: one lock order
        used = own_use.settle(judged.use, cap_writes)
        batch = _Batch(judged, used, import_id, registry.clock.now(), own_use.caps)
        mark = ledger.max_id(connection, "entries")
        classified = _write_batch(connection, batch)
        _effects(connection, classified, mark, batch.import_id, batch.recorded_at)
        outcomes = _record(connection, classified, columns, batch.import_id, batch.recorded_at)
    own_use.written(classified, took_turn=cap_writes is not None)
    return classified, outcomes


def _caps(registry: Registry) -> Caps:
    return {
        (catalogue.version, rule.code): rule.max_points_per_year
        for catalogue in registry.catalogues()
        for rule in catalogue.rules.values()
        if rule.max_points_per_year is not None
    }


def import_event_frame(
    registry: Registry,
    raw: pl.DataFrame,
    columns: list[str],
    *,
    source: str,
    sha256: str | None = None,
    rejects: TableWriter | None = None,
    progress: imports.Progress | None = None,
    bound_agency: str | None = None,
    row_outcomes: RowOutcomes | None = None,
) -> EventImportResult:
    """Import already-read rows (``row``, the file's columns, ``malformed``).

    ``bound_agency``: the rows come from an account of that agency; rows naming another are
    rejected (``not-your-agency``). ``row_outcomes`` receives each batch's per-row outcomes.
    """
    caps = _caps(registry)
    with registry.database.write() as connection:
        import_id = repository.start_import(
            connection, "events", source, sha256, registry.clock.now()
        )
    judge = _Judge(
        registry,
        catalogue_frames(registry.catalogues()),
        imports.PeopleLookup(registry, names=("id", "public_servant")),
        bound_agency,
        import_id,
        caps,
    )
    own_use = OwnUse(caps)
    totals: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    # One batch (an agency's API call) has nothing to judge ahead.
    ahead = not registry.database.is_sqlite and raw.height > registry.settings.batch_rows
    # Closed on the way out, also on an error: a batch judged ahead is waited for, and its
    # helper thread and read connection are let go at once.
    batches = _judged(judge, raw, registry.settings.batch_rows, ahead=ahead)
    # The entries' statistics are kept up with the import (store.statistics): the yearly-caps
    # query of each batch is planned with them.
    with closing(batches), kept_up(registry.database.engine, "entries") as statistics:
        for judged in batches:
            classified, outcomes = _write_judged(registry, judged, own_use, import_id, columns)
            statistics.added(outcomes["accepted"])
            totals += outcomes
            rejected = classified.filter(pl.col("outcome") == "rejected")
            reasons.update(rejected["reason"].to_list())
            if row_outcomes is not None:
                row_outcomes(classified)
            if rejects is not None:
                rejects.write(imports.rejects_frame(rejected, columns))
            if progress is not None:
                progress(sum(totals.values()), raw.height)
    with registry.database.write() as connection:
        repository.finish_import(connection, import_id, registry.clock.now())
    result = EventImportResult(
        submitted=raw.height,
        accepted=totals["accepted"],
        duplicates=totals["duplicate"],
        rejected=totals["rejected"],
        reasons=dict(sorted(reasons.items())),
    )
    invariant(
        result.submitted == result.accepted + result.duplicates + result.rejected,
        "submitted = accepted + duplicates + rejected",
    )
    return result


def import_events(
    registry: Registry,
    path: Path,
    *,
    rejects_path: Path | None = None,
    encoding: str = "utf-8",
    progress: imports.Progress | None = None,
) -> EventImportResult:
    """Import an events file (CSV, JSON Lines or Parquet); rejects go to ``rejects_path``."""
    raw = imports.read_import_file(registry, path, encoding, EVENT_REQUIRED, EVENT_COLUMNS)
    rejects_path = imports.rejects_path_for(path, rejects_path)
    registry.catalogues()  # fail on a broken store before touching anything
    with imports.open_rejects(rejects_path, raw.columns) as rejects:
        result = import_event_frame(
            registry,
            raw.frame,
            raw.columns,
            source=str(path),
            sha256=raw.sha256,
            rejects=rejects,
            progress=progress,
        )
    return EventImportResult(**{**result.as_dict(), "rejects_path": str(rejects_path)})
