"""The delta of an (epsilon, delta) guarantee, sized to the table it protects.

delta is the probability that the guarantee fails outright. A mechanism that publishes
one training record in the clear with probability 1/n per record is (0, 1/n)-DP, so a
delta near 1/n (n training rows) permits releasing a record verbatim. The rule used here
keeps delta at most a tenth of that: ``delta <= 1/(10 n)``.

>>> run_delta(1e-5, 1000), run_delta(1e-5, 100_000)
(1e-05, 1e-06)
>>> delta_warning(1e-5, 1000) is None
True
>>> delta_warning(1e-3, 1000)  # doctest: +ELLIPSIS
'delta 0.001 exceeds 1/(10 n) = 0.0001 (n = 1000 training rows): ...'
"""

from __future__ import annotations

DEFAULT_MAX_DELTA = 1e-5


def delta_ceiling(n: int) -> float:
    """``1/(10 n)``: the largest delta this project treats as safe for ``n`` training rows."""
    return 1.0 / (10 * max(int(n), 1))


def run_delta(max_delta: float, n: int) -> float:
    """The delta a run trains with: ``min(max_delta, 1/(10 n))``.

    A policy's ``max_delta`` is a limit, so a smaller delta always meets it; with the
    default limit this is ``min(1e-5, 1/(10 n))``.
    """
    return min(float(max_delta), delta_ceiling(n))


def delta_warning(delta: float, n: int) -> str | None:
    """A sentence saying why ``delta`` is too large for ``n`` rows, or None when it is not."""
    ceiling = delta_ceiling(n)
    if delta <= ceiling:
        return None
    return (f"delta {delta:g} exceeds 1/(10 n) = {ceiling:.3g} (n = {n} training rows): "
            "delta is the probability the guarantee fails outright, and above 1/n a "
            "mechanism may publish one record in the clear")
