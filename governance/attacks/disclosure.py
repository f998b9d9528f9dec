"""Singling-out, linkability and inference risks, measured by the anonymeter library.

The three risks of Giomi et al. (2023) come straight from anonymeter's evaluators (an
optional extra: ``pip install 'synth-governance[disclosure]'``); this module only
conforms the frames to the schema, fixes the attack samples with a seed, runs every
evaluator and keeps their raw figures next to each risk and its confidence interval.
"""

from __future__ import annotations

import time
import warnings as pywarnings
from importlib import metadata
from typing import Any

import numpy as np
import pandas as pd

from governance.attacks.data import conformed
from governance.core.errors import InputError, UntrustedSignalWarning
from governance.core.types import Record
from governance.datasets.schema import Schema

INSTALL_HINT = ("the disclosure risks need the anonymeter library; install the optional "
                "extra with: pip install 'synth-governance[disclosure]' (anonymeter pins "
                "numpy<2, so use its own environment or install it with --no-deps)")


class DisclosureRisk(Record):
    """One risk with anonymeter's raw figures.

    ``value`` and ``ci`` are anonymeter's ``PrivacyRisk`` (the attack's success beyond
    the control attack's, with its confidence interval); the rates are its
    ``SuccessRate`` values (Wilson-score estimates) and their errors.
    """

    kind: str
    value: float
    ci: tuple[float, float]
    attack_rate: float
    attack_rate_error: float
    baseline_rate: float
    baseline_rate_error: float
    control_rate: float | None
    control_rate_error: float | None
    n_attacks: int
    n_success: int
    n_baseline: int
    n_control: int | None
    setting: dict[str, Any]
    evaluations: tuple[DisclosureRisk, ...] = ()


class DisclosureReport(Record):
    """The three risks, the sample sizes behind them and anonymeter's warnings."""

    singling_out: DisclosureRisk
    linkability: DisclosureRisk
    inference: DisclosureRisk
    library: str
    subsampled: dict[str, Any] | None
    warnings: tuple[str, ...]
    notes: tuple[str, ...]
    seconds: float

    def summary(self) -> dict[str, float]:
        """The values the policy judges, keyed as ``risk.max_disclosure_risk``."""
        return {k: getattr(self, k).value for k in ("singling_out", "linkability", "inference")}


def _risk(kind: str, evaluator: Any, setting: dict[str, Any],
          confidence: float) -> DisclosureRisk:
    res = evaluator.results(confidence_level=confidence)
    risk = evaluator.risk(confidence_level=confidence)
    ctrl = res.control_rate
    return DisclosureRisk(
        kind=kind, value=float(risk.value), ci=(float(risk.ci[0]), float(risk.ci[1])),
        attack_rate=float(res.attack_rate.value), attack_rate_error=float(res.attack_rate.error),
        baseline_rate=float(res.baseline_rate.value),
        baseline_rate_error=float(res.baseline_rate.error),
        control_rate=None if ctrl is None else float(ctrl.value),
        control_rate_error=None if ctrl is None else float(ctrl.error),
        n_attacks=int(res.n_attacks_ori), n_success=int(res.n_success),
        n_baseline=int(res.n_baseline),
        n_control=None if res.n_control is None else int(res.n_control), setting=setting)


def _worst(kind: str, risks: list[DisclosureRisk]) -> DisclosureRisk:
    worst = max(risks, key=lambda r: r.value)
    if len(risks) == 1:
        return worst
    return worst.model_copy(update={"kind": kind, "evaluations": tuple(risks)})


