"""Merkle tree: stored-node proofs against a naive RFC 6962 reference, costs, tampering."""

from __future__ import annotations

import hashlib
import random

import pytest

from onevisit.evidence.errors import ConsistencyProofInvalid, InclusionProofInvalid
from onevisit.evidence.merkle import (
    EMPTY_ROOT,
    append_nodes,
    consistency_path,
    inclusion_path,
    inclusion_paths,
    leaf_hash,
    node_hash,
    root_of,
    subtree_hash,
    tree_root,
    verify_consistency,
    verify_inclusion,
)


# --- a naive reference, written straight from RFC 6962 §2.1, §2.1.1, §2.1.2 --------------------
def ref_mth(d: list[bytes]) -> bytes:
    n = len(d)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:])).digest()


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


class Store:
    """An in-memory node store fed only through append_nodes, counting reads."""

    def __init__(self) -> None:
        self.nodes: dict[tuple[int, int], bytes] = {}
        self.size = 0
        self.reads = 0

    def get(self, level: int, index: int) -> bytes:
        self.reads += 1
        return self.nodes[(level, index)]

    def append(self, data: bytes) -> int:
        before = self.reads
        for level, index, h in append_nodes(self.size, leaf_hash(data), self.get):
            assert (level, index) not in self.nodes
            self.nodes[(level, index)] = h
        self.size += 1
        return self.reads - before


def build(n: int) -> tuple[Store, list[bytes]]:
    data = [f"leaf {i}".encode() for i in range(n)]
    store = Store()
    for d in data:
        store.append(d)
    return store, data


def test_primitives() -> None:
    assert EMPTY_ROOT.hex().startswith("e3b0c442")
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()
    assert root_of([]) == EMPTY_ROOT


STORE, DATA = build(129)


@pytest.mark.parametrize("size", [*range(1, 70), 127, 128, 129])
def test_proofs_match_reference(size: int) -> None:
    """Every inclusion and consistency proof of a tree of `size` leaves, from stored nodes."""
    leaves = [leaf_hash(d) for d in DATA[:size]]
    root = tree_root(size, STORE.get)
    assert root == ref_mth(DATA[:size]) == root_of(leaves)
    for i in range(size):
        path = inclusion_path(i, size, STORE.get)
        assert path == ref_path(i, DATA[:size])
        verify_inclusion(leaf_hash=leaves[i], index=i, size=size, path=path, root=root)
    for m in range(1, size + 1):
        proof = consistency_path(m, size, STORE.get)
        assert proof == ref_subproof(m, DATA[:size], True)
        root1 = ref_mth(DATA[:m])
        verify_consistency(size1=m, size2=size, root1=root1, root2=root, path=proof)


def test_random_trees_and_tampering() -> None:
    rng = random.Random(6962)
    store, data = build(1000)
    for _ in range(300):
        size = rng.randint(1, 1000)
        i, m = rng.randrange(size), rng.randint(1, size)
        root = tree_root(size, store.get)
        path = inclusion_path(i, size, store.get)
        assert path == ref_path(i, data[:size])
        leaf = leaf_hash(data[i])
        verify_inclusion(leaf_hash=leaf, index=i, size=size, path=path, root=root)
        proof = consistency_path(m, size, store.get)
        root1 = tree_root(m, store.get)
        verify_consistency(size1=m, size2=size, root1=root1, root2=root, path=proof)
        if path:  # flip one bit of one path element
            j = rng.randrange(len(path))
            bad = [*path]
            bad[j] = bytes([bad[j][0] ^ 1]) + bad[j][1:]
            with pytest.raises(InclusionProofInvalid):
                verify_inclusion(leaf_hash=leaf, index=i, size=size, path=bad, root=root)
        if i + 1 < size:
            with pytest.raises(InclusionProofInvalid):
                verify_inclusion(leaf_hash=leaf, index=i + 1, size=size, path=path, root=root)
        if proof:
            with pytest.raises(ConsistencyProofInvalid):
                verify_consistency(size1=m, size2=size, root1=root1, root2=root, path=proof[:-1])


