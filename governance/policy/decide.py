"""Check a candidate's measured facts against a policy and list every violated clause.

``decide()`` works like opacus ``ModuleValidator.validate(strict=False)``: it returns
every problem at once, and ``strict=True`` raises instead. Its one rule is that
nothing unverifiable passes: a fact that was not measured (``None``/NaN) or whose
metric errored violates every clause that needs it, marked ``unverifiable``.

Three clauses are built in and cannot be switched off by a policy:

* ``risk.privacy_audit``: an empirical epsilon estimate (Bonferroni-corrected over the
  attacks) above the claimed epsilon means the implementation or its accounting is
  broken (Jagielski et al., 2020,
  "Auditing Differentially Private Machine Learning"; Nasr et al., 2021).
* ``risk.preprocessing``: a DP claim does not hold when preprocessing read the
  private data (bounds or categories from a data-derived schema).
* ``utility.above_chance``: a candidate whose TSTR is at or below chance (its
  chance-corrected utility, summarised over the model panel as ``utility.aggregate``
  says, is 0 or less) taught the models nothing, whatever ``min_utility_ratio`` allows.

A fourth, ``risk.reproducible_noise``, holds unless the policy opts out with
``risk.reproducible_noise: true`` (research sandboxes): a DP claim does not hold against
anyone who can read the audit log when the noise was seeded from the logged seed, and a
record that does not say where its noise came from cannot be verified.

Utility facts come per model of the panel; ``utility.aggregate`` summarises them (the
worst model, or the median) before any utility clause reads them, and a panel with an
unmeasured model is unverifiable.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping

from governance.policy.facts import CandidateFacts, PanelFigure, related_facts
from governance.policy.loader import LoadedPolicy
from governance.policy.models import Policy
from governance.policy.verdict import PolicyViolation, PolicyViolationError, Verdict

_DISCLOSURE_KINDS = ("singling_out", "linkability", "inference")


def decide(
    policy: Policy | LoadedPolicy, facts: CandidateFacts, *, strict: bool = False
) -> Verdict:
    """Decide whether a candidate is eligible for release under ``policy``.

    Args:
        policy: the policy, or a loaded policy (whose file hash the verdict records).
        facts: what the run measured for the candidate.
        strict: raise instead of returning an ineligible verdict.

    Returns:
        The verdict with every violated clause (``eligible`` when there are none).

    Raises:
        PolicyViolationError: when ``strict`` and the candidate violates any clause.

    >>> from governance.policy import Policy, CandidateFacts
    >>> facts = CandidateFacts(generator="dp", epsilon_spent=1.0, delta=1e-6,
    ...     preprocessing_private=True, reproducible_noise=False, worst_attack_auc=0.52,
    ...     epsilon_estimate=0.3,
    ...     ratio_above_chance={"linear": 0.85, "random_forest": 0.9, "hgb": 0.95})
    >>> decide(Policy(name="demo"), facts).eligible
    True
    >>> decide(Policy(name="demo", risk={"max_attack_auc": 0.5}), facts).clauses
    ('risk.max_attack_auc',)
    """
    if isinstance(policy, LoadedPolicy):
        rules, sha256 = policy.policy, policy.sha256
    else:
        rules, sha256 = policy, None
    check = _Checker(facts)
    _check_risk(rules, facts, check)
    _check_utility(rules, facts, check)
    for error in facts.metric_errors:
        if not any(related_facts(error.fact, fact) for fact in check.read):
            check.notes.append(f"metric for {error.fact!r} failed, but no clause of this policy "
                               f"reads it: {error.message}")
    verdict = Verdict(
        eligible=not check.violations, violations=tuple(check.violations),
        notes=tuple(check.notes), policy_sha256=sha256,
    )
    if strict and not verdict.eligible:
        raise PolicyViolationError(verdict, candidate=f"candidate from {facts.generator!r}")
    return verdict


def _number(value: object) -> float | None:
    """A real number, or ``None`` for anything unmeasured (None, NaN, non-numbers)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) else float(value)


