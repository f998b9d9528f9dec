"""Exact nearest-neighbour distances at scale, on the shared public-domain encoding.

Every distance attack measures Euclidean distance on ``PublicEncoder``'s matrix with
each one-hot block scaled by 1/sqrt(2): numerics live in [0, 1] by their public bounds
and two rows that differ in one category are exactly 1 apart on that column
(2 x (1/sqrt(2))^2 = 1), so a category mismatch weighs as much as a numeric column
spanning its whole public range.

The search is brute force over *all* reference rows (no subsampling, no approximate
index): squared distances come from float32 matrix products,
``||a||^2 + ||b||^2 - 2 a.b`` (clamped at 0), in blocks whose size bounds memory; the
distances of the chosen neighbours are then recomputed in float64 from the differences,
so an identical row is at distance exactly 0 and equal pairs give equal distances.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pandas as pd

from governance.core.errors import InputError
from governance.datasets.encoding import PublicEncoder

ONEHOT_SCALE = np.float32(1.0 / math.sqrt(2.0))
DEFAULT_BLOCK_BYTES = 256 * 2**20
_MAX_K = 8


def encode_for_distance(frame: pd.DataFrame, encoder: PublicEncoder) -> np.ndarray:
    """Encode a conformed frame as float32 with one-hot blocks scaled by 1/sqrt(2)."""
    out = encoder.encode(frame)
    for block in encoder.blocks:
        if block.is_categorical:
            out[:, block.start : block.start + block.width] *= ONEHOT_SCALE
    return out


def _check(queries: np.ndarray, reference: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    q = np.ascontiguousarray(queries, dtype=np.float32)
    r = np.ascontiguousarray(reference, dtype=np.float32)
    if q.ndim != 2 or r.ndim != 2 or q.shape[1] != r.shape[1]:
        raise InputError(
            f"queries {q.shape} and reference {r.shape} must be 2-D with the same number of "
            "columns; encode both with the same PublicEncoder"
        )
    if not 1 <= k <= _MAX_K:
        raise InputError(f"k must be between 1 and {_MAX_K}, got {k}")
    if r.shape[0] < k:
        raise InputError(f"k={k} neighbours asked for but the reference has {r.shape[0]} rows")
    if not (np.isfinite(q).all() and np.isfinite(r).all()):
        raise InputError("encoded rows must be finite; conform the frames to the schema first")
    return q, r


def block_shape(n_q: int, n_r: int, block_bytes: int) -> tuple[int, int]:
    """Rows and columns of a float32 block of at most ``block_bytes`` (at least 1 x 16)."""
    cols = min(n_r, max(16, block_bytes // (4 * 256)))
    rows = max(1, min(n_q, block_bytes // (4 * cols)))
    return rows, cols


def iter_product_blocks(
    left: np.ndarray, right_t: np.ndarray, *, block_bytes: int = DEFAULT_BLOCK_BYTES
) -> Iterator[tuple[slice, slice, np.ndarray]]:
    """Yield ``(rows, cols, left[rows] @ right_t[:, cols])`` over all blocks.

    Blocks come left-chunk by left-chunk, right columns inner; each holds at most
    ``block_bytes`` of float32 and reuses one buffer (copy a block to keep it).
    """
    rows, cols = block_shape(left.shape[0], right_t.shape[1], block_bytes)
    buf = np.empty((rows, cols), dtype=np.float32)
    for q0 in range(0, left.shape[0], rows):
        lq = left[q0 : q0 + rows]
        for c0 in range(0, right_t.shape[1], cols):
            rt = right_t[:, c0 : c0 + cols]
            out = buf[: lq.shape[0], : rt.shape[1]]
            np.matmul(lq, rt, out=out)
            yield slice(q0, q0 + lq.shape[0]), slice(c0, c0 + rt.shape[1]), out


def nearest_neighbours(
    queries: np.ndarray, reference: np.ndarray, k: int = 1, *,
    block_bytes: int = DEFAULT_BLOCK_BYTES,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest reference rows of every query row (brute force, all pairs).

    Args:
        queries: encoded query rows (n_q x d).
        reference: encoded reference rows (n_r x d), at least ``k`` of them.
        k: neighbours per query, 1 to 8.
        block_bytes: memory bound of one block of float32 distances.

    Returns:
        ``(distances, indices)``, both n_q x k, sorted by distance; distances in float64.

    Notes:
        Neighbours are ranked by float32 squared distances, whose rounding error is about
        1e-7 times the squared norms; two references closer together than that may be
        ranked in either order. The returned distances are recomputed in float64.
    """
    q, r = _check(queries, reference, k)
    # [-2q, 1] . [r, |r|^2] = |r|^2 - 2 q.r: the norms ride inside the matrix product,
    # and |q|^2, constant along a row, does not change which reference is nearest.
    left = np.hstack([-2.0 * q, np.ones((q.shape[0], 1), dtype=np.float32)])
    right_t = np.ascontiguousarray(np.hstack([r, np.einsum("ij,ij->i", r, r)[:, None]]).T)
    index = np.empty((q.shape[0], k), dtype=np.int64)
    best: tuple[np.ndarray, np.ndarray] | None = None
    current = slice(0, 0)
    for rows, cols, block in iter_product_blocks(left, right_t, block_bytes=block_bytes):
        if rows != current:
            if best is not None:
                index[current] = best[1]
            current, best = rows, None
        best = _merge(best, _smallest(block, k, cols.start), k)
    if best is not None:
        index[current] = best[1]
    dist = np.empty((q.shape[0], k), dtype=np.float64)
    step = max(1, block_bytes // (48 * k * q.shape[1]))  # float64 temporaries <= 1/2 block
    for q0 in range(0, q.shape[0], step):
        at = slice(q0, q0 + step)
        diff = q[at, None, :].astype(np.float64) - r[index[at]].astype(np.float64)
        exact = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))
        order = np.argsort(exact, axis=1, kind="stable")
        dist[at] = np.take_along_axis(exact, order, axis=1)
        index[at] = np.take_along_axis(index[at], order, axis=1)
    return dist, index


