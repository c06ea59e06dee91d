"""The stored Merkle tree: its head (size and frontier) and its node tiles.

``ledger_state`` holds the size and the frontier (the perfect subtrees the tree ends with), so
a root is O(log n) and appending a batch hashes each new node once. Complete nodes are kept in
tiles of 256 hashes at levels 0 (the leaf hashes), 8, 16, ...: any perfect subtree is one tile
read and at most 127 hashes away, so proofs of a tree of millions of leaves read about one tile
per level. Only the last tile of a level is ever rewritten, to append to it.
"""

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Select, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from socialcredit.domain.merkle import (
    HASH_SIZE,
    Emitted,
    extend_frontier,
    frontier_root,
    node_hash,
)
from socialcredit.store.schema import ledger_state, ledger_tiles

__all__ = [
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "Head",
    "Extension",
    "TileReader",
    "append_hashes",
    "extend",
    "leaf_hash_run",
    "load_head",
    "store_extension",
]

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT


@dataclass(frozen=True, slots=True)
class Head:
    log_id: str
    size: int
    frontier: tuple[bytes, ...]

    @property
    def root(self) -> bytes:
        return frontier_root(self.size, self.frontier)


def _split(blob: bytes) -> tuple[bytes, ...]:
    return tuple(blob[i : i + HASH_SIZE] for i in range(0, len(blob), HASH_SIZE))


def load_head(connection: Connection, *, lock: bool = False) -> Head:
    """The tree's head; ``lock`` holds the head row until the transaction ends (PostgreSQL:
    appenders wait for each other, so leaf indexes have no gaps; SQLite's write transaction
    already holds the only write lock)."""
    query = _head_query(lock and connection.dialect.name != "sqlite")
    row = connection.execute(query).one()
    return Head(row.log_id, int(row.size), _split(bytes(row.frontier)))


# The statements of every append, built once: a single access-log row appends a leaf, and
# building these anew each time cost more than running them.
@functools.cache
def _head_query(for_update: bool) -> Select[Any]:
    query = select(ledger_state.c.log_id, ledger_state.c.size, ledger_state.c.frontier).where(
        ledger_state.c.id == 1
    )
    return query.with_for_update() if for_update else query


@functools.cache
def _upsert_tiles_statement(dialect_name: str) -> Any:
    dialect = sqlite if dialect_name == "sqlite" else postgresql
    statement = dialect.insert(ledger_tiles)
    return statement.on_conflict_do_update(
        index_elements=[ledger_tiles.c.level, ledger_tiles.c.tile],
        set_={"hashes": statement.excluded.hashes},
    )


_TILE_QUERY = select(ledger_tiles.c.hashes).where(
    ledger_tiles.c.level == bindparam("level"), ledger_tiles.c.tile == bindparam("tile")
)
_SET_HEAD = (
    update(ledger_state)
    .where(ledger_state.c.id == 1)
    .values(size=bindparam("new_size"), frontier=bindparam("new_frontier"))
)


def _upsert_tiles(connection: Connection, rows: list[dict[str, object]]) -> None:
    if not rows:
        return
    connection.execute(_upsert_tiles_statement(connection.dialect.name), rows)


def _tile_rows(
    connection: Connection, level: int, first: int, hashes: list[bytes]
) -> Iterator[dict[str, object]]:
    """The tile rows holding nodes ``first ..`` of ``level``: the first one completed from what
    it already holds."""
    position, index = 0, first
    while position < len(hashes):
        tile, offset = divmod(index, TILE_WIDTH)
        take = min(TILE_WIDTH - offset, len(hashes) - position)
        prefix = b""
        if offset:
            stored = connection.execute(_TILE_QUERY, {"level": level, "tile": tile}).scalar_one()
            prefix = bytes(stored)[: offset * HASH_SIZE]
            if len(prefix) != offset * HASH_SIZE:
                raise RuntimeError(f"ledger tile ({level}, {tile}) is shorter than the tree")
        body = b"".join(hashes[position : position + take])
        yield {"level": level, "tile": tile, "hashes": prefix + body}
        position += take
        index += take


@dataclass(frozen=True, slots=True)
class Extension:
    """Leaf hashes appended to a head in memory (``extend``): the new head and the complete
    nodes to store (``store_extension``). Pure, so it can be worked out while the database is
    busy with something else."""

    base: Head
    head: Head
    emitted: Emitted