def _as_float(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


class _Checker:
    """Collects violations and notes; turns missing facts into violations."""

    def __init__(self, facts: CandidateFacts) -> None:
        self.facts = facts
        self.violations: list[PolicyViolation] = []
        self.notes: list[str] = []
        self.read: set[str] = set()

    def limit(self, clause: str, fact: str, observed: float | None, limit: float,
              broken: Callable[[float, float], bool], message: str, *,
              missing: str | None = None) -> None:
        """Check one numeric clause; ``message`` is formatted with the values.

        ``missing`` overrides the explanation given when the value is absent.
        """
        self.read.add(fact)
        errors = self.facts.errors_for(fact)
        value = _number(observed)
        if errors or value is None:
            self.unverifiable(clause, fact, limit, value, errors, missing=missing)
        elif broken(value, limit):
            self.violate(clause, limit, value, message.format(observed=value, limit=limit))

    def unverifiable(self, clause: str, fact: str, limit: float | str | None,
                     observed: float | None, errors: list[str], *,
                     missing: str | None = None) -> None:
        why = (f"its metric failed: {'; '.join(errors)}" if errors
               else missing or f"{fact} was not measured")
        self.violations.append(PolicyViolation(
            clause=clause, limit=limit, observed=observed, unverifiable=True,
            message=f"cannot be verified because {why}; an unverifiable clause never passes",
        ))

    def violate(self, clause: str, limit: float | str | None, observed: float | str | None,
                message: str) -> None:
        self.violations.append(PolicyViolation(clause=clause, limit=limit, observed=observed,
                                               message=message))


def _check_risk(policy: Policy, facts: CandidateFacts, check: _Checker) -> None:
    risk = policy.risk
    eps = _number(facts.epsilon_spent)
    if eps is not None and math.isinf(eps) and not facts.errors_for("epsilon_spent"):
        check.read.add("epsilon_spent")
        check.violate("risk.max_epsilon", risk.max_epsilon, eps,
                      f"non-private candidate (epsilon = inf) cannot meet max_epsilon "
                      f"{risk.max_epsilon:g}")
    else:
        check.limit("risk.max_epsilon", "epsilon_spent", eps, risk.max_epsilon,
                    lambda v, lim: v > lim, "spent epsilon {observed:g} exceeds {limit:g}")
    check.limit("risk.max_delta", "delta", facts.delta, risk.max_delta,
                lambda v, lim: v > lim, "delta {observed:g} exceeds {limit:g}")
    check.limit("risk.max_attack_auc", "worst_attack_auc", facts.worst_attack_auc,
                risk.max_attack_auc, lambda v, lim: v > lim,
                "worst membership-attack ROC AUC {observed:.3f} exceeds {limit:.3f}")
    if risk.max_tpr_at_fpr is not None:
        fpr, tpr_limit = risk.max_tpr_at_fpr.fpr, risk.max_tpr_at_fpr.tpr
        tprs = facts.tpr_at_fpr if isinstance(facts.tpr_at_fpr, Mapping) else {}
        keys = [f for f in tprs if math.isclose(_as_float(f), fpr, rel_tol=1e-9)]
        missing = (f"the attack could not estimate its TPR at FPR {fpr:g} (too few "
                   "non-member samples to resolve so low a rate)" if keys
                   else f"no attack reported its TPR at FPR {fpr:g}")
        check.limit("risk.max_tpr_at_fpr", "tpr_at_fpr", tprs[keys[0]] if keys else None,
                    tpr_limit, lambda v, lim: v > lim,
                    f"attack TPR {{observed:.3f}} at FPR {fpr:g} exceeds {{limit:.3f}}",
                    missing=missing)
    _check_audit(policy, facts, eps, check)
    if risk.max_disclosure_risk is not None:
        measured = facts.disclosure if isinstance(facts.disclosure, Mapping) else {}
        for kind in _DISCLOSURE_KINDS:
            limit = getattr(risk.max_disclosure_risk, kind)
            if limit is not None:
                check.limit(f"risk.max_disclosure_risk.{kind}", f"disclosure.{kind}",
                            measured.get(kind), limit, lambda v, lim: v > lim,
                            f"{kind.replace('_', '-')} risk {{observed:.3f}} exceeds "
                            "{limit:.3f}")
    if facts.is_private and not facts.preprocessing_private:
        check.violate("risk.preprocessing", "public-domain", "data-derived",
                      "preprocessing used a data-derived schema; the DP guarantee does not "
                      "hold (declare public bounds and categories in the schema)")
    _check_noise(policy, facts, check)


def _check_noise(policy: Policy, facts: CandidateFacts, check: _Checker) -> None:
    """A DP claim needs noise nobody can replay from the log (``privacy.noise``)."""
    if not facts.is_private or facts.reproducible_noise is False:
        return
    clause = "risk.reproducible_noise"
    if policy.risk.reproducible_noise:
        check.notes.append(
            "noise reproducible from the logged seed (or not recorded): accepted only "
            "because this policy sets risk.reproducible_noise (research sandboxes); not "
            "differentially private against anyone who can read the log")
    elif facts.reproducible_noise is None:
        check.unverifiable(
            clause, "reproducible_noise", "secret", None, [], missing="the privacy record "
            "does not say where its noise came from (records written before noise was drawn "
            "from operating-system entropy had it seeded from the logged seed)")
    else:
        check.violate(clause, "secret", "reproducible",
                      "noise reproducible from the logged seed: not differentially private "
                      "against anyone who can read the log; only a research-sandbox policy "
                      "(risk.reproducible_noise: true) accepts it")


def _check_audit(policy: Policy, facts: CandidateFacts, eps: float | None,
                 check: _Checker) -> None:
    lb = _number(facts.epsilon_estimate)
    claimed = eps is not None and math.isfinite(eps)
    if facts.failed_privacy_audit or (claimed and lb is not None and eps is not None
                                      and lb > eps):
        check.violate("risk.privacy_audit", eps, lb,
                      f"failed privacy audit: the empirical epsilon estimate "
                      f"{'?' if lb is None else format(lb, '.3g')} exceeds the claimed epsilon "
                      f"{'?' if eps is None else format(eps, '.3g')}; the DP implementation or "
                      "its accounting is broken, do not release")
    limit = policy.risk.max_epsilon_lb_ratio
    if eps is not None and math.isinf(eps):
        check.notes.append("non-private candidate: there is no epsilon claim to audit, so "
                           "risk.max_epsilon_lb_ratio does not apply")
        return
    ratio = None
    if eps is not None and lb is not None:
        ratio = lb / eps if eps > 0 else (math.inf if lb > 0 else 0.0)
    fact = "epsilon_spent" if eps is None else "epsilon_estimate"
    check.limit("risk.max_epsilon_lb_ratio", fact, ratio, limit,
                lambda v, lim: v > lim,
                "empirical epsilon estimate is {observed:.3g} x the claimed epsilon, "
                "above {limit:g}")


def panel_value(figure: PanelFigure, rule: str, *, worst: str = "min"
                ) -> tuple[float | None, str | None]:
    """Summarise one figure over the model panel: the worst model or the median.

    Args:
        figure: per-model values (a plain number is a one-model panel).
        rule: ``"min"`` (the worst model) or ``"median"``.
        worst: which end is worst for this figure, ``"min"`` or ``"max"`` (a gap).

    Returns:
        The summary and, when it is missing, why (a model without a measured value
        leaves the whole panel unmeasured: nothing unverifiable passes).

    >>> panel = {"linear": 0.2, "random_forest": 0.5, "hgb": 0.9}
    >>> panel_value(panel, "min"), panel_value(panel, "median"), panel_value(0.7, "min")
    ((0.2, None), (0.5, None), (0.7, None))
    >>> panel_value({"linear": None, "hgb": 0.9}, "median")
    (None, 'panel model(s) linear gave no figure')
    """
    if not isinstance(figure, Mapping):
        return _number(figure), None
    values = {str(k): _number(v) for k, v in figure.items()}
    unmeasured = sorted(k for k, v in values.items() if v is None)
    if not values or unmeasured:
        return None, (f"panel model(s) {', '.join(unmeasured)} gave no figure" if unmeasured
                      else "no panel model gave a figure")
    found = [v for v in values.values() if v is not None]
    if rule == "median":
        return float(statistics.median(found)), None
    return (max(found) if worst == "max" else min(found)), None


def _check_utility(policy: Policy, facts: CandidateFacts, check: _Checker) -> None:
    utility = policy.utility
    rule = utility.aggregate
    of = "the worst panel model" if rule == "min" else "the panel's median"
    ratio, why = panel_value(facts.ratio_above_chance, rule)
    if ratio is not None and ratio <= 0 and not facts.errors_for("ratio_above_chance"):
        check.violate("utility.above_chance", 0.0, ratio,
                      f"TSTR is at or below chance: the chance-corrected utility of {of} is "
                      f"{ratio:.3f}, so the synthetic data taught the model nothing about the "
                      "target; such a candidate is never eligible, whatever the policy")
    check.limit("utility.min_utility_ratio", "ratio_above_chance", ratio,
                utility.min_utility_ratio, lambda v, lim: v < lim,
                f"utility above chance {{observed:.3f}} ({of}, on validation) is below "
                "{limit:.3f} of the real-only control's margin over chance", missing=why)
    ci = facts.ratio_above_chance_ci
    low = _number(ci[0]) if isinstance(ci, tuple) and ci else None
    if ratio is not None and low is not None and ratio >= utility.min_utility_ratio > low:
        check.notes.append(
            f"utility above chance {ratio:.3f} meets {utility.min_utility_ratio:g} on its "
            f"point estimate, but its interval reaches down to {low:.3f}"
        )
    if utility.min_lift is not None:
        lift, why = panel_value(facts.lift, rule)
        check.limit("utility.min_lift", "lift", lift, utility.min_lift,
                    lambda v, lim: v < lim,
                    f"augmentation lift {{observed:.3f}} ({of}) is below {{limit:g}}",
                    missing=why)
    if utility.max_subgroup_gap is not None:
        gap, why = panel_value(facts.subgroup_gap, rule, worst="max")
        check.limit("utility.max_subgroup_gap", "subgroup_gap", gap,
                    utility.max_subgroup_gap, lambda v, lim: v > lim,
                    f"subgroup gap {{observed:.3f}} ({of}) exceeds {{limit:.3f}}",
                    missing=why)
