"""Zero-concentrated DP accounting for the marginal mechanisms (MST, AIM).

A mechanism that satisfies rho-zCDP satisfies (epsilon, delta)-DP for every
``epsilon >= cdp_eps(rho, delta)``. The marginal mechanisms calibrate their noise to the
rho that ``cdp_rho(epsilon, delta)`` allows, add up the rho each step actually spent
(zCDP composes additively) and report ``cdp_eps(spent_rho, delta)``.

The three conversions reproduce ``mechanisms/cdp2adp.py`` of private-pgm (Thomas
Steinke's code for Canonne, Kamath & Steinke 2020) bisection for bisection; the only
change is that a search stops once its bracket is a fixed point, which returns exactly
what the remaining iterations of the 1000-step loop would return.

>>> rho = cdp_rho(1.0, 1e-5)
>>> round(rho, 6)
0.030557
>>> cdp_eps(rho, 1e-5) <= 1.0
True
"""

from __future__ import annotations

import math

from governance.core.errors import InputError

#: Iterations of every bisection, as in cdp2adp.py.
ITERATIONS = 1000


def cdp_delta(rho: float, eps: float) -> float:
    """Smallest delta such that rho-zCDP implies (eps, delta)-DP.

    Args:
        rho: zCDP parameter (non-negative).
        eps: Target epsilon (non-negative).

    Returns:
        ``min(1, inf_alpha exp((alpha - 1)(alpha rho - eps) + alpha log(1 - 1/alpha))
        / (alpha - 1))``, the infimum found by bisection on the derivative in alpha.

    Notes:
        Canonne, Kamath & Steinke (2020), "The Discrete Gaussian for Differential
        Privacy", NeurIPS; Corollary 13 of arXiv:2004.00010v3 (p. 13). Any alpha > 1
        gives a valid bound, so an imprecise search can only overstate delta.
    """
    if rho < 0 or eps < 0:
        raise InputError(f"rho and eps must be non-negative, got rho={rho!r}, eps={eps!r}")
    if rho == 0:
        return 0.0
    amin, amax = 1.01, (eps + 1) / (2 * rho) + 2
    alpha = amin
    for _ in range(ITERATIONS):
        alpha = (amin + amax) / 2
        derivative = (2 * alpha - 1) * rho - eps + math.log1p(-1.0 / alpha)
        before = (amin, amax)
        if derivative < 0:
            amin = alpha
        else:
            amax = alpha
        if (amin, amax) == before:  # fixed point: every later iteration repeats this one
            break
    delta = math.exp((alpha - 1) * (alpha * rho - eps) + alpha * math.log1p(-1 / alpha))
    return min(delta / (alpha - 1.0), 1.0)


def cdp_eps(rho: float, delta: float) -> float:
    """Smallest epsilon such that rho-zCDP implies (epsilon, delta)-DP.

    The bisection keeps ``cdp_delta(rho, upper) <= delta`` and returns ``upper``, so the
    figure is a valid epsilon, never an underestimate. It starts from the standard bound
    ``rho + 2 sqrt(rho log(1/delta))`` (Bun & Steinke 2016, Proposition 1.3), so the
    result never exceeds it.

    Notes:
        Canonne, Kamath & Steinke (2020), Corollary 13 (arXiv:2004.00010v3).
    """
    _check_delta(delta)
    if rho < 0:
        raise InputError(f"rho must be non-negative, got {rho!r}")
    if not math.isfinite(rho):
        return math.inf
    if rho == 0:
        return 0.0
    lo, hi = 0.0, rho + 2 * math.sqrt(rho * math.log(1 / delta))
    for _ in range(ITERATIONS):
        mid = (lo + hi) / 2
        before = (lo, hi)
        if cdp_delta(rho, mid) <= delta:
            hi = mid
        else:
            lo = mid
        if (lo, hi) == before:
            break
    return hi


def cdp_rho(eps: float, delta: float) -> float:
    """Largest rho such that rho-zCDP implies (eps, delta)-DP (by bisection from below).

    Raises:
        InputError: for a negative or non-finite ``eps`` or a ``delta`` outside (0, 1).

    Notes:
        Canonne, Kamath & Steinke (2020), Corollary 13 (arXiv:2004.00010v3); the search
        keeps ``cdp_delta(lower, eps) <= delta`` and returns ``lower``.
    """
    _check_delta(delta)
    if not (eps >= 0 and math.isfinite(eps)):
        raise InputError(f"eps must be a non-negative finite number, got {eps!r}")
    lo, hi = 0.0, eps + 1.0
    for _ in range(ITERATIONS):
        mid = (lo + hi) / 2
        before = (lo, hi)
        if cdp_delta(mid, eps) <= delta:
            lo = mid
        else:
            hi = mid
        if (lo, hi) == before:
            break
    return lo


def gaussian_rho(sigma: float, l2_sensitivity: float = 1.0) -> float:
    """ZCDP of adding N(0, sigma^2) noise to a query of the given L2 sensitivity.

    Notes:
        Bun & Steinke (2016), "Concentrated Differential Privacy: Simplifications,
        Extensions, and Lower Bounds", Proposition 1.6: ``rho = Delta^2 / (2 sigma^2)``.
    """
    if not sigma > 0:
        raise InputError(f"sigma must be positive, got {sigma!r}")
    return l2_sensitivity**2 / (2 * sigma**2)


def exponential_rho(epsilon: float) -> float:
    """ZCDP of one epsilon-DP exponential mechanism: ``epsilon^2 / 8``.

    Notes:
        Cesar & Rogers (2021), "Bounding, Concentrating, and Truncating: Unifying Privacy
        Loss Composition for Data Analytics", ALT (the exponential mechanism is
        epsilon-bounded range, hence epsilon^2/8-zCDP); used so by MST and AIM.
    """
    if not epsilon >= 0:
        raise InputError(f"epsilon must be non-negative, got {epsilon!r}")
    return epsilon**2 / 8


def _check_delta(delta: float) -> None:
    if not 0 < delta < 1:
        raise InputError(f"delta must be in (0, 1), got {delta!r}; typically below 1/n")