def extend(head: Head, hashes: list[bytes]) -> Extension:
    """``hashes`` appended to the tree whose head is ``head``, in memory; no I/O."""
    frontier, emitted = extend_frontier(head.size, head.frontier, hashes, TILE_HEIGHT)
    new_head = Head(head.log_id, head.size + len(hashes), tuple(frontier))
    return Extension(head, new_head, emitted)


def store_extension(connection: Connection, extension: Extension) -> Head:
    """Store an ``extend``-ed tree in the caller's transaction; returns the new head.

    The caller holds the head's lock, taken before ``extension.base`` was read, so the stored
    head is still that base (checked: appending to any other would break the tree).
    """
    stored = load_head(connection)
    if stored != extension.base:
        raise RuntimeError(
            f"ledger head moved from size {extension.base.size} to {stored.size} while a batch "
            "was hashed: its lock was not held"
        )
    return _store(connection, extension)


def _store(connection: Connection, extension: Extension) -> Head:
    if extension.head.size == extension.base.size:
        return extension.head
    _write_tiles(connection, extension.emitted)
    frontier = b"".join(extension.head.frontier)
    connection.execute(_SET_HEAD, {"new_size": extension.head.size, "new_frontier": frontier})
    return extension.head


def append_hashes(connection: Connection, head: Head, hashes: list[bytes]) -> Head:
    """Append leaf hashes to the tree in the caller's transaction; returns the new head."""
    if not hashes:
        return head
    return _store(connection, extend(head, hashes))


def _write_tiles(connection: Connection, emitted: Emitted) -> None:
    rows: list[dict[str, object]] = []
    for level, (first, nodes) in sorted(emitted.items()):
        rows.extend(_tile_rows(connection, level, first, nodes))
    _upsert_tiles(connection, rows)


def leaf_hash_run(connection: Connection, start: int, end: int) -> bytes:
    """The stored leaf hashes ``start .. end - 1``, concatenated (for verify)."""
    first, last = start // TILE_WIDTH, (end - 1) // TILE_WIDTH
    query = (
        select(ledger_tiles.c.tile, ledger_tiles.c.hashes)
        .where(ledger_tiles.c.level == 0, ledger_tiles.c.tile.between(first, last))
        .order_by(ledger_tiles.c.tile)
    )
    parts = []
    expected = first
    for tile, blob in connection.execute(query):
        if tile != expected:
            raise LookupError(f"ledger tile (0, {expected}) is missing")
        parts.append(bytes(blob))
        expected += 1
    data = b"".join(parts)
    skip = (start - first * TILE_WIDTH) * HASH_SIZE
    return data[skip : skip + (end - start) * HASH_SIZE]


@dataclass
class TileReader:
    """A ``NodeReader`` over the stored tiles (cached for the reader's life)."""

    connection: Connection
    _tiles: dict[tuple[int, int], bytes] = field(default_factory=dict)

    def _tile(self, level: int, tile: int) -> bytes:
        key = (level, tile)
        if key not in self._tiles:
            blob = self.connection.execute(
                select(ledger_tiles.c.hashes).where(
                    ledger_tiles.c.level == level, ledger_tiles.c.tile == tile
                )
            ).scalar_one_or_none()
            if blob is None:
                raise LookupError(f"ledger tile ({level}, {tile}) is missing")
            self._tiles[key] = bytes(blob)
        return self._tiles[key]

    def node(self, level: int, index: int) -> bytes:
        """The perfect subtree ``(level, index)``: folded from the tile level below it."""
        base = level - level % TILE_HEIGHT
        height = level - base
        first = index << height
        tile, offset = divmod(first, TILE_WIDTH)
        blob = self._tile(base, tile)
        count = 1 << height
        span = blob[offset * HASH_SIZE : (offset + count) * HASH_SIZE]
        if len(span) != count * HASH_SIZE:
            raise LookupError(f"node ({level}, {index}) is not complete in the stored tree")
        nodes = list(_split(span))
        while len(nodes) > 1:
            nodes = [node_hash(nodes[i], nodes[i + 1]) for i in range(0, len(nodes), 2)]
        return nodes[0]
