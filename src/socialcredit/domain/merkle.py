"""Merkle tree hashing, proofs and their verification exactly as RFC 9162 section 2.1.

Pure code: no storage. A tree of ``size`` leaves is read through a ``NodeReader``, a function
that returns the hash of a *perfect* subtree: ``node(level, index)`` is the root of the
``2**level`` leaves starting at ``index * 2**level`` (level 0 is a leaf hash). Every node the
RFC's recursions ask for is a perfect subtree or a right-edge range made of a few of them
(the binary decomposition of its width), so a store that keeps perfect subtrees can serve
roots and proofs of a tree of millions of leaves in O(log n) node reads.

- Leaf hash ``SHA-256(0x00 || data)``, node hash ``SHA-256(0x01 || left || right)``; the root
  of the empty tree is ``SHA-256()`` (section 2.1.1).
- ``inclusion_proof`` is ``PATH(m, D[n])`` (2.1.3.1); ``verify_inclusion`` is the algorithm of
  2.1.3.2.
- ``consistency_proof`` is ``PROOF(m, D[n])`` (2.1.4.1); ``verify_consistency`` is the algorithm
  of 2.1.4.2 for ``0 < m < n``, and for the trivial cases (``m == n``, ``m == 0``) it follows
  transparency-dev/merkle: the proof must be empty (and for ``m == n`` the roots equal).
"""

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MemoryTree",
    "NodeReader",
    "consistency_proof",
    "extend_frontier",
    "frontier_levels",
    "frontier_root",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "range_hash",
    "root_from_inclusion_proof",
    "root_hash",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeReader = Callable[[int, int], bytes]


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162: MTH({d(0)}) = SHA-256(0x00 || d(0))."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162: SHA-256(0x01 || MTH(left) || MTH(right))."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _largest_power_of_two_below(n: int) -> int:
    """k, the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def range_hash(start: int, end: int, node: NodeReader) -> bytes:
    """MTH(D[start:end]) for a range the RFC's recursions use: ``start`` is a multiple of the
    smallest power of two >= ``end - start``. Built from the perfect subtrees of the binary
    decomposition of the width, folded from the right as MTH splits at the largest power of 2.
    """
    width = end - start
    if width <= 0:
        return EMPTY_ROOT
    parts: list[bytes] = []
    offset = start
    for level in range(width.bit_length() - 1, -1, -1):
        if width >> level & 1:
            parts.append(node(level, offset >> level))
            offset += 1 << level
    result = parts[-1]
    for part in reversed(parts[:-1]):
        result = node_hash(part, result)
    return result


def root_hash(size: int, node: NodeReader) -> bytes:
    """MTH of the first ``size`` leaves."""
    return range_hash(0, size, node)


def _path(m: int, start: int, end: int, node: NodeReader) -> list[bytes]:
    """PATH(m, D[start:end]) of RFC 9162 2.1.3.1 (``m`` relative to ``start``)."""
    n = end - start
    if n == 1:
        return []
    k = _largest_power_of_two_below(n)
    if m < k:
        return [*_path(m, start, start + k, node), range_hash(start + k, end, node)]
    return [*_path(m - k, start + k, end, node), range_hash(start, start + k, node)]


def inclusion_proof(index: int, size: int, node: NodeReader) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of the first ``size`` leaves."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    return _path(index, 0, size, node)


def _subproof(m: int, start: int, end: int, whole: bool, node: NodeReader) -> list[bytes]:
    """SUBPROOF(m, D[start:end], b) of RFC 9162 2.1.4.1 (``m`` relative to ``start``)."""
    n = end - start
    if m == n:
        return [] if whole else [range_hash(start, end, node)]
    k = _largest_power_of_two_below(n)
    if m <= k:
        return [*_subproof(m, start, start + k, whole, node), range_hash(start + k, end, node)]
    return [*_subproof(m - k, start + k, end, False, node), range_hash(start, start + k, node)]


def consistency_proof(old_size: int, new_size: int, node: NodeReader) -> list[bytes]:
    """PROOF(m, D[n]): that the first ``old_size`` leaves are the start of ``new_size``."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from {old_size} to {new_size} leaves")
    if old_size == 0 or old_size == new_size:
        return []
    return _subproof(old_size, 0, new_size, True, node)


