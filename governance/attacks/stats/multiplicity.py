"""Multiplicity across ``k`` attacks: Bonferroni and Holm adjustments.

Reporting the worst of ``k`` attacks, each at 95 %, covers the worst one far less often
than 95 %. Two standard remedies, both valid under any dependence between the attacks:

* **Bonferroni**: run each test, or build each confidence bound, at level ``alpha / k``.
  It is the one to use for *confidence bounds* that must hold simultaneously (the
  maximum of ``k`` bounds then holds with probability ``>= 1 - alpha``).
* **Holm** (step-down): uniformly more powerful than Bonferroni for *tests*, with the
  same family-wise error guarantee. It does not give simultaneous confidence bounds
  that beat Bonferroni's: the compatible bounds of Strassburger & Bretz (2008),
  Statistics in Medicine 27(24), equal the null value for every rejected hypothesis
  unless all are rejected. Use it for p-values, Bonferroni for bounds.

>>> [round(p, 12) for p in holm_adjust([0.01, 0.04, 0.03, 0.005])]
[0.03, 0.06, 0.06, 0.02]
"""

from __future__ import annotations

from collections.abc import Sequence

from governance.core.errors import InputError


def _check(pvalues: Sequence[float]) -> list[float]:
    ps = [float(p) for p in pvalues]
    if any(not (0.0 <= p <= 1.0) for p in ps):
        raise InputError(f"p-values must lie in [0, 1], got {ps}")
    return ps


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise InputError(f"alpha must lie strictly between 0 and 1, got {alpha}")


def bonferroni_alpha(alpha: float, k: int) -> float:
    """The per-test level ``alpha / k`` that keeps the family-wise error at ``alpha``.

    Notes:
        Bonferroni's inequality, P(union) <= sum of P; Dunn (1961), "Multiple
        comparisons among means", JASA 56(293).

    >>> bonferroni_alpha(0.05, 4)
    0.0125
    """
    _check_alpha(alpha)
    if k < 1:
        raise InputError(f"the number of tests must be >= 1, got {k}")
    return alpha / k


def bonferroni_adjust(pvalues: Sequence[float]) -> list[float]:
    """Bonferroni-adjusted p-values ``min(1, k p)``, in input order.

    >>> [round(p, 12) for p in bonferroni_adjust([0.01, 0.04, 0.03, 0.005])]
    [0.04, 0.16, 0.12, 0.02]
    """
    ps = _check(pvalues)
    return [min(1.0, len(ps) * p) for p in ps]


def holm_alphas(k: int, alpha: float) -> list[float]:
    """Holm's per-step levels ``alpha / (k - i)``, ``i = 0..k-1``, for p-values sorted ascending.

    >>> holm_alphas(4, 0.05)
    [0.0125, 0.016666666666666666, 0.025, 0.05]
    """
    _check_alpha(alpha)
    if k < 1:
        raise InputError(f"the number of tests must be >= 1, got {k}")
    return [alpha / (k - i) for i in range(k)]


def holm_adjust(pvalues: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values, in input order.

    The ``i``-th smallest p-value (``i = 0..k-1``) becomes
    ``max_{j <= i} min(1, (k - j) p_(j))``; a hypothesis is rejected at family-wise
    level ``alpha`` exactly when its adjusted p-value is ``<= alpha``.

    Notes:
        Holm (1979), "A simple sequentially rejective multiple test procedure",
        Scandinavian Journal of Statistics 6(2); adjusted p-values as in Wright (1992),
        "Adjusted P-values for simultaneous inference", Biometrics 48(4).
    """
    ps = _check(pvalues)
    k = len(ps)
    order = sorted(range(k), key=lambda i: ps[i])
    out = [0.0] * k
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (k - rank) * ps[i]))
        out[i] = running
    return out


def holm_reject(pvalues: Sequence[float], alpha: float = 0.05) -> list[bool]:
    """Which hypotheses Holm's step-down procedure rejects at family-wise level ``alpha``.

    >>> holm_reject([0.01, 0.015, 0.02])  # Bonferroni (0.0167 each) would keep the last
    [True, True, True]
    """
    _check_alpha(alpha)
    return [p <= alpha for p in holm_adjust(pvalues)]


def bonferroni_reject(pvalues: Sequence[float], alpha: float = 0.05) -> list[bool]:
    """Which hypotheses Bonferroni rejects at family-wise level ``alpha`` (``p <= alpha / k``).

    >>> bonferroni_reject([0.01, 0.015, 0.02])
    [True, True, False]
    """
    _check_alpha(alpha)
    ps = _check(pvalues)
    return [p <= alpha / len(ps) for p in ps]

