"""Use case: an agency's events file becomes entries, duplicates and rejects, none lost.

Each row ends as exactly one of accepted, duplicate or rejected (with a reason that names the
row), so ``submitted == accepted + duplicates + rejected`` always holds (checked as an
invariant per batch). Each batch is written in one transaction: its entries, its rejections
and the import's counters together.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
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
    apply_yearly_caps,
    fetch_originals,
    join_originals,
    original_changes,
    reference_checks,
)
from socialcredit.services.models import EventImportResult
from socialcredit.services.notices import record_entry_notices
from socialcredit.services.registry import Registry
from socialcredit.store import due_process, ledger, repository
from socialcredit.store.bulk import ENTRY_COLUMNS, insert_entries, merge_entries

__all__ = ["RowOutcomes", "import_events", "import_event_frame"]

# Called once per written batch with the judged rows: ``row``, ``outcome``, ``reason``,
# ``message`` and the normalised fields (``n_event_id``, ...); the HTTP API answers per row.
RowOutcomes = Callable[[pl.DataFrame], None]


@dataclass
class _Batch:
    """One judged batch on its way into the store."""

    judged: pl.DataFrame
    import_id: int
    recorded_at: datetime
    caps: dict[tuple[str, str], int]  # (version, rule) -> max_points_per_year


def _entries_frame(frame: pl.DataFrame, import_id: int, recorded_at: datetime) -> pl.DataFrame:
    # Insert in key order: the unique index then grows at its right edge, which is cheaper.
    return (
        frame.sort("n_agency", "n_event_id")
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
    classified = classify_keys(batch.judged, stored)
    accepted = classified.filter(pl.col("outcome") == "accepted")
    capped = apply_yearly_caps(connection, accepted, batch.caps).select(
        "row", "points", "points_cut"
    )
    return classified.drop("points").join(capped, on="row", how="left", maintain_order="left")


def _merge_batch(connection: Connection, batch: _Batch, classified: pl.DataFrame) -> pl.DataFrame:
    """PostgreSQL: one merge, then settle the rows whose keys it found taken.

    Under READ COMMITTED another transaction may commit one of our keys at any moment, so
    "look, then insert" is never final. The merge is: it inserts every free key and reports
    the taken ones, each held by an entry committed before it ended. Those rows are settled
    against the stored entries (duplicate or conflict); the rows that went in stay accepted.
    Nothing is inserted twice, and no later commit can change the answer.
    """
    accepted = classified.filter(pl.col("outcome") == "accepted")
    taken = merge_entries(connection, _entries_frame(accepted, batch.import_id, batch.recorded_at))
    if taken.height == 0:
        return classified
    stored = repository.fetch_entry_keys(connection, taken)
    invariant(stored.height == taken.height, "every taken key is held by a committed entry")
    # The rows that went in keep the points they were written with (caps included).
    settled = (
        classify_keys(batch.judged, stored)
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
    return settled


def _write_batch(connection: Connection, batch: _Batch) -> pl.DataFrame:
    """Write a judged batch; returns it with ``outcome`` settled for every row."""
    candidates = batch.judged
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
        keys = (
            candidates.filter(pl.col("reason").is_null())
            .select(agency="n_agency", event_id="n_event_id")
            .unique()
        )
        stored = repository.fetch_entry_keys(connection, keys)
        classified = _classify(connection, batch, stored)
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


def _judge(
    registry: Registry,
    batch: pl.DataFrame,
    frames: CatalogueFrames,
    people: imports.PeopleLookup,
    bound_agency: str | None,
) -> pl.DataFrame:
    normal = normalise_events(batch)
    known = people.fetch(normal["n_person_id"])
    with registry.database.read() as connection:
        originals = fetch_originals(connection, normal)
    normal = join_originals(normal, originals, registry.catalogues())
    return judge_events(
        normal,
        frames,
        known,
        today=registry.clock.today(),
        max_field_chars=registry.settings.max_field_chars,
        bound_agency=bound_agency,
        extra_checks=reference_checks(),
    )


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
    record_entry_notices(connection, import_id, mark)


def _caps(registry: Registry) -> dict[tuple[str, str], int]:
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
    frames = catalogue_frames(registry.catalogues())
    caps = _caps(registry)
    people = imports.PeopleLookup(registry, names=("id", "public_servant"))
    with registry.database.write() as connection:
        import_id = repository.start_import(
            connection, "events", source, sha256, registry.clock.now()
        )
    totals: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for batch in imports.batches(raw, registry.settings.batch_rows):
        judged = _judge(registry, batch, frames, people, bound_agency)
        recorded_at = registry.clock.now()
        with registry.database.write() as connection:
            mark = ledger.max_id(connection, "entries")
            classified = _write_batch(connection, _Batch(judged, import_id, recorded_at, caps))
            _effects(connection, classified, mark, import_id, recorded_at)
            totals += _record(connection, classified, columns, import_id, recorded_at)
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
