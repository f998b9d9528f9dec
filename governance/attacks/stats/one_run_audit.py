"""An epsilon lower bound from one training run with canaries (Steinke, Nasr & Jagielski 2023).

The audit: ``m`` canaries are each included in the training data independently with
probability 1/2. After the one training run the auditor guesses "in" or "out" for ``r``
of them (abstaining on the rest) and ``v`` guesses are correct. If the mechanism were
(epsilon, delta)-DP, many correct guesses would be unlikely; the p-value below bounds
that probability, and the largest epsilon it rejects is a lower bound on the mechanism's
true epsilon with the stated confidence. Unlike ``empirical_epsilon`` (an estimate),
this is a lower bound in the sense of a hypothesis test, valid from a single training run.

What is implemented, from Steinke, Nasr & Jagielski (2023), "Privacy Auditing with One
(1) Training Run", NeurIPS 2023 (arXiv:2305.08846), main result (Theorem 3.1 there; the
pure-DP case is its delta = 0 special case): for an (epsilon, delta)-DP mechanism and any
guessing strategy that makes exactly ``r`` guesses,

    P[W >= v] <= f(v) + 2 m delta * max_{i = 1..v} (f(v - i) - f(v)) / i,
    f(v) = P[Binomial(r, q) >= v],  q = e^eps / (1 + e^eps),

where ``W`` is the number of correct guesses (the theorem takes the maximum over
``i = 1..m``; terms with ``i > v`` have the same numerator as ``i = v`` and a larger
denominator, so they never win). The right-hand side is the p-value of the
paper's own reference code (``p_value_DP_audit``); the bound is the largest epsilon whose
p-value is below ``1 - confidence`` (their ``get_eps_audit``, here solved with Brent's
method instead of 30 bisection steps).

Validity conditions the caller must keep: canary inclusion is an independent fair coin
per canary, drawn from fresh randomness; ``r`` (and how many "in" and "out" guesses) is
fixed before the guesses are scored; choosing the best ``r`` after looking at the
outcome needs a multiplicity correction (e.g. Bonferroni over the ``r`` values tried).

>>> round(one_run_epsilon_lb(m=1000, r=100, v=100, delta=0.0).epsilon_lb, 3)
3.493
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import optimize, special, stats

from governance.core.errors import InputError
from governance.core.types import Record


class OneRunAudit(Record):
    """The one-run lower bound and the counts it was computed from.

    Attributes:
        epsilon_lb: the largest epsilon rejected at ``confidence`` (0 if none is).
        m: number of canaries (each included with probability 1/2).
        r: number of guesses made (abstentions excluded).
        v: number of correct guesses.
        delta: the delta of the (epsilon, delta) hypothesis that is tested.
        confidence: 1 minus the p-value threshold, e.g. 0.95.
        p_value_at_zero: the p-value of the hypothesis "(0, delta)-DP", i.e. how far
            the guesses are from chance (small means the bound is positive).
    """

    epsilon_lb: float
    m: int
    r: int
    v: int
    delta: float
    confidence: float
    p_value_at_zero: float


def _check_counts(m: int, r: int, v: int, delta: float) -> None:
    if not 0 <= v <= r <= m:
        raise InputError(f"need 0 <= v <= r <= m (correct <= guesses <= canaries), got "
                         f"v={v}, r={r}, m={m}")
    if not 0.0 <= delta <= 1.0:
        raise InputError(f"delta must lie in [0, 1], got {delta}")


def one_run_p_value(m: int, r: int, v: int, *, epsilon: float, delta: float = 0.0) -> float:
    """Upper bound on P[at least ``v`` of ``r`` guesses correct] under (epsilon, delta)-DP.

    Args:
        m: number of canaries.
        r: number of guesses made.
        v: number of correct guesses.
        epsilon: epsilon of the hypothesis, >= 0.
        delta: delta of the hypothesis.

    Returns:
        ``min(1, f(v) + 2 m delta max_i (f(v - i) - f(v)) / i)`` (module notes).

    Raises:
        InputError: on counts outside ``0 <= v <= r <= m``, a negative epsilon or a
            delta outside [0, 1].

    >>> one_run_p_value(10, 5, 5, epsilon=0.0)  # five fair coins all right: 2^-5
    0.03125
    """
    _check_counts(m, r, v, delta)
    if not epsilon >= 0.0:
        raise InputError(f"epsilon must be >= 0, got {epsilon}")
    q = float(special.expit(epsilon))
    beta = float(stats.binom.sf(v - 1, r, q))
    if delta == 0.0 or v == 0:
        return min(beta, 1.0)
    # (f(v - i) - f(v)) = P[v - i <= Binomial(r, q) < v], for i = 1..v
    window = np.cumsum(stats.binom.pmf(np.arange(v - 1, -1, -1), r, q))
    alpha = float(np.max(window / np.arange(1, v + 1)))
    return min(beta + 2.0 * m * delta * alpha, 1.0)


def one_run_epsilon_lb(
    m: int, r: int, v: int, *, delta: float = 0.0, confidence: float = 0.95
) -> OneRunAudit:
    """The largest epsilon that ``v`` correct out of ``r`` guesses rejects (module notes).

    Args:
        m: number of canaries, each included independently with probability 1/2.
        r: number of guesses made (fixed before scoring).
        v: number of correct guesses.
        delta: the delta of the guarantee under audit.
        confidence: the bound holds with this probability, e.g. 0.95.

    Returns:
        The audit record; ``epsilon_lb`` is 0 when even epsilon = 0 is not rejected.

    Raises:
        InputError: on inconsistent counts or parameters.

    Notes:
        Steinke, Nasr & Jagielski (2023), Theorem 3.1 and their ``get_eps_audit``: the
        p-value grows with epsilon, so the rejected set is an interval ``[0, eps_lb)``
        and its end is found by root finding to 1e-12.
    """
    _check_counts(m, r, v, delta)
    if not 0.0 < confidence < 1.0:
        raise InputError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    level = 1.0 - confidence
    p0 = one_run_p_value(m, r, v, epsilon=0.0, delta=delta)
    eps = 0.0
    if p0 < level:
        eps = _solve(lambda e: one_run_p_value(m, r, v, epsilon=e, delta=delta) - level)
    return OneRunAudit(epsilon_lb=eps, m=m, r=r, v=v, delta=delta, confidence=confidence,
                       p_value_at_zero=p0)


def _solve(gap: Callable[[float], float]) -> float:
    """The root of an increasing ``gap`` on (0, inf) with ``gap(0) < 0``."""
    hi = 1.0
    while gap(hi) < 0.0:  # terminates: q = expit(eps) reaches 1.0 in floating point
        hi *= 2.0
    return float(optimize.brentq(gap, 0.0, hi, xtol=1e-12, rtol=4 * np.finfo(float).eps))


def count_guesses(
    scores: np.ndarray, included: np.ndarray, *, k_in: int, k_out: int
) -> tuple[int, int]:
    """Guess "in" for the ``k_in`` highest-scoring canaries and "out" for the ``k_out`` lowest.

    Args:
        scores: one attack score per canary, higher means "included".
        included: the canaries' true inclusion bits (the audit's coins).
        k_in: number of "in" guesses, fixed before scoring.
        k_out: number of "out" guesses, fixed before scoring.

    Returns:
        ``(r, v)``: guesses made (``k_in + k_out``) and guesses that were right, ready
        for ``one_run_epsilon_lb``. Ties in the scores are broken by canary position,
        which must not depend on the inclusion coins.

    Raises:
        InputError: on mismatched lengths, non-finite scores or ``k_in + k_out > m``.

    Notes:
        The abstaining guesser of Steinke, Nasr & Jagielski (2023), section 6.

    >>> count_guesses(np.array([0.9, 0.1, 0.8, 0.2, 0.5]), np.array([1, 0, 0, 0, 1]),
    ...               k_in=2, k_out=2)
    (4, 3)
    """
    s = np.asarray(scores, dtype=np.float64).ravel()
    inc = np.asarray(included).ravel().astype(bool)
    if s.size != inc.size:
        raise InputError(f"got {s.size} scores for {inc.size} canaries; pass one per canary")
    if not np.isfinite(s).all():
        raise InputError("canary scores must be finite")
    if k_in < 0 or k_out < 0 or k_in + k_out > s.size:
        raise InputError(f"need 0 <= k_in, k_out and k_in + k_out <= {s.size} canaries, got "
                         f"k_in={k_in}, k_out={k_out}")
    order = np.argsort(-s, kind="stable")
    right = int(inc[order[:k_in]].sum()) + int((~inc[order[s.size - k_out:]]).sum())
    return k_in + k_out, right
