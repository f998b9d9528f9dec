"""The steps of DP marginal mechanisms on mbi (private-pgm's estimation engine).

MST and AIM share one loop: measure marginals of the discretised table with Gaussian
noise, fit a graphical model to the noisy measurements with mbi's mirror descent, and
sample records from the model (``marginal_model``). The mechanisms (``mst.py``,
``aim.py``) decide which marginals to measure and at what noise; the steps live here.

Everything that touches the private data is explicit: ``marginal`` counts cells (the only
read of private values), ``measure`` adds noise to the counts it is given, and
``exponential_mechanism`` turns private scores into one choice. All other steps
(compression, estimation, sampling, decompression) are post-processing of noisy values.

JAX runs in float64 inside ``mbi_session`` (mbi warns that float32 can stall its
estimation above ~100k rows); the switch is scoped to the block, not set process-wide.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import logsumexp

Clique = tuple[str, ...]

#: Messages of mbi/JAX warnings silenced inside ``mbi_session`` (by message, not wholesale).
_QUIET = (
    "JAX is running in float32 mode",
    "JAX persistent compilation cache is enabled",
)


@contextmanager
def mbi_session() -> Iterator[Any]:
    """Import mbi quietly (its float32 and cache warnings, by message) and run JAX in float64.

    Nothing here touches NumPy's global RNG: the steps draw from explicit generators.

    Yields:
        The ``mbi`` module.
    """
    try:  # Deferred imports: jax starts a runtime; only MST and AIM need it (and mbi).
        import jax

        with warnings.catch_warnings():
            for message in _QUIET:
                warnings.filterwarnings("ignore", message=message, category=UserWarning)
            import mbi
    except ImportError as exc:
        raise ImportError("the DP marginal generators (mst, aim) need mbi 2 and JAX: "
                          "pip install 'mbi>=2.0'") from exc
    with jax.enable_x64(True):
        yield mbi


def marginal(codes: dict[str, np.ndarray], sizes: dict[str, int], clique: Clique) -> np.ndarray:
    """Exact cell counts of ``clique`` (flattened in C order); the one read of private data."""
    shape = tuple(sizes[c] for c in clique)
    flat = np.ravel_multi_index(tuple(codes[c] for c in clique), shape)
    return np.bincount(flat, minlength=int(np.prod(shape))).astype(np.float64)


def measure(mbi: Any, counts: np.ndarray, clique: Clique, sigma: float,
            rng: np.random.Generator) -> Any:
    """Gaussian mechanism on one marginal: ``counts + N(0, sigma^2)`` per cell.

    Under add/remove-one-record neighbours a marginal has L2 sensitivity 1, so this step
    is ``1 / (2 sigma^2)``-zCDP (``zcdp.gaussian_rho``).
    """
    noisy = counts + rng.normal(0.0, sigma, size=counts.size)
    return mbi.LinearMeasurement(noisy, clique, stddev=float(sigma))


@dataclass(frozen=True)
class ScaledQuery:
    """The linear query ``datavector * weights``, equal and hashed by value.

    mbi's own ``WeightedQuery`` compares by identity, so every fit would compile its
    estimator afresh; by value, identical structures reuse JAX's compiled programs.
    """

    weights: tuple[float, ...]

    def __call__(self, factor: Any) -> Any:
        """Apply the query to a factor."""
        # Deferred import: jax starts a runtime; only MST and AIM need it.
        import jax.numpy as jnp

        return factor.datavector() * jnp.asarray(self.weights)

    def op_norm_sq(self) -> float:
        """Squared operator norm (mbi's Lipschitz constant reads it)."""
        return max(w * w for w in self.weights)


def compressed(mbi: Any, measurement: Any, mapping: np.ndarray, domain: Any) -> Any:
    """Re-express a 1-way measurement over merged cells (mbi's compress, value-hashed query).

    A merged cell of ``k`` old cells is measured as their noisy sum over ``sqrt(k)``
    with query weight ``1 / sqrt(k)``, so its noise stays ``N(0, sigma^2)`` (MST).
    """
    (col,) = measurement.clique
    out = measurement.compress({col: mapping}, domain)
    weights = tuple(float(w) for w in np.asarray(out.query.weights))
    return mbi.LinearMeasurement(out.noisy_measurement, out.clique, stddev=out.stddev,
                                 query=ScaledQuery(weights))


def support_mapping(y: np.ndarray, threshold: float) -> np.ndarray:
    """MST's domain compression: keep cells whose noisy count reaches ``threshold``.

    Returns ``mapping`` with ``mapping[i]`` the new code of old code ``i``: kept cells
    get ``0..k-1`` in order, every other cell the shared code ``k``. The rule reads only
    the noisy measurement, so it is post-processing.

    Notes:
        McKenna, Miklau & Sheldon (2021), "Winning the NIST Contest" (MST merges the
        values whose noisy 1-way count is below ``3 sigma``).
    """
    keep = np.asarray(y) >= threshold
    mapping = np.full(len(keep), int(keep.sum()), dtype=np.int64)
    mapping[keep] = np.arange(int(keep.sum()))
    return mapping


def decompress(codes: np.ndarray, mapping: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Map compressed codes back: a merged code becomes a uniform draw among its cells."""
    out = np.empty(len(codes), dtype=np.int64)
    for new in np.unique(codes):
        members = np.flatnonzero(mapping == new)
        rows = np.flatnonzero(codes == new)
        out[rows] = members[rng.integers(0, len(members), len(rows))] if len(members) > 1 \
            else members[0]
    return out


def exponential_mechanism(scores: np.ndarray, epsilon: float, sensitivity: float,
                          rng: np.random.Generator) -> int:
    """Pick an index with probability proportional to ``exp(epsilon q / (2 sensitivity))``.

    Notes:
        McSherry & Talwar (2007), "Mechanism Design via Differential Privacy"; it is
        ``epsilon``-DP, hence ``epsilon^2 / 8``-zCDP (``zcdp.exponential_rho``).
    """
    if not sensitivity > 0:
        raise ValueError(f"sensitivity must be positive, got {sensitivity!r}")
    logits = 0.5 * epsilon / sensitivity * np.asarray(scores, dtype=np.float64)
    p = np.exp(logits - logsumexp(logits))
    return int(rng.choice(len(p), p=p / p.sum()))


def estimate(mbi: Any, domain: Any, measurements: Sequence[Any], *, total: float,
             iters: int, warm_start: Any = None) -> Any:
    """Fit a graphical model to noisy measurements by mirror descent (mbi).

    Notes:
        McKenna, Sheldon & Miklau (2019), "Graphical-model based estimation and inference
        for differential privacy", ICML, Algorithm 1 (``mbi.estimation.MirrorDescent``).
    """
    return mbi.estimation.MirrorDescent().estimate(
        domain, list(measurements), known_total=float(total), iters=int(iters),
        warm_start=warm_start)


def pooled(mbi: Any, measurements: Sequence[Any]) -> list[Any]:
    """One measurement per clique: repeated measurements merged by inverse variance.

    For identity queries ``sum_k ||x - y_k||^2 / (2 sigma_k^2)`` equals
    ``||x - y||^2 / (2 s^2)`` plus a constant, with ``1 / s^2 = sum_k 1 / sigma_k^2`` and
    ``y = s^2 sum_k y_k / sigma_k^2``: the estimate is unchanged, and re-measuring a clique
    keeps the loss's structure, so JAX reuses the compiled estimator.
    """
    groups: dict[Clique, list[Any]] = {}
    for m in measurements:
        if not isinstance(m.query, mbi.marginal_loss.DatavectorQuery):
            raise ValueError("only identity measurements can be pooled")
        groups.setdefault(tuple(m.clique), []).append(m)
    out = []
    for clique, group in groups.items():
        if len(group) == 1:
            out.append(group[0])
            continue
        precision = [1.0 / m.stddev**2 for m in group]
        y = sum(p * np.asarray(m.noisy_measurement) for p, m in zip(precision, group,
                                                                     strict=True))
        out.append(mbi.LinearMeasurement(np.asarray(y) / sum(precision), clique,
                                         stddev=float(sum(precision) ** -0.5)))
    return out


def total_estimate(ys: Sequence[np.ndarray], sigmas: Sequence[float]) -> float:
    """Minimum-variance unbiased estimate of the record count from noisy marginals.

    Each noisy marginal (identity query) sums to ``n`` plus noise of variance
    ``sigma^2 * cells``; the inverse-variance weighted mean of the sums is the estimate
    (at least 1), as mbi's ``minimum_variance_unbiased_total``.
    """
    sums = np.array([float(np.sum(y)) for y in ys])
    variances = np.array([s**2 * len(y) for y, s in zip(ys, sigmas, strict=True)])
    return max(1.0, float(np.average(sums, weights=1 / variances)))
