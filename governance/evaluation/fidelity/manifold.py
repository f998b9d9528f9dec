"""k-NN manifold precision and recall of a synthetic distribution.

Notes:
    Kynkäänniemi et al. (2019), "Improved precision and recall metric for assessing
    generative models": each real point gets a ball whose radius is the distance to its
    k-th nearest other real point; precision is the share of synthetic points inside
    at least one real ball (synthetic rows look real), and recall is the share of real
    points inside at least one synthetic ball built the same way (the real variety is
    covered). Distances are Euclidean on the shared :class:`PublicEncoder` encoding
    (bounds-scaled numerics, one-hot categories), with k = 5 by default. On very
    discrete tables many radii are 0, so only exact matches count for those balls.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from governance.core.errors import InputError

_TOL = 1e-9
_CHUNK = 1024


def _sq_dists(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.maximum(d, 0.0)


def knn_radii(points: np.ndarray, k: int) -> np.ndarray:
    """Squared distance of every point to its k-th nearest *other* point."""
    out = np.empty(len(points))
    for start in range(0, len(points), _CHUNK):
        d = _sq_dists(points[start:start + _CHUNK], points)
        rows = np.arange(d.shape[0])
        d[rows, start + rows] = np.inf  # a point is not its own neighbour
        out[start:start + _CHUNK] = np.partition(d, k - 1, axis=1)[:, k - 1]
    return out


def coverage(queries: np.ndarray, centres: np.ndarray, radii: np.ndarray) -> float:
    """Share of ``queries`` within the (squared) radius of at least one centre."""
    inside = 0
    for start in range(0, len(queries), _CHUNK):
        d = _sq_dists(queries[start:start + _CHUNK], centres)
        inside += int((d <= radii[None, :] + _TOL).any(axis=1).sum())
    return inside / len(queries)


def manifold_precision_recall(
    real: np.ndarray, synthetic: np.ndarray, *, k: int = 5
) -> dict[str, Any]:
    """Precision and recall of ``synthetic`` against ``real`` (encoded matrices).

    Raises:
        InputError: if either set has no more than ``k`` rows.
    """
    if min(len(real), len(synthetic)) <= k:
        raise InputError(f"manifold precision/recall needs more than k={k} rows in each set, "
                         f"got {len(real)} real and {len(synthetic)} synthetic")
    real = np.asarray(real, dtype=np.float64)
    synthetic = np.asarray(synthetic, dtype=np.float64)
    precision = coverage(synthetic, real, knn_radii(real, k))
    recall = coverage(real, synthetic, knn_radii(synthetic, k))
    return {"precision": precision, "recall": recall, "k": k}
