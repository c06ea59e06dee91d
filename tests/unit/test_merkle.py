"""RFC 9162 Merkle trees: hashing, proofs and verification.

Test data published by the transparency-dev/merkle project (https://github.com/transparency-dev/merkle,
Apache-2.0, Google LLC), copied as data into ``tests/fixtures/merkle/``; each file names its source:

- ``verify_test_vectors.json``: ``proof/verify_test.go`` at commit
  02194e9afb6c1d95b5381350007963aa70fff472 (leaves, roots, inclusion and consistency proofs);
- ``rfc6962_hasher_vectors.json``: ``rfc6962/rfc6962_test.go`` at commit
  78493b07ef9b552e3379abf9e23d4da26fbe797c (leaf and node hashes);
- ``proof_node_vectors.json``: ``proof/proof_test.go`` at commit
  02a3e2029520f515596d5238c54fb0ac9e19bff4 (which tree nodes each proof consists of);
- ``testdata_cases.json``: files of ``testdata/inclusion/`` and ``testdata/consistency/``, each
  with the commit it was read at (happy paths and corrupted proofs that must fail).

Then hypothesis trees of random sizes: every inclusion and consistency proof verifies, and any
flipped byte (in the proof, the leaf or the roots), any other index or size, fails.
"""

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialcredit.domain.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    consistency_proof,
    extend_frontier,
    frontier_levels,
    frontier_root,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

VECTORS = Path(__file__).resolve().parents[1] / "fixtures" / "merkle"


def _load(name: str) -> dict[str, Any]:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


VERIFY = _load("verify_test_vectors.json")
HASHER = _load("rfc6962_hasher_vectors.json")
NODES = _load("proof_node_vectors.json")
CASES = _load("testdata_cases.json")

LEAVES = [bytes.fromhex(leaf) for leaf in VERIFY["leaves"]]
ROOTS = [bytes.fromhex(root) for root in VERIFY["roots"]]
TREE = MemoryTree.of_data(LEAVES)


def _hexes(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(value) for value in values]


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value or "")


# --- hashing (rfc6962/rfc6962_test.go) --------------------------------------------------------


def test_empty_root_leaf_and_node_hashes_match_the_published_vectors():
    assert EMPTY_ROOT.hex() == HASHER["empty_root"]
    for leaf in HASHER["leaves"]:
        assert leaf_hash(bytes.fromhex(leaf["data_hex"])).hex() == leaf["hash"]
    for node in HASHER["nodes"]:
        left, right = bytes.fromhex(node["left_hex"]), bytes.fromhex(node["right_hex"])
        assert node_hash(left, right).hex() == node["hash"]


def test_an_empty_leaf_is_not_the_empty_tree():
    assert leaf_hash(b"") != EMPTY_ROOT
    assert MemoryTree().root() == EMPTY_ROOT


# --- roots and proofs (proof/verify_test.go) --------------------------------------------------


@pytest.mark.parametrize("size", range(1, 9))
def test_root_of_every_prefix_matches_the_published_roots(size: int):
    assert TREE.root(size) == ROOTS[size - 1]


@pytest.mark.parametrize(
    "vector", VERIFY["inclusion_proofs"], ids=lambda v: f"{v['leaf']}/{v['size']}"
)
def test_inclusion_proofs_are_generated_and_verified_as_published(vector: dict[str, Any]):
    index, size, proof = vector["leaf"] - 1, vector["size"], _hexes(vector["proof"])
    assert inclusion_proof(index, size, TREE.node) == proof
    leaf = leaf_hash(LEAVES[index])
    assert root_from_inclusion_proof(index, size, leaf, proof) == ROOTS[size - 1]
    assert verify_inclusion(index, size, leaf, proof, ROOTS[size - 1])


