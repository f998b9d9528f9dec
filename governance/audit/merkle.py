"""The RFC 6962 / RFC 9162 Merkle tree over the audit log: roots and inclusion proofs.

Leaf ``i`` is the hash of event ``i + 1``: ``SHA-256(0x00 || event hash bytes)``;
an inner node is ``SHA-256(0x01 || left || right)``; the empty tree's root is
``SHA-256("")``. A checkpoint signs the root of the first ``n`` leaves, and an
inclusion proof shows that one event is leaf ``i`` of that tree without the others.

>>> leaves = [leaf_hash(bytes([i])) for i in range(5)]
>>> tree = MerkleTree(leaves)
>>> verify_inclusion(index=3, size=5, leaf=leaves[3], proof=tree.inclusion_proof(3),
...                  root=tree.root)
True
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """The hash of one leaf's data."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an inner node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


class MerkleTree:
    """Every level of the tree over ``leaves`` (leaf hashes), for its root and proofs.

    A level with an odd number of nodes carries its last node up unchanged, which
    gives exactly RFC 6962's tree (split at the largest power of two below ``n``).
    """

    def __init__(self, leaves: Sequence[bytes]) -> None:
        levels = [list(leaves)]
        while len(levels[-1]) > 1:
            below = levels[-1]
            up = [node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
            if len(below) % 2:
                up.append(below[-1])
            levels.append(up)
        self._levels = levels

    @property
    def size(self) -> int:
        """The number of leaves."""
        return len(self._levels[0])

    @property
    def root(self) -> bytes:
        """The tree's root hash."""
        return self._levels[-1][0] if self.size else EMPTY_ROOT

    def inclusion_proof(self, index: int) -> list[bytes]:
        """The audit path of leaf ``index``, from the bottom up.

        Raises:
            IndexError: for an index outside the tree.
        """
        if not 0 <= index < self.size:
            raise IndexError(f"leaf {index} is not in a tree of {self.size}")
        proof = []
        for level in self._levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                proof.append(level[sibling])
            index //= 2
        return proof


def root_of(leaves: Sequence[bytes]) -> bytes:
    """The root of the tree over ``leaves`` (leaf hashes)."""
    return MerkleTree(leaves).root


def verify_inclusion(*, index: int, size: int, leaf: bytes, proof: Sequence[bytes],
                     root: bytes) -> bool:
    """Whether ``proof`` shows ``leaf`` at ``index`` in the tree of ``size`` with ``root``.

    Notes:
        The algorithm of RFC 9162, section 2.1.3.2.
    """
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0 or len(p) != 32:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


__all__ = ["EMPTY_ROOT", "MerkleTree", "leaf_hash", "node_hash", "root_of", "verify_inclusion"]
