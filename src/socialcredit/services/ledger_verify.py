"""``socialcredit verify``: does the database still hold exactly what its log and signatures say?

1. Every record of every ledgered table is encoded again and hashed; it must equal the leaf
   the log holds for it. A record whose leaf differs was **altered**; a leaf whose record is
   gone was **deleted**; a record without a leaf was **inserted** behind the application's back.
   ``people`` (current state, updated in place) must equal each person's last recorded change;
   an entry notice (no leaf of its own) must fit its adverse entry, and each adverse entry have
   one.
2. The tree is rebuilt from the stored leaf hashes: its head and node tiles must match, and so
   must the root of every signed checkpoint (whose signatures are checked with the office's
   keys, which are not in the database).
3. A witness's exported checkpoint, if given, must be signed by the office and the stored tree
   must be an extension of it (same root at its size, and a consistency proof to the latest).

Leaves written after the latest checkpoint are checked like the others but are not covered by a
signature yet: the report says how many.
"""

import base64
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Connection, func, select

from socialcredit.domain import merkle
from socialcredit.services import keys
from socialcredit.services.ledger import (
    Checkpoint,
    checkpoint_problem,
    consistency_between,
    read_checkpoint_file,
)
from socialcredit.services.notices import adverse_rows
from socialcredit.services.registry import Registry
from socialcredit.store import leaves, ledger_read
from socialcredit.store.ledger_tree import TILE_HEIGHT, TILE_WIDTH, Head, leaf_hash_run, load_head
from socialcredit.store.schema import ledger_checkpoints, ledger_tiles, people, person_changes

__all__ = ["Finding", "VerifyReport", "verify_registry"]

SHOWN_PER_KIND = 1000  # findings listed per kind and problem; the counts are always complete


@dataclass(frozen=True, slots=True)
class Finding:
    problem: str  # altered | deleted | inserted | log | checkpoint | witness
    table: str
    key: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "problem": self.problem,
            "table": self.table,
            "key": self.key,
            "message": self.message,
        }


