"""AIM: adaptive and iterative DP synthetic data (McKenna, Mullins, Sheldon & Miklau 2022).

On the table discretised by the schema's public domain, with the zCDP budget
``rho = cdp_rho(epsilon, delta)``:

1. measure every 1-way marginal with Gaussian noise ``sigma = sqrt(T / (2 * 0.9 rho))``
   (``T`` the nominal number of rounds, ``4 d`` by default) and fit a graphical model
   (mbi, mirror descent);
2. each round, pick the workload marginal the model approximates worst with an
   exponential mechanism (``epsilon_em = sqrt(8 * 0.1 rho / T)``), scored by its weighted
   L1 error minus the error expected from noise alone, among the candidates whose
   junction tree stays under a size limit that grows with the budget used; measure it
   with Gaussian noise and refit (warm start). When the refit moves the marginal less
   than the noise would explain, halve sigma and double epsilon_em (budget annealing);
3. when less than two rounds' budget is left, spend exactly the rest on a last round;
   then refit with ``iters`` iterations and sample from the model.

Repeated measurements of one clique are pooled by inverse variance before each fit
(the same estimate; it keeps the model's structure, so JAX reuses its compiled code).

The workload is every ``degree``-way marginal with at most ``max_cells`` cells, weighted
1; candidates are its downward closure, weighted by their overlap with the workload.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, ClassVar

import numpy as np

from governance.core.errors import InputError
from governance.generators.marginal.base import MarginalFit, MarginalGenerator
from governance.generators.marginal.model import model_marginals
from governance.generators.marginal.steps import (
    Clique,
    estimate,
    exponential_mechanism,
    marginal,
    measure,
    pooled,
    total_estimate,
)
from governance.generators.privacy.zcdp import exponential_rho, gaussian_rho

MECHANISM = "AIM (zCDP, Gaussian noise on marginals)"


class AIMGenerator(MarginalGenerator):
    """AIM on mbi: adaptively measured workload marginals, budget annealing.

    Args:
        epsilon: Target epsilon; must be finite (``math.inf`` is refused).
        delta: Target delta of the (epsilon, delta) guarantee.
        seed: Public seed of the sampling from the fitted model (and of the noise and the
            selections only when ``reproducible_noise``).
        bins: Equal-width bins per numeric column over its public bounds.
        iters: Mirror-descent iterations of the final model fit.
        round_iters: Mirror-descent iterations of each warm-started refit in a round.
        rounds: Nominal number of rounds ``T`` that sets the initial noise; at least
            ``d``, the number of columns. Default ``4 * d``, not the paper's ``16 * d``:
            every round refits the model, and each refit costs one XLA compilation (2-5 s
            on two CPU cores), so ``4 * d`` keeps Adult at epsilon 1 to about 11 rounds
            and under a minute; pass ``rounds=16 * d`` to reproduce the paper.
        max_rounds: Stop after this many rounds even if budget is left; the unspent
            budget is then not spent and the reported epsilon is lower. ``None``: no cap.
        degree: Size of the workload marginals (2 or 3).
        max_cells: Workload marginals with more cells are left out.
        max_model_size: Megabytes the model's junction tree may reach (AIM's size limit).
        reproducible_noise: Seed the noise and the selections from ``seed`` instead of
            fresh OS entropy (research sandboxes only: not DP against anyone who reads
            the log).

    Notes:
        McKenna, Mullins, Sheldon & Miklau (2022), "AIM: An Adaptive and Iterative
        Mechanism for Differentially Private Synthetic Data", PVLDB 15(11);
        details follow ``mechanisms/aim.py`` of private-pgm. Accounting as MST: Gaussian
        mechanism ``1 / (2 sigma^2)``-zCDP (Bun & Steinke 2016), exponential mechanism
        ``epsilon^2 / 8``-zCDP (Cesar & Rogers 2021), converted with Canonne, Kamath &
        Steinke (2020).
    """

    name: ClassVar[str] = "aim"
    mechanism: ClassVar[str] = MECHANISM

    def __init__(self, *, epsilon: float = math.inf, delta: float = 1e-5, seed: int = 0,
                 bins: int = 32, iters: int = 1000, round_iters: int = 100,
                 rounds: int | None = None, max_rounds: int | None = None, degree: int = 2,
                 max_cells: int = 10_000, max_model_size: float = 80.0,
                 reproducible_noise: bool = False) -> None:
        super().__init__(epsilon=epsilon, delta=delta, seed=seed, bins=bins, iters=iters,
                         reproducible_noise=reproducible_noise)
        for key, val in (("round_iters", round_iters), ("max_cells", max_cells),
                         ("rounds", rounds), ("max_rounds", max_rounds)):
            if val is not None and (isinstance(val, bool) or int(val) != val or val < 1):
                raise InputError(f"{key} must be a positive integer, got {val!r}")
        if degree not in (2, 3):
            raise InputError(f"degree must be 2 or 3, got {degree!r}")
        if not (max_model_size > 0 and math.isfinite(max_model_size)):
            raise InputError(f"max_model_size must be a positive number, got {max_model_size!r}")
        self.round_iters, self.rounds, self.max_rounds = int(round_iters), rounds, max_rounds
        self.degree, self.max_cells = degree, int(max_cells)
        self.max_model_size = float(max_model_size)

    def _workload(self, sizes: dict[str, int]) -> dict[Clique, float]:
        """Candidates (the workload's downward closure) with AIM's overlap weights.

        When no ``degree``-way marginal fits in ``max_cells``, the workload is the 1-way
        marginals.
        """
        cols = list(sizes)
        workload = [cl for cl in itertools.combinations(cols, min(self.degree, len(cols)))
                    if math.prod(sizes[c] for c in cl) <= self.max_cells]
        workload = workload or [(c,) for c in cols]
        closure = sorted({sub for cl in workload for r in range(1, len(cl) + 1)
                          for sub in itertools.combinations(cl, r)}, key=lambda c: (len(c), c))
        return {cl: float(sum(len(set(cl) & set(w)) for w in workload)) for cl in closure}

    def _run(self, mbi: Any, codes: dict[str, np.ndarray], sizes: dict[str, int],
             rho: float, rng: np.random.Generator) -> MarginalFit:
        cols = list(sizes)
        d = len(cols)
        rounds = self.rounds or 4 * d
        if rounds < d:
            raise InputError(f"rounds must be at least the number of columns ({d}), got "
                             f"{rounds}; the 1-way measurements alone would exceed the budget")
        candidates = self._workload(sizes)
        answers = {cl: marginal(codes, sizes, cl) for cl in candidates}
        domain = mbi.Domain(cols, [sizes[c] for c in cols])
        sigma = math.sqrt(rounds / (2 * 0.9 * rho))
        epsilon = math.sqrt(8 * 0.1 * rho / rounds)
        measurements = [measure(mbi, marginal(codes, sizes, (c,)), (c,), sigma, rng)
                        for c in cols]
        spent = {"one-way": d * gaussian_rho(sigma), "selection": 0.0, "measurement": 0.0}
        total = total_estimate([np.asarray(m.noisy_measurement) for m in measurements],
                               [sigma] * d)
        model = estimate(mbi, domain, measurements, total=total, iters=self.round_iters)
        measured: list[Clique] = [(c,) for c in cols]
        used, annealed, t, done = sum(spent.values()), 0, 0, False
        while not done and (self.max_rounds is None or t < self.max_rounds):
            t += 1
            if rho - used < 2 * (gaussian_rho(sigma) + exponential_rho(epsilon)):
                remaining = rho - used  # the last round spends exactly what is left
                sigma = math.sqrt(1 / (2 * 0.9 * remaining))
                epsilon = math.sqrt(8 * 0.1 * remaining)
                done = True
            used += gaussian_rho(sigma) + exponential_rho(epsilon)
            limit = self.max_model_size * used / rho
            allowed = self._allowed(mbi, domain, candidates, measured, limit)
            estimates = model_marginals(mbi, model, list(allowed))
            scores = np.array([
                allowed[cl] * (np.abs(answers[cl] - estimates[cl]).sum()
                               - math.sqrt(2 / math.pi) * sigma * answers[cl].size)
                for cl in allowed])
            pick = list(allowed)[exponential_mechanism(
                scores, epsilon, max(allowed.values()), rng)]
            spent["selection"] += exponential_rho(epsilon)
            measurements.append(measure(mbi, answers[pick], pick, sigma, rng))
            spent["measurement"] += gaussian_rho(sigma)
            measured.append(pick)
            model = estimate(mbi, domain, pooled(mbi, measurements), total=total,
                             iters=self.round_iters, warm_start=model)
            moved = np.abs(model_marginals(mbi, model, [pick])[pick] - estimates[pick]).sum()
            if not done and moved <= sigma * math.sqrt(2 / math.pi) * answers[pick].size:
                sigma, epsilon, annealed = sigma / 2, epsilon * 2, annealed + 1
        model = estimate(mbi, domain, pooled(mbi, measurements), total=total,
                         iters=self.iters, warm_start=model)
        notes = (f"{t} rounds (nominal T={rounds}, sigma halved {annealed} times), "
                 f"workload: {self.degree}-way marginals with <= {self.max_cells} cells",
                 "selected: " + ", ".join("-".join(c) for c in measured[d:]))
        return MarginalFit(model, {}, spent, tuple(measured), notes)

    @staticmethod
    def _allowed(mbi: Any, domain: Any, candidates: dict[Clique, float],
                 measured: list[Clique], limit: float) -> dict[Clique, float]:
        """Candidates already covered by the model, or whose addition keeps it small."""
        covered = {sub for cl in measured for r in range(1, len(cl) + 1)
                   for sub in itertools.combinations(cl, r)}
        size = mbi.junction_tree.hypothetical_model_size
        return {cl: w for cl, w in candidates.items()
                if cl in covered or size(domain, measured + [cl]) <= limit}