def test_reads_are_logarithmic() -> None:
    store = Store()
    n = 5000
    for k in range(n):
        reads = store.append(f"{k}".encode())
        assert reads <= max(1, (k + 1).bit_length())
    bound = 2 * n.bit_length()  # ≤ depth perfect siblings + one right-edge fold
    rng = random.Random(9162)
    for size in [1, 2, 3, 1023, 1024, 1025, 4095, n, *rng.sample(range(1, n), 50)]:
        store.reads = 0
        tree_root(size, store.get)
        assert store.reads <= size.bit_length()
        for i in {0, size - 1, rng.randrange(size)}:
            store.reads = 0
            inclusion_path(i, size, store.get)
            assert store.reads <= bound, (i, size, store.reads)
        for m in {1, size, rng.randint(1, size)}:
            store.reads = 0
            consistency_path(m, size, store.get)
            assert store.reads <= bound, (m, size, store.reads)


def test_append_nodes_shape() -> None:
    store, _ = build(7)
    created = append_nodes(7, b"\x00" * 32, store.get)
    assert [(lvl, idx) for lvl, idx, _ in created] == [(0, 7), (1, 3), (2, 1), (3, 0)]
    assert [(lvl, idx) for lvl, idx, _ in append_nodes(8, b"\x00" * 32, store.get)] == [(0, 8)]


def test_argument_checks() -> None:
    store, _ = build(8)
    for args in ((0, 0), (8, 8), (-1, 4)):
        with pytest.raises(ValueError):
            inclusion_path(*args, store.get)
    for args in ((0, 4), (5, 4)):
        with pytest.raises(ValueError):
            consistency_path(*args, store.get)
    with pytest.raises(ValueError):
        subtree_hash(1, 3, store.get)  # not a subtree of any RFC 6962 tree
    with pytest.raises(ValueError):
        subtree_hash(2, 2, store.get)
    assert consistency_path(8, 8, store.get) == []


def test_verify_refusals() -> None:
    h = leaf_hash(b"x")
    with pytest.raises(InclusionProofInvalid, match="not below"):
        verify_inclusion(leaf_hash=h, index=1, size=1, path=[], root=h)
    with pytest.raises(InclusionProofInvalid, match="32-byte"):
        verify_inclusion(leaf_hash=h[:31], index=0, size=1, path=[], root=h[:31])
    with pytest.raises(InclusionProofInvalid, match="longer"):
        verify_inclusion(leaf_hash=h, index=0, size=1, path=[h], root=h)
    with pytest.raises(ConsistencyProofInvalid, match="empty tree"):
        verify_consistency(size1=0, size2=0, root1=EMPTY_ROOT, root2=EMPTY_ROOT, path=[])
    verify_consistency(size1=3, size2=3, root1=b"same", root2=b"same", path=[])


def test_inclusion_memo_gives_the_same_proofs():
    from onevisit.evidence.merkle import append_nodes, inclusion_path, leaf_hash

    nodes: dict[tuple[int, int], bytes] = {}
    for i in range(300):
        for level, idx, h in append_nodes(
            i, leaf_hash(str(i).encode()), lambda lv, ix: nodes[(lv, ix)]
        ):
            nodes[(level, idx)] = h
    get = lambda lv, ix: nodes[(lv, ix)]  # noqa: E731
    memo: dict[tuple[int, int], bytes] = {}
    for index in range(250, 300):
        assert inclusion_path(index, 300, get, memo) == inclusion_path(index, 300, get)
    assert memo  # it was used


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 64, 65, 100, 129])
def test_inclusion_paths_of_the_last_leaves_are_each_leafs_path(size: int) -> None:
    """inclusion_paths(first, size) == [inclusion_path(m, size) for m in [first, size)], for
    every first, on stored nodes; and the paths match the RFC reference."""
    for first in range(size):
        paths = inclusion_paths(first, size, STORE.get)
        assert paths == [inclusion_path(m, size, STORE.get) for m in range(first, size)]
        assert paths[-1] == ref_path(size - 1, DATA[:size])
    with pytest.raises(ValueError):
        inclusion_paths(size, size, STORE.get)


def test_inclusion_paths_read_stored_nodes_only_left_of_the_batch() -> None:
    """A batch of 200 at the end of a tree of 5,000: the walk reads the leaves of the batch and
    one stored node per level left of it, not the rest of the tree."""
    store, _ = build(5000)
    read: list[tuple[int, int]] = []

    def get(level: int, index: int) -> bytes:
        read.append((level, index))
        return store.get(level, index)

    paths = inclusion_paths(4800, 5000, get)
    assert paths == [inclusion_path(m, 5000, store.get) for m in range(4800, 5000)]
    assert len(read) < 200 + 2 * 13