@dataclass
class VerifyReport:
    size: int = 0
    root: str = ""
    records: dict[str, int] = field(default_factory=dict)
    purged: int = 0
    findings: list[Finding] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    checkpoint: dict[str, Any] | None = None
    uncovered: int = 0
    witness: dict[str, Any] | None = None
    # Keys of records named altered or deleted, by kind: what depends on them is not named again.
    unsound: dict[str, set[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.counts

    def add(self, finding: Finding, *, shown: bool = True) -> None:
        self.counts[finding.problem] = self.counts.get(finding.problem, 0) + 1
        if shown:
            self.findings.append(finding)

    def note(self, problem: str, table: str, key: str | None, what: str) -> None:
        """A finding about ``key`` of ``table`` (or the log): "<table> <key> <what>: <problem>"."""
        subject = " ".join(part for part in (table, key) if part)
        self.add(Finding(problem, table, key, f"{subject} {what}: {problem}"))

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "size": self.size,
            "root": self.root,
            "records": self.records,
            "purged": self.purged,
            "problems": self.counts,
            "findings": [finding.as_dict() for finding in self.findings],
            "checkpoint": self.checkpoint,
            "uncovered": self.uncovered,
            "witness": self.witness,
        }


# --- records against leaves -----------------------------------------------------------------


def _stored_hashes(connection: Connection, size: int) -> pl.Series:
    data = leaf_hash_run(connection, 0, size) if size else b""
    return leaves.fixed_binary(data, merkle.HASH_SIZE).alias("stored")


def _check_map(report: VerifyReport, mapping: pl.DataFrame, size: int, stored: pl.Series) -> None:
    """Every leaf index 0 .. size-1 stands for exactly one record, and has a hash."""
    if stored.len() != size:
        report.add(Finding("log", "ledger", None, f"{stored.len()} leaf hashes for {size} leaves"))
    indexes = mapping["leaf"]
    if indexes.len() != size or (
        size and (indexes.n_unique() != size or indexes.max() != size - 1)
    ):
        report.add(
            Finding(
                "log",
                "ledger",
                None,
                f"{indexes.len()} leaves are mapped to records, {size} are in the tree",
            )
        )


def _label(kind: leaves.LeafSpec, frame: pl.DataFrame) -> pl.Series:
    """How a record is named in findings: its key, and an entry's agency and event ID."""
    if kind.kind != "entries":
        return frame["key"]
    named = pl.format("{} ({} {})", "key", "agency", "event_id")
    return frame.select(
        pl.when(pl.col("agency").is_not_null()).then(named).otherwise(pl.col("key"))
    ).to_series()


def _report_keys(
    report: VerifyReport, problem: str, kind: leaves.LeafSpec, labels: pl.Series, message: str
) -> None:
    for position, label in enumerate(labels.to_list()):
        finding = Finding(problem, kind.kind, str(label), message.format(key=label))
        report.add(finding, shown=position < SHOWN_PER_KIND)


def _check_kind(
    connection: Connection,
    report: VerifyReport,
    kind: leaves.LeafSpec,
    mapping: pl.DataFrame,
    purged: pl.DataFrame,
    stored: pl.Series,
) -> None:
    records = ledger_read.read_records(connection, kind)
    report.records[kind.kind] = records.height
    records = records.with_columns(key=pl.col(kind.key).cast(pl.String), **{"@row": pl.lit(True)})
    mine = mapping.filter(pl.col("kind") == kind.kind).drop("kind")
    doubled = mine.filter(pl.col("key").is_duplicated())["key"].unique()
    _report_keys(report, "log", kind, doubled, "{key}: more than one leaf claims this record")
    joined = records.join(mine, on="key", how="full", coalesce=True)
    inserted = joined.filter(pl.col("leaf").is_null())
    if kind.kind == "notices":
        inserted = _check_entry_notices(connection, report, records, inserted)
    _report_keys(
        report,
        "inserted",
        kind,
        _label(kind, inserted),
        "{key} has no leaf: inserted behind the application's back",
    )
    deleted = joined.filter(pl.col("@row").is_null())
    _report_keys(report, "deleted", kind, deleted["key"], "{key} has a leaf but no record: deleted")
    report.unsound[kind.kind] = set(deleted["key"].to_list())
    both = joined.filter(pl.col("leaf").is_not_null() & pl.col("@row").is_not_null())
    if both.height == 0:
        return
    if purged.width > 1:
        both = both.join(purged, on="leaf", how="left")
        gone = pl.any_horizontal(pl.col(c).is_not_null() for c in purged.columns if c != "leaf")
        report.purged += int(both.select(gone).to_series().sum())
    computed = pl.Series(ledger_read.recomputed_leaves(kind, both), dtype=pl.Binary)
    expected = (
        stored.gather(both["leaf"].clip(0, max(stored.len() - 1, 0))) if stored.len() else computed
    )
    altered = both.filter(computed != expected)
    report.unsound[kind.kind].update(altered["key"].to_list())
    _report_keys(
        report, "altered", kind, _label(kind, altered), "{key} no longer matches its leaf: altered"
    )


_ENTRY_FACTS = ("person_id", "recorded_at", "points", "grade_cap", "blacklist_until")


def _entry_facts(connection: Connection) -> pl.DataFrame:
    """Every entry's id, person, moment, and whether it is adverse (it costs points, caps the
    grade or blacklists: it has a notice)."""
    whole = leaves.spec("entries")
    facts = leaves.LeafSpec(
        "entries", "entries", "id", tuple(c for c in whole.columns if c.name in _ENTRY_FACTS)
    )
    return ledger_read.read_records(connection, facts).select(
        entry_id="id",
        told_person="person_id",
        told_at="recorded_at",
        adverse=adverse_rows(),
    )


def _check_entry_notices(
    connection: Connection, report: VerifyReport, records: pl.DataFrame, unleafed: pl.DataFrame
) -> pl.DataFrame:
    """Entry notices written by imports have no leaf: each is a function of its adverse entry,
    which has one. So a notice without a leaf that names an entry must tell exactly that entry
    (its person, its moment, no text of its own), and every adverse entry must have exactly one
    entry notice (with a leaf or without). Returns the leafless notices left: inserted.

    A notice of an entry already named as altered or deleted is not named again."""
    is_entry_notice = (pl.col("kind") == "entry") & pl.col("entry_id").is_not_null()
    entries = _entry_facts(connection)
    named = report.unsound.get("entries", set())
    held = (
        unleafed.filter(is_entry_notice)
        .join(entries, on="entry_id", how="left")
        .filter(~pl.col("entry_id").cast(pl.String).is_in(list(named)))
    )
    spec = leaves.spec("notices")
    _report_keys(
        report,
        "inserted",
        spec,
        held.filter(~pl.col("adverse").fill_null(False))["key"],
        "{key} tells of no adverse entry: inserted behind the application's back",
    )
    own_text = pl.any_horizontal(pl.col(c).is_not_null() for c in ("subject", "body", "detail"))
    differs = (
        (pl.col("person_id") != pl.col("told_person"))
        | (pl.col("recorded_at") != pl.col("told_at"))
        | own_text
    )
    altered = held.filter(pl.col("adverse").fill_null(False) & differs)["key"]
    _report_keys(report, "altered", spec, altered, "{key} no longer matches its entry: altered")
    told = records.filter(is_entry_notice)
    again = told.filter(pl.col("id") != pl.col("id").min().over("entry_id")).sort("id")["key"]
    _report_keys(
        report,
        "inserted",
        spec,
        again,
        "{key} is a second notice of its entry: inserted behind the application's back",
    )
    untold = entries.filter("adverse").join(told, on="entry_id", how="anti").sort("entry_id")
    _report_keys(
        report,
        "deleted",
        spec,
        untold.select(pl.format("entry {}", "entry_id")).to_series(),
        "the notice of {key} is gone: deleted",
    )
    return unleafed.filter(~is_entry_notice)


def _check_people(connection: Connection, report: VerifyReport) -> None:
    """``people`` is current state written in place: it must equal the last recorded change."""
    latest = select(func.max(person_changes.c.id)).group_by(person_changes.c.person_id)
    names = [c for c in ("name", "district", "public_servant", "email") if c in people.c]
    history = select(person_changes.c.person_id, *(person_changes.c[c] for c in names))
    changes = {
        row[0]: tuple(row[1:])
        for row in connection.execute(history.where(person_changes.c.id.in_(latest)))
    }
    now = select(people.c.id, *(people.c[c] for c in names))
    current = {row[0]: tuple(row[1:]) for row in connection.execute(now)}
    report.records["people"] = len(current)
    for person_id in sorted(current):
        if person_id not in changes:
            report.note("inserted", "people", person_id, "has no recorded registration")
        elif changes[person_id] != current[person_id]:
            report.note("altered", "people", person_id, "differs from its last recorded change")
    for person_id in sorted(set(changes) - set(current)):
        report.note("deleted", "people", person_id, "was registered but is gone")


# --- the tree and the signatures --------------------------------------------------------------


def _roots(
    hashes: pl.Series, sizes: set[int], connection: Connection
) -> tuple[dict[int, bytes], bool]:
    """The roots at ``sizes`` rebuilt from the leaf hashes, and whether the stored tiles above
    level 0 agree with the nodes rebuilt on the way."""
    roots: dict[int, bytes] = {0: merkle.EMPTY_ROOT}
    tiles_agree = True
    stored_tiles = {
        (row.level, row.tile): bytes(row.hashes)
        for row in connection.execute(select(ledger_tiles).where(ledger_tiles.c.level > 0))
    }
    rebuilt: dict[int, list[bytes]] = {}
    size, frontier = 0, list[bytes]()
    cuts = sorted(s for s in sizes if 0 < s <= hashes.len())
    values = hashes.to_list()
    for cut in [*cuts, hashes.len()]:
        if cut <= size:
            continue
        frontier, emitted = merkle.extend_frontier(size, frontier, values[size:cut], TILE_HEIGHT)
        for level, (_, nodes) in emitted.items():
            if level:
                rebuilt.setdefault(level, []).extend(nodes)
        size = cut
        roots[size] = merkle.frontier_root(size, frontier)
    for level, nodes in rebuilt.items():
        blob = b"".join(nodes)
        for tile in range((len(nodes) + TILE_WIDTH - 1) // TILE_WIDTH):
            part = blob[
                tile * TILE_WIDTH * merkle.HASH_SIZE : (tile + 1) * TILE_WIDTH * merkle.HASH_SIZE
            ]
            if stored_tiles.get((level, tile)) != part:
                tiles_agree = False
    return roots, tiles_agree


def _checkpoints(connection: Connection) -> list[Checkpoint]:
    rows = connection.execute(select(ledger_checkpoints).order_by(ledger_checkpoints.c.id))
    return [Checkpoint(row.body, base64.b64decode(row.signature), row.id) for row in rows]


def _check_tree(
    connection: Connection,
    report: VerifyReport,
    head: Head,
    stored: pl.Series,
    witness: Checkpoint | None,
) -> tuple[list[Checkpoint], dict[int, bytes]]:
    checkpoints = _checkpoints(connection)
    sizes = {head.size, *(c.size for c in checkpoints)} | ({witness.size} if witness else set())
    roots, tiles_agree = _roots(stored, sizes, connection)
    if roots.get(head.size) != head.root:
        report.note("log", "ledger", None, "head does not match the stored leaves")
    if not tiles_agree:
        report.note("log", "ledger", None, "node tiles disagree with the leaves (proofs fail)")
    return checkpoints, roots


def _checkpoint_problems(
    keyring: keys.Keyring, checkpoint: Checkpoint, roots: dict[int, bytes], head: Head
) -> list[str]:
    """What is wrong with a checkpoint, for the stored tree (empty: nothing)."""
    problems = []
    signature = checkpoint_problem(keyring, checkpoint)
    if signature:
        problems.append(signature)
    if checkpoint.log_id != head.log_id:
        problems.append(f"it is of another log ({checkpoint.log_id})")
    elif checkpoint.size > head.size:
        problems.append(f"it covers {checkpoint.size} leaves, the log holds {head.size}: truncated")
    elif roots.get(checkpoint.size) != checkpoint.root:
        problems.append(f"the first {checkpoint.size} stored leaves do not give its root")
    return problems


def _check_checkpoints(
    registry: Registry,
    report: VerifyReport,
    checkpoints: list[Checkpoint],
    roots: dict[int, bytes],
    head: Head,
) -> None:
    keyring = keys.keyring(registry)
    for checkpoint in checkpoints:
        for problem in _checkpoint_problems(keyring, checkpoint, roots, head):
            key = str(checkpoint.id)
            report.add(
                Finding("checkpoint", "ledger_checkpoints", key, f"checkpoint {key}: {problem}")
            )
    report.uncovered = head.size - checkpoints[-1].size if checkpoints else head.size
    report.uncovered = max(report.uncovered, 0)
    report.checkpoint = checkpoints[-1].as_dict() if checkpoints else None


def _check_witness(
    registry: Registry,
    report: VerifyReport,
    witness: Checkpoint,
    roots: dict[int, bytes],
    head: Head,
    latest: Checkpoint | None,
) -> None:
    problems = _checkpoint_problems(keys.keyring(registry), witness, roots, head)
    if not problems and latest is not None and latest.size >= witness.size:
        problems.extend(consistency_between(registry, witness, latest).problems)
    for problem in problems:
        report.add(Finding("witness", "ledger", None, f"the witness's checkpoint: {problem}"))
    report.witness = {**witness.as_dict(), "consistent": not problems, "problems": problems}


def verify_registry(registry: Registry, witness_path: Path | None = None) -> VerifyReport:
    """Check every record, the tree and the checkpoints (and a witness's checkpoint)."""
    witness = read_checkpoint_file(witness_path) if witness_path is not None else None
    report = VerifyReport()
    with registry.database.read() as connection:
        head = load_head(connection)
        report.size, report.root = head.size, head.root.hex()
        stored = _stored_hashes(connection, head.size)
        mapping = ledger_read.leaf_map(connection)
        _check_map(report, mapping, head.size, stored)
        purged = ledger_read.purged_digests(connection)
        for kind in leaves.KINDS.values():
            _check_kind(connection, report, kind, mapping, purged, stored)
        _check_people(connection, report)
        checkpoints, roots = _check_tree(connection, report, head, stored, witness)
    _check_checkpoints(registry, report, checkpoints, roots, head)
    if witness is not None:
        _check_witness(
            registry, report, witness, roots, head, checkpoints[-1] if checkpoints else None
        )
    return report