def _smallest(block: np.ndarray, k: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
    """The k smallest entries per row (values, column + offset); overwrites them."""
    rows = np.arange(block.shape[0])
    vals, idxs = [], []
    for _ in range(min(k, block.shape[1])):
        j = block.argmin(axis=1)
        vals.append(block[rows, j].copy())
        idxs.append(j + offset)
        block[rows, j] = np.inf
    return np.stack(vals, axis=1), np.stack(idxs, axis=1)


def _merge(
    best: tuple[np.ndarray, np.ndarray] | None, new: tuple[np.ndarray, np.ndarray], k: int
) -> tuple[np.ndarray, np.ndarray]:
    if best is None:
        return new
    vals, idxs = np.hstack([best[0], new[0]]), np.hstack([best[1], new[1]])
    keep = np.argsort(vals, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(vals, keep, axis=1), np.take_along_axis(idxs, keep, axis=1)


def nearest_distances(
    queries: np.ndarray, reference: np.ndarray, k: int = 1, *,
    block_bytes: int = DEFAULT_BLOCK_BYTES,
) -> np.ndarray:
    """Distances from every query row to its ``k`` nearest reference rows (n_q x k).

    >>> q = np.array([[0.0, 0.0]], dtype=np.float32)
    >>> r = np.array([[3.0, 4.0], [1.0, 0.0], [0.0, 2.0]], dtype=np.float32)
    >>> nearest_distances(q, r, k=2).tolist()
    [[1.0, 2.0]]

    See ``nearest_neighbours`` for the method and its arguments.
    """
    return nearest_neighbours(queries, reference, k, block_bytes=block_bytes)[0]
