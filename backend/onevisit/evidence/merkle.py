"""The log's Merkle tree, exactly RFC 6962 §2.1 (= RFC 9162 §2.1), computed from stored nodes.

Storage keeps only *perfect* subtrees: node (level, index) is the hash of the 2^level leaves
starting at leaf index * 2^level. Appending leaf n creates the leaf node and every parent it
completes (`append_nodes`). Any other subtree the RFC recursions need (always on the right
edge of the tree) is folded from O(log n) perfect nodes by `subtree_hash`, so roots and
proofs cost O(log n) reads of `get_node(level, index)`.

Proof generation follows the recursive definitions PATH (RFC 6962 §2.1.1) and SUBPROOF
(§2.1.2); verification implements RFC 9162 §2.1.3.2 and §2.1.4.2 step by step.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from onevisit.evidence.errors import ConsistencyProofInvalid, InclusionProofInvalid

__all__ = [
    "EMPTY_ROOT",
    "GetNode",
    "append_nodes",
    "consistency_path",
    "inclusion_path",
    "inclusion_paths",
    "leaf_hash",
    "node_hash",
    "root_of",
    "subtree_hash",
    "tree_root",
    "verify_consistency",
    "verify_inclusion",
]

GetNode = Callable[[int, int], bytes]
EMPTY_ROOT = hashlib.sha256(b"").digest()  # MTH({}) = SHA-256() (RFC 6962 §2.1)
HASH_SIZE = 32


def leaf_hash(data: bytes) -> bytes:
    """MTH({d}) = SHA-256(0x00 || d)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """k = the largest power of two smaller than n (n > 1), as in RFC 6962 §2.1."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of a list of leaf hashes, by the RFC 6962 §2.1 recursion (in memory)."""
    n = len(leaf_hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hashes[0]
    k = _split(n)
    return node_hash(root_of(leaf_hashes[:k]), root_of(leaf_hashes[k:]))


def subtree_hash(start: int, end: int, get_node: GetNode) -> bytes:
    """MTH of leaves [start, end) as the RFC recursion forms it, from stored perfect nodes.

    The ranges the recursions visit start at a multiple of the smallest power of two not
    below their size; such a range splits, left to right, into perfect subtrees of strictly
    decreasing size (the binary digits of end - start), folded right to left. Cost: one read
    per binary 1-digit of end - start.
    """
    size = end - start
    if size <= 0:
        raise ValueError("empty range")
    if start % (1 << (size - 1).bit_length()):
        raise ValueError(f"[{start}, {end}) is not a subtree of any RFC 6962 tree")
    parts: list[bytes] = []
    pos = start
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            parts.append(get_node(level, pos >> level))
            pos += 1 << level
    acc = parts.pop()
    while parts:
        acc = node_hash(parts.pop(), acc)
    return acc


_subtree_hash = subtree_hash  # inclusion_path's memo wraps it under the same name


def tree_root(size: int, get_node: GetNode) -> bytes:
    """The root of the tree of the first `size` leaves (EMPTY_ROOT for 0)."""
    return EMPTY_ROOT if size == 0 else subtree_hash(0, size, get_node)


def append_nodes(size: int, leaf: bytes, get_node: GetNode) -> list[tuple[int, int, bytes]]:
    """The perfect nodes created by appending leaf number `size` (its hash is `leaf`).

    Returns [(0, size, leaf), (1, ..), ..]: the leaf, then each parent it completes, reading
    the left sibling at every level (O(log n) reads).
    """
    nodes = [(0, size, leaf)]
    acc, index, level = leaf, size, 0
    while index & 1:  # a right child: its parent is now complete
        acc = node_hash(get_node(level, index - 1), acc)
        index >>= 1
        level += 1
        nodes.append((level, index, acc))
    return nodes


def inclusion_path(
    index: int, size: int, get_node: GetNode, memo: dict[tuple[int, int], bytes] | None = None
) -> list[bytes]:
    """PATH(m, D[n]) of RFC 6962 §2.1.1, leaf-side first.

    `memo` (optional, caller-owned) keeps subtree hashes across calls on the same tree: the
    proofs of a sync batch's consecutive leaves share most of their right-edge subtrees."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of size {size}")

    def subtree_hash(start: int, end: int, get: GetNode) -> bytes:
        if memo is None:
            return _subtree_hash(start, end, get)
        found = memo.get((start, end))
        if found is None:
            found = memo[(start, end)] = _subtree_hash(start, end, get)
        return found

    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:  # walk down, collecting siblings root-side first
        k = _split(end - start)
        if index < start + k:
            path.append(subtree_hash(start + k, end, get_node))
            end = start + k
        else:
            path.append(subtree_hash(start, start + k, get_node))
            start += k
    path.reverse()
    return path


def inclusion_paths(first: int, size: int, get_node: GetNode) -> list[list[bytes]]:
    """PATH(m, D[size]) for every m in [first, size) — what inclusion_path gives for each, leaf-
    side first — in one walk that hashes each subtree once: the proofs of a sync batch, whose
    leaves are the last ones of the tree. Subtrees wholly left of `first` are read as stored
    nodes; the others are folded from their leaves (get_node(0, m)), as append_nodes made them."""
    if not 0 <= first < size:
        raise ValueError(f"[{first}, {size}) is not a range of leaves of a tree of size {size}")
    paths: list[list[bytes]] = [[] for _ in range(size - first)]

    def walk(start: int, end: int) -> bytes:  # MTH of [start, end), end > first
        if end - start == 1:
            return get_node(0, start)
        mid = start + _split(end - start)
        left = walk(start, mid) if mid > first else subtree_hash(start, mid, get_node)
        right = walk(mid, end)
        for path in paths[max(start, first) - first : max(mid - first, 0)]:
            path.append(right)  # the left side's wanted leaves, after their deeper siblings
        for path in paths[max(mid, first) - first : end - first]:
            path.append(left)
        return node_hash(left, right)

    walk(0, size)
    return paths


def consistency_path(m: int, n: int, get_node: GetNode) -> list[bytes]:
    """PROOF(m, D[n]) = SUBPROOF(m, D[n], true) of RFC 6962 §2.1.2, for 0 < m <= n."""
    if not 0 < m <= n:
        raise ValueError(f"no consistency proof from size {m} to size {n}")
    path: list[bytes] = []
    start, end, whole = 0, n, True  # `whole`: the b flag (m is a complete old tree so far)
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            path.append(subtree_hash(start + k, end, get_node))
            end = start + k
        else:
            path.append(subtree_hash(start, start + k, get_node))
            m -= k
            start += k
            whole = False
    if not whole:  # SUBPROOF(m, D[m], false) = {MTH(D[m])}
        path.append(subtree_hash(start, end, get_node))
    path.reverse()
    return path


def verify_inclusion(
    *, leaf_hash: bytes, index: int, size: int, path: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 §2.1.3.2. Raises InclusionProofInvalid with the reason."""
    if not 0 <= index < size:  # step 1
        raise InclusionProofInvalid(f"leaf index {index} is not below tree size {size}")
    for name, h in (("leaf hash", leaf_hash), ("root", root), *(("path", p) for p in path)):
        if len(h) != HASH_SIZE:
            raise InclusionProofInvalid(f"{name} is not a {HASH_SIZE}-byte hash")
    fn, sn, r = index, size - 1, leaf_hash  # steps 2, 3
    for p in path:  # step 4
        if sn == 0:
            raise InclusionProofInvalid("proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:  # LSB(fn) unset: climb to the next right turn
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:  # step 5
        raise InclusionProofInvalid("proof is shorter than the tree is deep")
    if r != root:
        raise InclusionProofInvalid("computed root does not match")


def verify_consistency(
    *, size1: int, size2: int, root1: bytes, root2: bytes, path: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2, with the edge rules of its §2.1.4 preconditions (0 < size1).

    Equal sizes: the proof must be empty and the roots equal. Raises ConsistencyProofInvalid.
    """
    if size1 <= 0:
        raise ConsistencyProofInvalid("no consistency proof from an empty tree")
    if size2 < size1:
        raise ConsistencyProofInvalid(f"size2 {size2} is smaller than size1 {size1}")
    if size1 == size2:
        if path:
            raise ConsistencyProofInvalid("sizes are equal but the proof is not empty")
        if root1 != root2:
            raise ConsistencyProofInvalid("sizes are equal but the roots differ")
        return
    if not path:  # step 1
        raise ConsistencyProofInvalid("empty proof")
    for name, h in (("root1", root1), ("root2", root2), *(("path", p) for p in path)):
        if len(h) != HASH_SIZE:
            raise ConsistencyProofInvalid(f"{name} is not a {HASH_SIZE}-byte hash")
    nodes = list(path)
    if size1 & (size1 - 1) == 0:  # step 2: size1 is a power of two
        nodes.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1  # step 3
    while fn & 1:  # step 4
        fn >>= 1
        sn >>= 1
    fr = sr = nodes[0]  # step 5
    for c in nodes[1:]:  # step 6
        if sn == 0:
            raise ConsistencyProofInvalid("proof is longer than needed")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:  # LSB(fn) unset: climb to the next right turn
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:  # step 7
        raise ConsistencyProofInvalid("proof is shorter than needed")
    if fr != root1:
        raise ConsistencyProofInvalid("computed first root does not match root1")
    if sr != root2:
        raise ConsistencyProofInvalid("computed second root does not match root2")
