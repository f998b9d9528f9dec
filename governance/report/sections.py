"""One candidate's section of the HTML report: verdict, privacy record and attacks.

The utility and fidelity parts live in ``utility_section`` and ``fidelity_section``;
:func:`candidate_section` puts the parts in their fixed order. Every function reads a
``candidate_detail`` record (see ``governance.report.candidate``) and escapes all text.
"""

from __future__ import annotations

from typing import Any

from governance.attacks.matching import auc_ceiling
from governance.report.fidelity_section import fidelity_section
from governance.report.markup import (
    DASH,
    Html,
    as_list,
    badge,
    error_box,
    fmt,
    fmt_eps,
    fmt_pct,
    join,
    kv,
    missing,
    number,
    table,
    tag,
    ul,
)
from governance.report.utility_section import utility_section

_PRIVACY_LABELS = {
    "epsilon_target": "epsilon target", "epsilon_spent": "epsilon spent (accountant)",
    "delta": "delta", "mechanism": "mechanism", "accountant": "accountant",
    "noise_multiplier": "noise multiplier", "steps": "steps", "sample_rate": "sample rate",
    "max_grad_norm": "max grad norm", "epochs": "epochs", "preprocessing": "preprocessing",
    "preprocessing_epsilon": "preprocessing epsilon",
    "accountant_fallback_reason": "accountant fallback reason",
}
_EPSILONS = ("epsilon_target", "epsilon_spent", "preprocessing_epsilon")


def verdict_section(verdict: dict[str, Any]) -> Html:
    """The policy verdict, with every violated clause stated plainly."""
    head = tag("h3", "Policy verdict")
    problem = missing(verdict, "policy verdict")
    if problem:
        return join([head, problem])
    violations = verdict.get("violations", [])
    if violations:
        lead = tag("p", badge("not eligible", "bad"),
                   f" The candidate violates {len(violations)} clause(s) of the policy:")
    elif verdict.get("eligible") is True:
        lead = tag("p", badge("eligible", "ok"), " The candidate meets every clause of the "
                   "policy.")
    else:
        lead = tag("p", badge("no verdict", "warn"), " The verdict neither lists a violated "
                   "clause nor marks the candidate eligible; treat it as not eligible.")
    rows = [[tag("code", v.get("clause")), v.get("message"), fmt(v.get("limit")),
             fmt(v.get("observed")),
             badge("unverifiable", "warn") if v.get("unverifiable") else Html("measured")]
            for v in violations]
    parts = [head, lead]
    if rows:
        parts.append(table(["clause", "what is wrong", "limit", "observed", "basis"], rows))
    if verdict.get("notes"):
        parts += [tag("h4", "Verdict notes"), ul(verdict["notes"], cls="notes")]
    return join(parts)


def privacy_section(privacy: dict[str, Any]) -> Html:
    """The privacy record exactly as the generator's accountant reported it."""
    head = tag("h3", "Privacy record")
    problem = missing(privacy, "privacy record")
    if problem:
        return join([head, problem])
    pairs = [(label, fmt_eps(privacy.get(key)) if key in _EPSILONS else privacy.get(key))
             for key, label in _PRIVACY_LABELS.items() if key in privacy]
    return join([head, kv(pairs), ul(privacy.get("notes", []), cls="notes")])


def _tpr(value: Any, notes: list[Any], rate: str) -> Html:
    if value is not None:
        return fmt(value)
    if any(rate in str(n) and "not enough samples" in str(n) for n in notes):
        return Html("n/a (not enough samples)")
    return Html(DASH)


def _ci(pair: Any) -> Html:
    values = [number(v) for v in as_list(pair)]
    if len(values) != 2 or None in values:
        return Html(DASH)
    return Html(f"[{values[0]:.3f}, {values[1]:.3f}]")


def _ceiling(attack: dict[str, Any]) -> Html:
    """``1 - duplicate rate / 2``: no attack can beat it on this data (a dash if unknown)."""
    rate = attack.get("duplicate_rate")
    if not isinstance(rate, int | float) or isinstance(rate, bool):
        return fmt(None)
    return fmt(auc_ceiling(float(rate)))


