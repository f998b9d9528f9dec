"""Re-derive a candidate's privacy figure on the server from its mechanism parameters.

A worker reports a ``PrivacySpend``; the coordinating process never charges or shows its
``epsilon_spent`` as given. ``verify_spend`` checks that the record answers the task the
server asked for (the generator's mechanism, the target epsilon, delta and preprocessing
share), recomputes epsilon with the server's own accountant from the recorded parameters
and returns the record carrying the server's figure. Any disagreement raises
``PrivacyRecordError``; the candidate then fails and nothing is charged.

How a generator class is accounted is its ``accounting`` attribute:

- ``"dp-sgd"``: Poisson-subsampled Gaussian steps, ``spent_epsilon(noise_multiplier,
  sample_rate, steps, accountant_delta, accountant)`` plus the preprocessing share;
- ``"zcdp"``: ``cdp_eps(rho, delta)`` of the zCDP the mechanism's steps spent;
- ``None``: not verifiable, so a finite-epsilon candidate of it is refused.

What no check of a reply can show is that the worker really added the noise it reports;
that is why executors are operator-run infrastructure (``core.executor_config``).

>>> from governance.generators.base import Generator, PrivacySpend
>>> class Sgd(Generator):  # a stand-in with dp_vae's mechanism and accounting
...     name, differentially_private, accounting = "sgd", True, "dp-sgd"
...     mechanism = "DP-SGD (Opacus, Poisson sampling)"
>>> params = dict(noise_multiplier=1.5, sample_rate=0.04, steps=2250)
>>> truth = spent_epsilon(**params, delta=1e-5, accountant="rdp")
>>> honest = PrivacySpend(epsilon_target=8.0, epsilon_spent=truth, delta=1e-5,
...                       mechanism=Sgd.mechanism, accountant="rdp", **params)
>>> verify_spend(honest, generator=Sgd, epsilon=8.0, delta=1e-5).epsilon_spent == truth
True
>>> forged = honest.model_copy(update={"epsilon_spent": 0.5})
>>> verify_spend(forged, generator=Sgd, epsilon=8.0, delta=1e-5)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
governance.core.errors.PrivacyRecordError: the record says epsilon 0.5 was spent, but ...7.32911...
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from governance.core.errors import AccountingError, InputError, PrivacyRecordError
from governance.generators.base import PrivacySpend
from governance.generators.privacy.accounting import spent_epsilon
from governance.generators.privacy.zcdp import cdp_eps

#: Relative difference tolerated between a record's figure and the server's.
TOLERANCE = 1e-6
VERIFIED_NOTE = "epsilon_spent recomputed on the server from the recorded mechanism parameters"


def verify_spend(record: PrivacySpend, *, generator: type[Any], epsilon: float, delta: float,
                 options: Mapping[str, Any] | None = None) -> PrivacySpend:
    """Check a worker's privacy record against the task and the server's accountant.

    Args:
        record: what the worker reported.
        generator: the generator class the server asked for.
        epsilon: the target the server asked for (``math.inf``: non-private).
        delta: the delta the server asked for.
        options: the generator options the server sent (``preprocessing_epsilon``).

    Returns:
        The record with the server's ``epsilon_spent`` (and a note saying so).

    Raises:
        PrivacyRecordError: the record does not answer the task, or its figure is not what
            the server's accountant gives for its parameters.
    """
    if not _same(record.epsilon_target, epsilon):
        raise PrivacyRecordError(f"the record is for target epsilon {record.epsilon_target:g}, "
                                 f"but epsilon {epsilon:g} was asked for")
    if not math.isfinite(epsilon):
        if record.is_private:
            raise PrivacyRecordError("the record claims a finite epsilon for a non-private task")
        return record
    if not getattr(generator, "differentially_private", False) or not record.is_private:
        raise PrivacyRecordError("the record reports no finite privacy spend for a "
                                 f"differentially private task at epsilon {epsilon:g}")
    if record.mechanism != getattr(generator, "mechanism", None):
        raise PrivacyRecordError(f"the record names mechanism {record.mechanism!r}, not "
                                 f"{generator.name}'s")
    if not (0 < record.delta <= delta * (1 + TOLERANCE)):
        raise PrivacyRecordError(f"the record's delta {record.delta:g} is not in (0, {delta:g}]")
    spent, accountant = _recompute(record, generator, dict(options or {}))
    if not _same(spent, record.epsilon_spent):
        raise PrivacyRecordError(
            f"the record says epsilon {record.epsilon_spent:g} was spent, but the server's "
            f"{accountant} accountant gives {spent:.6g} for its {_PARAMETERS[accountant]}")
    if spent > epsilon * (1 + TOLERANCE):
        raise PrivacyRecordError(f"epsilon {spent:.6g} was spent, above the target {epsilon:g}")
    return record.model_copy(update={"epsilon_spent": spent,
                                     "notes": (*record.notes, VERIFIED_NOTE)})


_PARAMETERS = {"prv": "noise multiplier, sample rate, steps and delta",
               "rdp": "noise multiplier, sample rate, steps and delta",
               "zCDP": "rho and delta"}


def _recompute(record: PrivacySpend, generator: type[Any],
               options: dict[str, Any]) -> tuple[float, str]:
    method = getattr(generator, "accounting", None)
    if method == "dp-sgd":
        return _dp_sgd(record, options), str(record.accountant)
    if method == "zcdp":
        return _zcdp(record), "zCDP"
    raise PrivacyRecordError(f"{generator.name} has no server-side accountant, so its "
                             "finite-epsilon candidates cannot be verified or charged")


def _dp_sgd(record: PrivacySpend, options: dict[str, Any]) -> float:
    wanted = float(options.get("preprocessing_epsilon", 0.0))
    if not _same(record.preprocessing_epsilon, wanted):
        raise PrivacyRecordError(f"the record's preprocessing epsilon "
                                 f"{record.preprocessing_epsilon:g} is not the {wanted:g} "
                                 "asked for")
    acc_delta = record.delta if record.accountant_delta is None else record.accountant_delta
    if not 0 < acc_delta <= record.delta:
        raise PrivacyRecordError(f"the accountant's delta {acc_delta:g} is not in "
                                 f"(0, {record.delta:g}]")
    if record.noise_multiplier is None or record.sample_rate is None or record.steps is None:
        raise PrivacyRecordError("the record lacks its noise multiplier, sample rate or steps")
    if not math.isfinite(record.noise_multiplier):
        raise PrivacyRecordError("the record's noise multiplier is not finite")
    try:
        train = spent_epsilon(noise_multiplier=record.noise_multiplier,
                              sample_rate=record.sample_rate, steps=record.steps,
                              delta=acc_delta, accountant=str(record.accountant))
    except (InputError, AccountingError) as exc:
        raise PrivacyRecordError(f"its parameters cannot be accounted: {exc.message}") from None
    return train + record.preprocessing_epsilon


def _zcdp(record: PrivacySpend) -> float:
    if record.preprocessing_epsilon != 0:
        raise PrivacyRecordError("a marginal mechanism spends nothing on preprocessing")
    if record.rho is None or not (0 < record.rho < math.inf):
        raise PrivacyRecordError("the record lacks the positive rho its steps spent")
    return cdp_eps(record.rho, record.delta)


def _same(a: float, b: float) -> bool:
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= TOLERANCE * max(1.0, abs(a), abs(b))


__all__ = ["TOLERANCE", "VERIFIED_NOTE", "verify_spend"]
