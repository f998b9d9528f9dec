"""MST: maximum-spanning-tree DP synthetic data (McKenna, Miklau & Sheldon 2021).

The mechanism, on the table discretised by the schema's public domain
(``PublicDiscretizer``), with the zCDP budget ``rho = cdp_rho(epsilon, delta)`` split in
three equal parts:

1. measure every 1-way marginal with Gaussian noise (``rho / 3`` in total), then merge
   the values whose noisy count is below ``3 sigma`` (post-processing);
2. pick a spanning tree of attribute pairs with ``d - 1`` exponential mechanisms
   (``rho / 3`` in total), each scoring a pair by the L1 distance between its true 2-way
   marginal and the one implied by the 1-way estimate (sensitivity 1), as in Kruskal's
   algorithm over the still-unconnected pairs; the 1-way estimate is the exact
   least-squares fit of the noisy 1-way marginals (``fit_one_way``), the model mbi's
   mirror descent converges to on 1-way measurements, without compiling it;
3. measure the chosen 2-way marginals with Gaussian noise (``rho / 3`` in total).

mbi's mirror descent fits a graphical model to all measurements, and records are drawn
from it. The epsilon reported is ``cdp_eps`` of the rho the steps actually spent.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, ClassVar

import numpy as np

from governance.core.errors import InputError
from governance.generators.marginal.base import MarginalFit, MarginalGenerator
from governance.generators.marginal.steps import (
    Clique,
    compressed,
    estimate,
    exponential_mechanism,
    marginal,
    measure,
    support_mapping,
    total_estimate,
)
from governance.generators.privacy.zcdp import exponential_rho, gaussian_rho

MECHANISM = "MST (zCDP, Gaussian noise on marginals)"


class MSTGenerator(MarginalGenerator):
    """MST on mbi: noisy 1-way marginals plus a privately chosen tree of 2-way marginals.

    Args:
        epsilon: Target epsilon; must be finite (``math.inf`` is refused: a noiseless MST
            is no meaningful control, use the non-private baselines instead).
        delta: Target delta of the (epsilon, delta) guarantee.
        seed: Public seed of the sampling from the fitted model (and of the noise and the
            selection only when ``reproducible_noise``).
        bins: Equal-width bins per numeric column over its public bounds (integer columns
            with at most ``bins`` values get one code per value).
        iters: Mirror-descent iterations of the final model fit.
        compress: Merge values whose noisy 1-way count is below ``3 sigma`` (MST's domain
            compression; post-processing, so free).
        reproducible_noise: Seed the noise and the selection from ``seed`` instead of fresh
            OS entropy (research sandboxes only: not DP against anyone who reads the log).

    Notes:
        McKenna, Miklau & Sheldon (2021), "Winning the NIST Contest: A scalable and
        general approach to differentially private synthetic data", Journal of Privacy
        and Confidentiality 11(3); the budget split, the domain compression and the
        exponential mechanism follow ``mechanisms/mst.py`` of private-pgm. Accounting:
        Gaussian mechanism ``1 / (2 sigma^2)``-zCDP per unit-sensitivity marginal (Bun &
        Steinke 2016) and ``epsilon^2 / 8``-zCDP per exponential mechanism (Cesar & Rogers
        2021), converted with Canonne, Kamath & Steinke (2020).

    >>> from tests.utils.data import mixed_table, MIXED_SCHEMA
    >>> gen = MSTGenerator(epsilon=1.0, iters=100).fit(mixed_table(400), MIXED_SCHEMA)
    >>> 0.99 < gen.privacy().epsilon_spent <= 1.0
    True
    """

    name: ClassVar[str] = "mst"
    mechanism: ClassVar[str] = MECHANISM

    def __init__(self, *, epsilon: float = math.inf, delta: float = 1e-5, seed: int = 0,
                 bins: int = 32, iters: int = 1000, compress: bool = True,
                 reproducible_noise: bool = False) -> None:
        super().__init__(epsilon=epsilon, delta=delta, seed=seed, bins=bins, iters=iters,
                         reproducible_noise=reproducible_noise)
        if not isinstance(compress, bool):
            raise InputError(f"compress must be True or False, got {compress!r}")
        self.compress = compress

    def _run(self, mbi: Any, codes: dict[str, np.ndarray], sizes: dict[str, int],
             rho: float, rng: np.random.Generator) -> MarginalFit:
        cols = list(sizes)
        d = len(cols)
        # With one column there is no pair to select or measure: it gets the whole budget.
        part = rho / 3 if d > 1 else rho
        sigma1 = math.sqrt(d / (2 * part))
        ys = {c: measure(mbi, marginal(codes, sizes, (c,)), (c,), sigma1, rng) for c in cols}
        raw = {c: np.asarray(m.noisy_measurement) for c, m in ys.items()}
        total = total_estimate(list(raw.values()), [sigma1] * d)
        mappings = {}
        if self.compress:
            for c in cols:
                mapping = support_mapping(raw[c], 3 * sigma1)
                if mapping.max() + 1 < sizes[c]:
                    mappings[c] = mapping
        full = mbi.Domain(cols, [sizes[c] for c in cols])
        csizes = {c: int(mappings[c].max()) + 1 if c in mappings else sizes[c] for c in cols}
        ccodes = {c: mappings[c][codes[c]] if c in mappings else codes[c] for c in cols}
        domain = mbi.Domain(cols, [csizes[c] for c in cols])
        one_way = [compressed(mbi, ys[c], mappings[c], full) if c in mappings else ys[c]
                   for c in cols]
        spent = {"one-way": d * gaussian_rho(sigma1)}
        edges: list[Clique] = []
        if d > 1:
            fitted = {c: fit_one_way(m, total) for c, m in zip(cols, one_way, strict=True)}
            edges, spent["selection"] = self._select(fitted, ccodes, csizes, part, rng)
            sigma2 = math.sqrt(len(edges) / (2 * part))
            two_way = [measure(mbi, marginal(ccodes, csizes, e), e, sigma2, rng) for e in edges]
            spent["two-way"] = len(edges) * gaussian_rho(sigma2)
            total = total_estimate(  # every measurement sums to n plus noise
                [*raw.values(), *(np.asarray(m.noisy_measurement) for m in two_way)],
                [sigma1] * d + [sigma2] * len(edges))
        else:
            two_way = []
        model = estimate(mbi, domain, one_way + two_way, total=total, iters=self.iters)
        notes = [f"noise sd: {sigma1:.4g} per 1-way cell"
                 + (f", {sigma2:.4g} per 2-way cell" if edges else ""),
                 "tree: " + ", ".join("-".join(e) for e in edges)]
        if mappings:
            notes.append("values with noisy 1-way count < 3 sigma merged (post-processing): "
                         + ", ".join(f"{c} {sizes[c]}->{csizes[c]}" for c in mappings))
        measured = tuple([(c,) for c in cols] + edges)
        return MarginalFit(model, mappings, spent, measured, tuple(notes))

    @staticmethod
    def _select(one: dict[str, np.ndarray], codes: dict[str, np.ndarray],
                sizes: dict[str, int], rho: float,
                rng: np.random.Generator) -> tuple[list[Clique], float]:
        """Kruskal's algorithm with an exponential mechanism choosing each edge.

        ``one`` holds the fitted 1-way marginals; the model they define is a product
        distribution, so its 2-way marginal of ``(a, b)`` is their outer product over
        the total.
        """
        cols = list(sizes)
        total = float(next(iter(one.values())).sum())
        score = {}
        for a, b in itertools.combinations(cols, 2):
            implied = np.outer(one[a], one[b]).ravel() / total
            score[a, b] = float(np.abs(marginal(codes, sizes, (a, b)) - implied).sum())
        root = {c: c for c in cols}

        def find(c: str) -> str:
            while root[c] != c:
                root[c] = root[root[c]]
                c = root[c]
            return c

        rounds = len(cols) - 1
        epsilon = math.sqrt(8 * rho / rounds)
        edges: list[Clique] = []
        candidates = list(score)
        for _ in range(rounds):
            candidates = [e for e in candidates if find(e[0]) != find(e[1])]
            pick = candidates[exponential_mechanism(
                np.array([score[e] for e in candidates]), epsilon, 1.0, rng)]
            edges.append(pick)
            root[find(pick[0])] = find(pick[1])
        return edges, rounds * exponential_rho(epsilon)


def fit_one_way(measurement: Any, total: float) -> np.ndarray:
    """Least-squares fit of one column's marginal to its noisy measurement, exactly.

    Solves ``min ||w * x - y||^2`` subject to ``x >= 0`` and ``sum(x) = total`` (``w``
    the query weights, 1 except for merged cells). With 1-way measurements only, the
    graphical model mbi would fit is a product of independent columns and its loss
    separates into these problems, so this is the model MST's selection step scores
    against, solved in closed form instead of by mirror descent.

    Notes:
        KKT conditions give ``x_i = max(0, (w_i y_i - lam) / w_i^2)``; ``lam`` is found by
        bisection on the decreasing ``sum(x)`` (the weighted form of the Euclidean
        projection onto the simplex, Duchi et al. 2008, "Efficient Projections onto the
        l1-Ball for Learning in High Dimensions").
    """
    y = np.asarray(measurement.noisy_measurement, dtype=np.float64)
    query = measurement.query
    w = np.asarray(query.weights, dtype=np.float64) if hasattr(query, "weights") \
        else np.ones_like(y)

    def mass(lam: float) -> np.ndarray:
        return np.maximum(0.0, (w * y - lam) / w**2)

    lo = float(np.min(w * y - total * w**2))  # mass(lo) >= total
    hi = float(np.max(w * y))  # mass(hi) == 0
    for _ in range(200):
        mid = (lo + hi) / 2
        if mass(mid).sum() > total:
            lo = mid
        else:
            hi = mid
    x = mass((lo + hi) / 2)
    return x * (total / x.sum()) if x.sum() > 0 else np.full_like(y, total / y.size)