def _corrupted_inclusions(index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes):
    """The probes of corruptInclusionProof in proof/verify_test.go."""
    some = bytes.fromhex(VERIFY["some_hash"])
    empty = bytes.fromhex(VERIFY["empty_tree_hash"])
    yield "index - 1", (index - 1, size, leaf, proof, root)
    yield "index + 1", (index + 1, size, leaf, proof, root)
    yield "index ^ 2", (index ^ 2, size, leaf, proof, root)
    yield "size * 2", (index, size * 2, leaf, proof, root)
    yield "size / 2", (index, size // 2, leaf, proof, root)
    yield "wrong leaf", (index, size, b"WrongLeaf", proof, root)
    yield "empty root", (index, size, leaf, proof, empty)
    yield "random root", (index, size, leaf, proof, some)
    yield "trailing garbage", (index, size, leaf, [*proof, b""], root)
    yield "trailing root", (index, size, leaf, [*proof, root], root)
    yield "preceding garbage", (index, size, leaf, [b"", *proof], root)
    yield "preceding root", (index, size, leaf, [root, *proof], root)
    for i in range(len(proof)):
        flipped = list(proof)
        flipped[i] = bytes([flipped[i][0] ^ 8]) + flipped[i][1:]
        yield f"modified proof[{i}] bit 3", (index, size, leaf, flipped, root)
    if proof:
        yield "removed component", (index, size, leaf, proof[:-1], root)
    if len(proof) > 1:
        yield "inserted component", (index, size, leaf, [proof[0], some, *proof[1:]], root)


@pytest.mark.parametrize(
    "vector", VERIFY["inclusion_proofs"], ids=lambda v: f"{v['leaf']}/{v['size']}"
)
def test_corrupted_inclusion_proofs_fail(vector: dict[str, Any]):
    index, size = vector["leaf"] - 1, vector["size"]
    probes = _corrupted_inclusions(
        index, size, leaf_hash(LEAVES[index]), _hexes(vector["proof"]), ROOTS[size - 1]
    )
    accepted = [desc for desc, args in probes if verify_inclusion(*args)]
    assert accepted == []


@pytest.mark.parametrize(
    "vector", VERIFY["consistency_proofs"], ids=lambda v: f"{v['size1']}/{v['size2']}"
)
def test_consistency_proofs_are_generated_and_verified_as_published(vector: dict[str, Any]):
    old, new, proof = vector["size1"], vector["size2"], _hexes(vector["proof"])
    assert consistency_proof(old, new, TREE.node) == proof
    assert verify_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], proof)