def root_from_inclusion_proof(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes]
) -> bytes | None:
    """Steps 1-4 of RFC 9162 2.1.3.2: the root the path leads to, or None when it fails."""
    if index >= size or index < 0:  # step 1
        return None
    fn, sn = index, size - 1  # step 2
    r = leaf  # step 3
    for p in proof:  # step 4
        if sn == 0:  # 4a
            return None
        if fn & 1 or fn == sn:  # 4b
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1  # 4c
        sn >>= 1
    return r if sn == 0 else None  # step 5, first half


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 2.1.3.2: does ``proof`` show leaf hash ``leaf`` at ``index`` under ``root``?"""
    computed = root_from_inclusion_proof(index, size, leaf, proof)
    return computed is not None and computed == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 2.1.4.2: is the tree ``old_root`` of ``old_size`` a prefix of ``new_root``?"""
    if old_size < 0 or new_size < old_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof
    if not proof:  # step 1
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # step 2: first is an exact power of 2
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1  # step 3
    while fn & 1:  # step 4
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:  # 6a
            return False
        if fn & 1 or fn == sn:  # 6b
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1  # 6c
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0  # step 7


def frontier_levels(size: int) -> list[int]:
    """Levels of the perfect subtrees a tree of ``size`` leaves ends with, biggest first."""
    return [level for level in range(size.bit_length() - 1, -1, -1) if size >> level & 1]


def frontier_root(size: int, frontier: Sequence[bytes]) -> bytes:
    """The root from the frontier (its right-edge perfect subtrees): O(log n)."""
    if size == 0:
        return EMPTY_ROOT
    result = frontier[-1]
    for part in reversed(frontier[:-1]):
        result = node_hash(part, result)
    return result


Emitted = dict[int, tuple[int, list[bytes]]]


def extend_frontier(
    size: int, frontier: Sequence[bytes], leaves: Sequence[bytes], every: int = 8
) -> tuple[list[bytes], Emitted]:
    """Append ``leaves`` (leaf hashes) to a tree known by its size and frontier.

    Returns the new frontier and, for every level that is a multiple of ``every``, the first
    index and the hashes of the nodes that became complete (level 0: the leaves themselves),
    so that a store can keep them. Each new node is hashed once: O(len(leaves)).
    """
    old = dict(zip(frontier_levels(size), frontier, strict=True))
    new_size = size + len(leaves)
    emitted: Emitted = {}
    kept: dict[int, bytes] = {}
    nodes, start, level = list(leaves), size, 0
    sha256 = hashlib.sha256
    while new_size >> level:
        if level % every == 0 and nodes:
            emitted[level] = (start, nodes)
        if new_size >> level & 1:
            kept[level] = nodes[-1] if nodes else old[level]
        if start & 1:  # the left sibling of the first new node is complete already
            nodes, start = [old[level], *nodes], start - 1
        # A trailing odd node has no sibling yet: it is not complete one level up.
        nodes = [
            sha256(b"\x01" + left + right).digest()
            for left, right in zip(nodes[0::2], nodes[1::2], strict=False)
        ]
        start >>= 1
        level += 1
    return [kept[level] for level in frontier_levels(new_size)], emitted


@dataclass
class MemoryTree:
    """A tree held in memory (tests, small trees): a ``NodeReader`` over its leaf hashes."""

    leaves: list[bytes] = field(default_factory=list)
    _levels: list[list[bytes]] = field(default_factory=list, repr=False)

    @classmethod
    def of_data(cls, entries: Sequence[bytes]) -> "MemoryTree":
        return cls([leaf_hash(entry) for entry in entries])

    def append(self, leaf: bytes) -> None:
        self.leaves.append(leaf)
        self._levels = []

    def node(self, level: int, index: int) -> bytes:
        if not self._levels:
            self._levels = [self.leaves]
            while len(self._levels[-1]) > 1:
                below = self._levels[-1]
                self._levels.append(
                    [node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
                )
        row = self._levels[level]
        if index >= len(row):
            raise IndexError(f"node ({level}, {index}) is not complete")
        return row[index]

    @property
    def size(self) -> int:
        return len(self.leaves)

    def root(self, size: int | None = None) -> bytes:
        return root_hash(self.size if size is None else size, self.node)