def _plain(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    out = frame.copy()
    for name, spec in schema.columns.items():
        if spec.type == "categorical":
            out[name] = out[name].astype(object).astype(str)
    return out


def disclosure_risks(
    *, ori: pd.DataFrame, syn: pd.DataFrame, control: pd.DataFrame, schema: Schema,
    n_attacks: int = 500, seed: int = 0, aux_cols: tuple[list[str], list[str]] | None = None,
    secrets: tuple[str, ...] | None = None, n_cols: int = 3, n_neighbors: int = 1,
    confidence: float = 0.95, n_jobs: int = 1, warn: bool = False,
) -> DisclosureReport:
    """Measure singling-out, linkability and inference risk with anonymeter.

    Args:
        ori: real rows the generator was trained on (a train sample).
        syn: the candidate's synthetic rows.
        control: real rows it never saw (holdout), for the residual risk.
        schema: the public-domain schema.
        n_attacks: attacks per evaluation; ``ori`` and ``control`` are cut to this many
            rows by a seeded sample (recorded in ``subsampled``), so anonymeter attacks
            every row it is given and the risk does not depend on its unseeded draws.
        seed: seeds the row samples and the singling-out queries.
        aux_cols: the two column groups the linkability attacker holds (default: the
            schema's columns taken alternately, so both groups mix column types).
        secrets: columns whose inference risk is measured, each from all other columns
            (default: every column); the reported inference risk is the worst.
        n_cols: columns per multivariate singling-out query.
        n_neighbors: neighbours a linkability attack may use.
        confidence: coverage of every interval.
        n_jobs: workers of anonymeter's neighbour searches.
        warn: also emit anonymeter's warnings as ``UntrustedSignalWarning``.

    Returns:
        The report; singling out is the worse of the univariate and multivariate modes.

    Raises:
        ImportError: when anonymeter is not installed (with the install command).
        InputError: for an invalid option; ``DatasetError`` for frames off the schema.

    Notes:
        Giomi et al. (2023), "A Unified Framework for Quantifying Privacy Risk in
        Synthetic Data" (anonymeter): risk = (attack rate - control rate) /
        (1 - control rate), rates estimated with Wilson (1927) score intervals. The
        baseline (random-guess) attack draws without a seed inside anonymeter, so its
        rates vary from run to run; the risks do not use them.
    """
    try:  # Deferred import: anonymeter is the optional 'disclosure' extra.
        from anonymeter.evaluators import (
            InferenceEvaluator,
            LinkabilityEvaluator,
            SinglingOutEvaluator,
        )
    except ImportError as e:
        raise ImportError(INSTALL_HINT) from e
    started = time.perf_counter()
    if n_attacks < 10:
        raise InputError(f"n_attacks must be at least 10, got {n_attacks}")
    names = schema.names
    if len(names) < 2:
        raise InputError("disclosure risks need at least 2 columns (an attacker's known "
                         "columns and a secret)")
    link_cols = aux_cols or (names[::2], names[1::2])
    for col in [*link_cols[0], *link_cols[1], *(secrets or ())]:
        schema.require(col)
    rng = np.random.default_rng(seed)
    frames, cut = {}, {}
    for role, frame in (("ori", ori), ("control", control)):
        frame = conformed(frame, schema, f"{role}")
        if len(frame) > n_attacks:
            cut[role] = {"used": n_attacks, "of": len(frame)}
            frame = frame.iloc[np.sort(rng.choice(len(frame), n_attacks, replace=False))]
        frames[role] = _plain(frame.reset_index(drop=True), schema)
    o, c = frames["ori"], frames["control"]
    s = _plain(conformed(syn, schema, "synthetic (syn)"), schema)
    n = min(len(o), len(c))
    with pywarnings.catch_warnings(record=True) as caught:
        pywarnings.simplefilter("always")
        singling = []
        for mode, cols in (("univariate", 1), ("multivariate", min(n_cols, len(names)))):
            ev = SinglingOutEvaluator(ori=o, syn=s, control=c, n_attacks=n_attacks,
                                      n_cols=cols, seed=int(rng.integers(2**31)))
            singling.append(_risk("singling_out", ev.evaluate(mode=mode),
                                  {"mode": mode, "n_cols": cols}, confidence))
        ev = LinkabilityEvaluator(ori=o, syn=s, control=c, n_attacks=n,
                                  aux_cols=(list(link_cols[0]), list(link_cols[1])),
                                  n_neighbors=n_neighbors)
        link = _risk("linkability", ev.evaluate(n_jobs=n_jobs),
                     {"aux_cols": [list(link_cols[0]), list(link_cols[1])],
                      "n_neighbors": n_neighbors}, confidence)
        inference = []
        for secret in secrets or tuple(names):
            aux = [col for col in names if col != secret]
            ev = InferenceEvaluator(ori=o, syn=s, control=c, aux_cols=aux, secret=secret,
                                    n_attacks=n)
            inference.append(_risk("inference", ev.evaluate(n_jobs=n_jobs),
                                   {"secret": secret, "aux_cols": aux}, confidence))
    messages = tuple(dict.fromkeys(f"anonymeter: {w.message}" for w in caught))
    if warn:
        for message in messages:
            pywarnings.warn(message, UntrustedSignalWarning, stacklevel=2)
    return DisclosureReport(
        singling_out=_worst("singling_out", singling), linkability=link,
        inference=_worst("inference", inference),
        library=f"anonymeter {metadata.version('anonymeter')}",
        subsampled=cut or None, warnings=messages,
        notes=("singling out and inference report the worst of their evaluations (see "
               "'evaluations'); baseline rates come from anonymeter's unseeded random guesses",),
        seconds=time.perf_counter() - started)