def _corrupted_consistencies(old: int, new: int, root1: bytes, root2: bytes, proof: list[bytes]):
    """The probes of corruptConsistencyProof in proof/verify_test.go."""
    yield "size1 - 1", (old - 1, new, root1, root2, proof)
    yield "size1 + 1", (old + 1, new, root1, root2, proof)
    yield "size1 ^ 2", (old ^ 2, new, root1, root2, proof)
    yield "size2 * 2", (old, new * 2, root1, root2, proof)
    yield "size2 / 2", (old, new // 2, root1, root2, proof)
    yield "wrong root1", (old, new, b"WrongRoot", root2, proof)
    yield "wrong root2", (old, new, root1, b"WrongRoot", proof)
    yield "swapped roots", (old, new, root2, root1, proof)
    yield "empty proof", (old, new, root1, root2, [])
    yield "trailing garbage", (old, new, root1, root2, [*proof, b""])
    yield "trailing root1", (old, new, root1, root2, [*proof, root1])
    yield "trailing root2", (old, new, root1, root2, [*proof, root2])
    yield "preceding garbage", (old, new, root1, root2, [b"", *proof])
    yield "preceding root1", (old, new, root1, root2, [root1, *proof])
    yield "preceding root2", (old, new, root1, root2, [root2, *proof])
    yield "preceding proof[0]", (old, new, root1, root2, [proof[0], *proof])
    yield "truncated proof", (old, new, root1, root2, proof[:-1])
    for i in range(len(proof)):
        flipped = list(proof)
        flipped[i] = bytes([flipped[i][0] ^ 16]) + flipped[i][1:]
        yield f"modified proof[{i}] bit 4", (old, new, root1, root2, flipped)


@pytest.mark.parametrize(
    "vector",
    [v for v in VERIFY["consistency_proofs"] if v["proof"]],
    ids=lambda v: f"{v['size1']}/{v['size2']}",
)
def test_corrupted_consistency_proofs_fail(vector: dict[str, Any]):
    old, new = vector["size1"], vector["size2"]
    probes = _corrupted_consistencies(
        old, new, ROOTS[old - 1], ROOTS[new - 1], _hexes(vector["proof"])
    )
    accepted = [desc for desc, args in probes if verify_consistency(*args)]
    assert accepted == []


def test_trivial_consistency_cases_as_transparency_dev_handles_them():
    """TestVerifyConsistency's table in proof/verify_test.go."""
    root1, root2 = b"don't care 1", b"don't care 2"
    empty = bytes.fromhex(VERIFY["empty_tree_hash"])
    table = [
        (0, 0, root1, root2, [], False),
        (1, 1, root1, root2, [], False),
        (0, 0, root1, root1, [], True),
        (0, 1, root1, root2, [], True),
        (1, 1, root2, root2, [], True),
        (1, 0, root1, root2, [], False),
        (2, 1, root1, root2, [], False),
        (1, 2, root1, root2, [], False),
        (0, 0, empty, root2, [], False),
        (1, 1, empty, root2, [], False),
        (0, 0, empty, empty, [empty], False),
        (0, 1, empty, empty, [empty], False),
        (1, 1, empty, empty, [empty], False),
    ]
    for old, new, first, second, proof, valid in table:
        assert verify_consistency(old, new, first, second, proof) is valid, (old, new)


def test_inclusion_of_the_only_leaf_and_impossible_indexes():
    """TestVerifyInclusionSingleEntry and TestVerifyInclusion's probes."""
    only = leaf_hash(b"data")
    assert verify_inclusion(0, 1, only, [], only)
    assert not verify_inclusion(0, 1, b"", [], only)
    assert not verify_inclusion(0, 1, only, [], b"")
    some = bytes.fromhex(VERIFY["some_hash"])
    for index, size in [(0, 0), (0, 1), (1, 0), (2, 1)]:
        assert not verify_inclusion(index, size, some, [], b"")
        assert not verify_inclusion(index, size, b"", [], EMPTY_ROOT)
        assert not verify_inclusion(index, size, some, [], EMPTY_ROOT)


# --- which nodes a proof is made of (proof/proof_test.go) -------------------------------------


def _expected(tree: MemoryTree, vector: dict[str, Any]) -> list[bytes]:
    """The proof from the node IDs, with the rehashed run folded into its missing parent."""
    hashes = [tree.node(level, index) for level, index in vector["nodes"]]
    if "rehash" in vector:
        begin, end = vector["rehash"]
        folded = hashes[begin]
        for sibling in hashes[begin + 1 : end]:
            folded = node_hash(sibling, folded)
        hashes = [*hashes[:begin], folded, *hashes[end:]]
    return hashes


BIG = MemoryTree.of_data([f"leaf {i}".encode() for i in range(95)])


@pytest.mark.parametrize("vector", NODES["inclusion"], ids=lambda v: f"{v['size']}:{v['index']}")
def test_inclusion_proofs_consist_of_the_published_nodes(vector: dict[str, Any]):
    assert inclusion_proof(vector["index"], vector["size"], BIG.node) == _expected(BIG, vector)


@pytest.mark.parametrize("vector", NODES["consistency"], ids=lambda v: f"{v['size1']}:{v['size2']}")
def test_consistency_proofs_consist_of_the_published_nodes(vector: dict[str, Any]):
    proof = consistency_proof(vector["size1"], vector["size2"], BIG.node)
    assert proof == _expected(BIG, vector)


def test_proofs_the_published_tests_refuse_to_make():
    for size, index in NODES["inclusion_errors"]:
        with pytest.raises(ValueError, match="is not in a tree"):
            inclusion_proof(index, size, BIG.node)
    for old, new in NODES["consistency_errors"]:
        with pytest.raises(ValueError, match="no consistency proof"):
            consistency_proof(old, new, BIG.node)


# --- the JSON files of testdata/ ------------------------------------------------------------


@pytest.mark.parametrize("item", CASES["inclusion"], ids=lambda i: i["path"])
def test_published_inclusion_cases(item: dict[str, Any]):
    case = item["case"]
    proof = [_b64(p) for p in case["proof"] or []]
    valid = verify_inclusion(
        case["leafIdx"], case["treeSize"], _b64(case["leafHash"]), proof, _b64(case["root"])
    )
    assert valid is not case["wantErr"], case["desc"]


@pytest.mark.parametrize("item", CASES["consistency"], ids=lambda i: i["path"])
def test_published_consistency_cases(item: dict[str, Any]):
    case = item["case"]
    proof = [_b64(p) for p in case["proof"] or []]
    valid = verify_consistency(
        case["size1"], case["size2"], _b64(case["root1"]), _b64(case["root2"]), proof
    )
    assert valid is not case["wantErr"], case["desc"]


# --- hypothesis: random trees ---------------------------------------------------------------


def _flip(value: bytes, position: int) -> bytes:
    position %= len(value)
    return value[:position] + bytes([value[position] ^ 0x01]) + value[position + 1 :]


@st.composite
def _trees(draw: st.DrawFn) -> MemoryTree:
    size = draw(st.integers(min_value=1, max_value=300))
    seed = draw(st.binary(min_size=0, max_size=8))
    return MemoryTree.of_data([seed + i.to_bytes(4, "big") for i in range(size)])


@settings(max_examples=150, deadline=None)
@given(tree=_trees(), data=st.data())
def test_every_inclusion_proof_verifies_and_any_flipped_byte_fails(
    tree: MemoryTree, data: st.DataObject
):
    size = data.draw(st.integers(min_value=1, max_value=tree.size), label="size")
    index = data.draw(st.integers(min_value=0, max_value=size - 1), label="index")
    root, leaf = tree.root(size), tree.leaves[index]
    proof = inclusion_proof(index, size, tree.node)
    assert verify_inclusion(index, size, leaf, proof, root)
    position = data.draw(st.integers(min_value=0, max_value=10_000), label="byte")
    assert not verify_inclusion(index, size, _flip(leaf, position), proof, root)
    assert not verify_inclusion(index, size, leaf, proof, _flip(root, position))
    if proof:
        which = data.draw(st.integers(min_value=0, max_value=len(proof) - 1), label="hash")
        broken = [*proof[:which], _flip(proof[which], position), *proof[which + 1 :]]
        assert not verify_inclusion(index, size, leaf, broken, root)
    other = data.draw(st.integers(min_value=0, max_value=size - 1), label="other index")
    if tree.leaves[other] != leaf:
        assert not verify_inclusion(other, size, leaf, proof, root)


@settings(max_examples=150, deadline=None)
@given(tree=_trees(), data=st.data())
def test_every_consistency_proof_verifies_and_any_flipped_byte_fails(
    tree: MemoryTree, data: st.DataObject
):
    new = data.draw(st.integers(min_value=1, max_value=tree.size), label="new")
    old = data.draw(st.integers(min_value=1, max_value=new), label="old")
    old_root, new_root = tree.root(old), tree.root(new)
    proof = consistency_proof(old, new, tree.node)
    assert verify_consistency(old, new, old_root, new_root, proof)
    position = data.draw(st.integers(min_value=0, max_value=10_000), label="byte")
    assert not verify_consistency(old, new, _flip(old_root, position), new_root, proof)
    assert not verify_consistency(old, new, old_root, _flip(new_root, position), proof)
    if proof:
        which = data.draw(st.integers(min_value=0, max_value=len(proof) - 1), label="hash")
        broken = [*proof[:which], _flip(proof[which], position), *proof[which + 1 :]]
        assert not verify_consistency(old, new, old_root, new_root, broken)
    if old < new:
        # A tree whose first leaves differ is not an extension of the old one.
        forged = MemoryTree([*tree.leaves[:new]])
        forged.leaves[old - 1] = _flip(forged.leaves[old - 1], position)
        forged_proof = consistency_proof(old, new, forged.node)
        assert not verify_consistency(old, new, old_root, forged.root(new), forged_proof)


# --- growing a tree by its frontier -----------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(
    batches=st.lists(st.integers(min_value=0, max_value=70), min_size=1, max_size=8),
    every=st.sampled_from([1, 2, 3, 8]),
)
def test_extending_the_frontier_batch_by_batch_gives_every_root_and_node(
    batches: list[int], every: int
):
    """Appending batches to a frontier gives the same roots as the whole tree, and the nodes it
    emits at the kept levels are exactly the tree's complete nodes there, each once."""
    tree = MemoryTree.of_data([i.to_bytes(4, "big") for i in range(sum(batches))])
    size, frontier = 0, []
    seen: dict[tuple[int, int], bytes] = {}
    for count in batches:
        frontier, emitted = extend_frontier(size, frontier, tree.leaves[size : size + count], every)
        size += count
        assert len(frontier) == len(frontier_levels(size))
        assert frontier_root(size, frontier) == tree.root(size)
        for level, (first, hashes) in emitted.items():
            assert level % every == 0
            for offset, value in enumerate(hashes):
                assert (level, first + offset) not in seen
                seen[(level, first + offset)] = value
    for (level, index), value in seen.items():
        assert tree.node(level, index) == value
    for level in range(0, size.bit_length(), every):
        assert sum(1 for lv, _ in seen if lv == level) == size >> level