def attack_section(attack: dict[str, Any]) -> Html:
    """Worst case over the attacks, the audit outcome and one row per attack."""
    head = tag("h3", "Membership-inference attacks")
    problem = missing(attack, "membership attack audit")
    if problem:
        return join([head, problem, tag("p", "Privacy risk was not measured: every policy "
                                             "clause that reads it is unverifiable.")])
    parts = [head]
    if attack.get("failed_audit"):
        parts.append(tag("p", "FAILED PRIVACY AUDIT: the empirical epsilon estimate ",
                         fmt(attack.get("epsilon_estimate")), " exceeds the claimed epsilon ",
                         fmt_eps(attack.get("claimed_epsilon")), ". The DP implementation or "
                         "its accounting is broken; do not release.", cls="alert"))
    parts.append(kv([
        ("worst ROC AUC", attack.get("worst_auc")),
        ("worst TPR at 1% FPR", attack.get("worst_tpr_at_1pct")),
        ("empirical epsilon estimate (Bonferroni over attacks)", attack.get("epsilon_estimate")),
        ("claimed epsilon", fmt_eps(attack.get("claimed_epsilon"))),
        ("real duplicate rate (non-members equal to a train row)",
         fmt_pct(attack.get("duplicate_rate"))),
        ("attack AUC ceiling the real data allows (1 - rate / 2)", _ceiling(attack)),
    ]))
    rows = []
    for a in attack.get("attacks", []):
        notes = as_list(a.get("tpr_notes"))
        tpr1 = a.get("tpr_at_1pct_ci") or {}
        rows.append([a.get("attack"), fmt(a.get("auc")), _ci(a.get("auc_ci")),
                     fmt(a.get("auc_null_se")),
                     _tpr(a.get("tpr_at_1pct"), notes, "1.000%"),
                     Html(f"{fmt(tpr1.get('tpr'))} {_ci(tpr1.get('ci'))}") if tpr1 else Html(DASH),
                     _tpr(a.get("tpr_at_01pct"), notes, "0.100%"), fmt(a.get("advantage")),
                     fmt(a.get("epsilon_estimate")), _ci(a.get("tpr_ci")), _ci(a.get("fpr_ci")),
                     Html(f"{fmt(a.get('n_members'))} / {fmt(a.get('n_nonmembers'))}"),
                     fmt_pct(a.get("exact_match_members")),
                     fmt_pct(a.get("exact_match_nonmembers"))])
    if rows:
        parts.append(table(
            ["attack", "ROC AUC", "AUC 95% CI (DeLong)", "AUC null SE", "TPR @ 1% FPR",
             "TPR @ 1% FPR, strict threshold, 95% CI (Clopper-Pearson)", "TPR @ 0.1% FPR",
             "advantage", "epsilon estimate (this attack, 95%)", "TPR 95% CI (held-out half)",
             "FPR 95% CI (held-out half)", "members / non-members",
             "members copied exactly", "non-members copied exactly"], rows))
    if attack.get("reasons"):
        parts += [tag("h4", "Audit findings"), ul(attack["reasons"], cls="notes")]
    by_note: dict[str, list[str]] = {}
    for a in attack.get("attacks", []):
        for note in as_list(a.get("notes")):
            by_note.setdefault(str(note), []).append(str(a.get("attack")))
    attack_notes = [f"{', '.join(names)}: {note}" for note, names in by_note.items()]
    if attack_notes:
        parts += [tag("h4", "Attack notes"), ul(attack_notes, cls="notes")]
    return join(parts)


def status_badges(row: dict[str, Any]) -> Html:
    """Eligibility, audit and error badges of an overview row."""
    eligible = row.get("eligible")
    badges = [badge("eligible", "ok") if eligible is True else badge("not eligible", "bad")
              if eligible is False else badge("no verdict", "warn")]
    if row.get("failed_privacy_audit"):
        badges.append(badge("FAILED PRIVACY AUDIT", "bad"))
    badges += [badge(f"{part} error", "warn") for part in row.get("errors", {})]
    return join(badges, " ")


def candidate_section(detail: dict[str, Any], row: dict[str, Any], anchor: str) -> Html:
    """The full section of one candidate."""
    title = tag("h2", "Candidate ", detail.get("id"), " \u2014 ", detail.get("generator"),
                " (epsilon target ", fmt_eps(detail.get("epsilon_target")), ")")
    parts = [title, tag("p", status_badges(row), " status: ", fmt(detail.get("status")))]
    if detail.get("error"):
        parts.append(error_box("candidate", detail["error"]))
    parts.append(kv([("candidate id", detail.get("id")), ("run id", detail.get("run_id")),
                     ("synthetic rows", detail.get("n_rows")), ("seed", detail.get("seed")),
                     ("artifact sha256", detail.get("artifact_sha256")),
                     ("fit seconds", detail.get("fit_seconds"))]))
    parts += [verdict_section(detail["verdict"]), privacy_section(detail["privacy"]),
              attack_section(detail["attack"]), utility_section(detail["utility"]),
              fidelity_section(detail["fidelity"])]
    parts += [tag("h3", "Notes on these figures"),
              ul(detail.get("notes") or ["no caveats were recorded for this candidate"],
                 cls="notes")]
    return tag("section", *parts, cls="candidate", id=anchor)
