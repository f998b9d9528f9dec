"""The HTML run report: self-contained, escaped, complete, honest and deterministic.

Every expected figure and sentence is derived from the run's real records
(``real_run``), formatted as the report formats it, never copied from a hand-made shape.
"""

from __future__ import annotations

import base64
import html
import re
from html.parser import HTMLParser

import pytest

from governance.attacks.results import HIGH_DUPLICATE_RATE
from governance.attacks.suite import AuditReport
from governance.core.types import StageError
from governance.evaluation.fidelity.evaluate import FidelityResult
from governance.evaluation.lift.bootstrap import Interval
from governance.evaluation.lift.results import ControlScores, UtilityResult
from governance.policy import Verdict
from governance.report import render_run_report
from tests.unit.report.real_run import (
    AUDIT,
    BROKEN,
    EVIL,
    FAILED,
    GOOD,
    candidate_sections,
    ci_text,
    expected_reading,
    section,
)

VOID = {"meta", "img", "br", "hr", "link", "input", "col", "area", "base", "wbr"}
DASH = "\u2014"


class _Balance(HTMLParser):
    """Records tags opened but not closed in order (a cheap well-formedness check)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def render(run, candidates, png=None, **kw):
    return render_run_report(run=run, candidates=candidates, frontier_png=png, **kw)


def tpr_notes(report: AuditReport, rate: str) -> dict[str, list[str]]:
    """Each unresolved-TPR note at ``rate`` of an audit, with the attacks that wrote it."""
    out: dict[str, list[str]] = {}
    for name, result in report.results.items():
        for note in result.tpr_notes:
            if rate in note:
                out.setdefault(note, []).append(name)
    return out


def reading_kind(reading: str) -> str:
    """The badge colour of a lift reading."""
    return {"better": "ok", "worse": "bad"}.get(reading.split()[0], "muted")


def test_report_is_one_wellformed_html5_document(page, run):
    # Run
    parser = _Balance()
    parser.feed(page)

    # Assert
    assert page.startswith("<!DOCTYPE html>\n<html lang=\"en\">")
    assert page.rstrip().endswith("</html>")
    assert parser.problems == [] and parser.stack == []
    assert f"<title>Run report {run.id}</title>" in page


def test_report_needs_no_network(page):
    # Assert
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page.lower() and "<link" not in page.lower()
    sources = re.findall(r'src="([^"]*)"', page)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert all(h.startswith("#") for h in re.findall(r'href="([^"]*)"', page))
    assert "default-src 'none'; img-src data:" in page  # CSP: the browser fetches nothing


def test_frontier_png_is_embedded_verbatim(page, png):
    # Assert
    assert f"data:image/png;base64,{base64.b64encode(png).decode()}" in page
    assert page.index("Privacy / utility frontier") < page.index('id="candidates"') \
        < page.index('id="candidate-1"')


def test_frontier_table_lists_the_stored_points(page, run):
    # Run
    frontier = section(page, 'id="frontier"', 'id="candidates"')

    # Assert
    assert run.frontier is not None
    for point in run.frontier.points:
        risk = DASH if point.risk is None else f"{point.risk:.3f}"
        assert f"<td>{point.candidate_id}</td><td>{point.generator}</td><td>" \
               f"{point.epsilon:g}</td><td>{risk}</td><td>{point.utility:.3f}</td>" \
               f"<td>{'yes' if point.feasible else 'no'}</td>" \
               f"<td>{'yes' if point.pareto else 'no'}</td>" in frontier


@pytest.mark.parametrize(("given", "said"), [
    (None, "no frontier plot was supplied"),
    (b"GIF89a not a png", "is not a PNG image; it is not embedded"),
], ids=["none", "not-png"])
def test_missing_or_bad_frontier_is_stated(run, candidates, given, said):
    # Run
    page = render(run, candidates, given)

    # Assert
    assert said in page
    assert base64.b64encode(b"GIF89a").decode() not in page


def test_strings_from_the_data_are_escaped(run, candidates, png):
    """Markup in any recorded string is shown as text.

    The real records hold no failed fidelity sub-metric, so the good candidate's
    manifold entry is replaced by the record ``evaluate_fidelity`` keeps when one raises
    (no values, the exception's text as its error).
    """
    # Setup
    good = candidates[0]
    assert isinstance(good.fidelity, FidelityResult)
    manifold = good.fidelity.entries["manifold"].model_copy(update={
        "values": {}, "error": "InputError: manifold <failed>"})
    candidates[0] = good.model_copy(update={
        "generator": 'gen"><img src=x onerror=alert(1)>',
        "fidelity": good.fidelity.model_copy(update={"entries": {
            **good.fidelity.entries, "manifold": manifold}})})
    run = run.model_copy(update={"message": "<b>bold</b> & co"})

    # Run
    page = render(run, candidates, png, title="<i>t</i>")

    # Assert
    assert "<script" not in page
    assert html.escape(EVIL) in page  # the broken candidate's attack error and verdict
    assert "<img src=x" not in page and "gen&quot;&gt;&lt;img src=x" in page
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in page
    assert "<title>&lt;i&gt;t&lt;/i&gt;</title>" in page
    assert "fit crashed: &lt;oom&gt;" in page and "InputError: manifold &lt;failed&gt;" in page


def test_every_candidate_is_listed_and_has_a_section(page, candidates):
    # Run
    table = section(page, 'id="candidates"', 'id="candidate-1"')

    # Assert
    for i, c in enumerate(candidates, start=1):
        assert f'<a href="#candidate-{i}">{c.id}</a>' in table
        assert f'<section class="candidate" id="candidate-{i}"><h2>Candidate {c.id} ' \
               f"\u2014 {c.generator}" in page


def test_failed_audit_and_violations_are_stated_plainly(sections, candidates):
    # Setup
    audit = candidates[1]
    assert isinstance(audit.attack, AuditReport) and audit.verdict is not None
    assert audit.attack.failed_audit

    # Run
    text = sections[AUDIT]

    # Assert
    assert f"FAILED PRIVACY AUDIT: the empirical epsilon estimate " \
           f"{audit.attack.epsilon_estimate:.3f} exceeds the claimed epsilon " \
           f"{audit.attack.claimed_epsilon:g}." in text
    assert f"The candidate violates {len(audit.verdict.violations)} clause(s) of the " \
           "policy:" in text
    for v in audit.verdict.violations:
        assert f"<td><code>{v.clause}</code></td><td>{html.escape(v.message)}</td>" in text
    assert "risk.privacy_audit" in audit.verdict.clauses and "do not release" in text
    for reason in audit.attack.reasons:
        assert html.escape(reason) in text  # the audit findings, word for word
    assert "FAILED PRIVACY AUDIT" not in sections[GOOD]


def test_broken_and_failed_candidates_say_what_is_missing(sections, candidates):
    # Setup
    broken = candidates[2]
    assert isinstance(broken.attack, StageError) and broken.verdict is not None

    # Run
    text, failed = sections[BROKEN], sections[FAILED]

    # Assert
    assert f"membership attack audit failed: </strong>{html.escape(broken.attack.error)}" \
        in text
    assert "Privacy risk was not measured" in text
    unverifiable = [v for v in broken.verdict.violations if v.unverifiable]
    assert unverifiable and text.count('badge warn">unverifiable') == len(unverifiable)
    assert "Metrics per scenario" in text  # the parts that worked are still shown
    for what in ("policy verdict", "privacy record", "membership attack audit",
                 "utility evaluation", "fidelity evaluation"):
        assert f"{what}: not recorded for this candidate." in failed
    assert "candidate failed: </strong>fit crashed: &lt;oom&gt;" in failed


@pytest.mark.parametrize(("part", "what"), [
    ("attack", "membership attack audit"),
    ("utility", "utility evaluation"),
    ("fidelity", "fidelity evaluation"),
])
def test_a_failed_stage_is_named_where_its_figures_would_be(run, candidates, part, what):
    """Any stage may fail; the runner then stores its ``StageError`` in place of its result."""
    # Setup
    error = f"RuntimeError: {part} <crashed>"
    candidates[0] = candidates[0].model_copy(update={part: StageError(error=error)})

    # Run
    page = render(run, candidates[:1])
    table = section(page, 'id="candidates"', 'id="candidate-1"')
    text = candidate_sections(page, [GOOD])[GOOD]

    # Assert
    assert f'badge warn">{part} error</span>' in table
    assert f"{what} failed: </strong>{html.escape(error)}" in text
    assert f"{what}: not recorded" not in text


def test_honest_notes_explain_the_figures(sections, candidates):
    # Setup
    good = candidates[0]
    attack, fidelity = good.attack, good.fidelity
    assert isinstance(attack, AuditReport) and isinstance(fidelity, FidelityResult)
    assert attack.duplicate_rate > 0 and attack.sizes is not None  # the repeated rows
    strength = ("weak evidence" if attack.duplicate_rate >= HIGH_DUPLICATE_RATE
                else "somewhat weaker evidence")
    unresolved = tpr_notes(attack, "0.100% FPR")
    sizes = attack.sizes

    # Run
    text = sections[GOOD]

    # Assert
    assert f"{attack.duplicate_rate:.1%} of the non-member rows exactly equal a row of the " \
           "train split" in text
    assert f"AUC can exceed {1 - attack.duplicate_rate / 2:.3f} (1 - rate / 2)" in text
    assert f"AUC is {strength} of privacy" in text
    assert unresolved and "n/a (not enough samples)" in text
    for note, names in unresolved.items():
        assert f"{html.escape(note)} for {', '.join(names)}: the TPR is shown as n/a" in text
    assert f"seeded sample of {sizes['members']} of the {sizes['train']} train rows as " \
           f"members and {sizes['nonmembers']} of the {sizes['holdout']} holdout rows" in text
    assert "seeded subsample" not in text  # nothing was subsampled in this run
    assert f"the privacy record gives epsilon {good.epsilon_spent:g} but names no " \
           "accountant" in text


def test_subsampled_attacks_and_fidelity_are_noted(run, candidates, subsampled):
    """Subsample notes, from real records computed with lower row caps (``subsampled``)."""
    # Setup
    good = candidates[0]
    assert isinstance(good.attack, AuditReport) and subsampled.dcr.subsampled
    attack = good.attack.model_copy(update={"results": {**good.attack.results,
                                                        "dcr": subsampled.dcr}})
    candidates[0] = good.model_copy(update={"attack": attack,
                                            "fidelity": subsampled.fidelity})
    fidelity = subsampled.fidelity
    totals = {"real": fidelity.n_real, "synthetic": fidelity.n_synthetic}

    # Run
    text = candidate_sections(render(run, candidates[:1]), [GOOD])[GOOD]

    # Assert
    for role, amount in subsampled.dcr.subsampled.items():
        assert f"attack dcr used a seeded subsample of {amount['used']} of {amount['of']} " \
               f"{role} rows." in text
    noted = 0
    for name, entry in fidelity.entries.items():
        cut = [f"{entry.rows_used[side]} of {total} {side} rows"
               for side, total in totals.items() if 0 < entry.rows_used.get(side, 0) < total]
        said = f"fidelity {name} was computed on a seeded subsample of"
        if cut:
            assert f"{said} {' and '.join(cut)}." in text
            noted += 1
        else:
            assert said not in text
    assert noted and "fidelity constraints" not in text  # it reads no real rows by design


def test_lifts_are_read_plainly(sections, candidates):
    # Setup
    read = {}
    for c in candidates[:2]:
        assert isinstance(c.utility, UtilityResult) and c.utility.task.metric is not None
        for model, scores in c.utility.eval.models.items():
            lift = scores.lifts["augmented"][c.utility.task.metric]
            read[c.id, model] = (expected_reading("augmented", c.utility.task.metric, lift),
                                 ci_text(lift))

    # Assert
    for (cid, _model), (reading, interval) in read.items():
        assert f'badge {reading_kind(reading)}">{reading}</span>' in sections[cid]
        assert interval in sections[cid]


def test_an_undefined_lift_is_said_to_be_undefined(run, candidates):
    """A lift the bootstrap could not define (no value, no interval: e.g. a ROC AUC on an
    eval split holding one class) replaces the good candidate's scarce_augmented lift."""
    # Setup
    good = candidates[0]
    assert isinstance(good.utility, UtilityResult)
    metric = good.utility.task.metric
    assert metric is not None
    hgb = good.utility.eval.models["hgb"]
    lifts = {**hgb.lifts, "scarce_augmented": {
        **hgb.lifts["scarce_augmented"],
        metric: Interval(value=None, ci_low=None, ci_high=None)}}
    scores = good.utility.eval.model_copy(update={"models": {
        **good.utility.eval.models, "hgb": hgb.model_copy(update={"lifts": lifts})}})
    candidates[0] = good.model_copy(update={"utility": good.utility.model_copy(
        update={"eval": scores})})

    # Run
    text = candidate_sections(render(run, candidates[:1]), [GOOD])[GOOD]

    # Assert
    assert '<span class="badge muted">undefined</span>' in text
    assert f"<td>{metric}</td>" in text


def test_header_holds_the_run_facts_in_order(page, run):
    # Setup
    control, task = run.control, run.task
    assert isinstance(control, ControlScores)
    lin, rf, hgb = (control.eval[m] for m in ("linear", "random_forest", "hgb"))

    # Run
    header = section(page, "<header>", "</header>")

    # Assert
    facts = [run.id, run.dataset_id, run.policy_sha256,
             f"target {task.target}, kind {task.kind}, metric {task.metric}",
             f"<dd>{run.seed}</dd>", run.status.value,
             f"linear {lin.primary:.3f}, random_forest {rf.primary:.3f}, hgb {hgb.primary:.3f} "
             f"({task.metric} on real eval, chance 0.500; {hgb.n_train} real train rows)",
             run.requested_by, run.executor, run.created_at.isoformat(),
             run.message]
    positions = [header.index(fact) for fact in facts]
    assert positions == sorted(positions)


@pytest.mark.parametrize(("error", "said"), [
    (None, "not recorded"),
    ("ValueError: <no rows>", "failed: ValueError: &lt;no rows&gt;"),
], ids=["never-fitted", "failed"])
def test_a_run_without_its_control_says_so(run, candidates, error, said):
    # Setup
    run = run.model_copy(update={"control": None if error is None else StageError(error=error)})

    # Run
    page = render(run, candidates)

    # Assert
    assert f"<dt>real-only control&#x27;s primary metric</dt><dd>{said}</dd>" in page
    assert "real-only control failed: " in section(page, 'id="control"', 'id="notes"')


def test_tables_cover_attacks_subgroups_confusion_and_privacy(sections, candidates):
    # Setup
    good = candidates[0]
    attack, utility, privacy = good.attack, good.utility, good.privacy
    assert isinstance(attack, AuditReport) and isinstance(utility, UtilityResult)
    assert privacy is not None
    hgb = utility.eval.models["hgb"]
    sex = hgb.control.subgroups["sex"]  # the first scenario with subgroups
    confusion = hgb.scenarios["tstr"].confusion
    assert confusion is not None

    # Run
    text = sections[GOOD]

    # Assert
    for name, result in attack.results.items():
        assert f"<td>{name}</td><td>{result.auc:.3f}</td>" in text
    for group, info in sex["groups"].items():
        assert f"<td>sex</td><td>{group}</td><td>{info['n']}</td><td>{info['value']:.3f}" \
               "</td>" in text
    for label, counts in zip(confusion["labels"], confusion["matrix"], strict=True):
        assert f"<th>true {label}</th>" in text
        assert all(f"{count}</td>" in text for count in counts)
    assert f"<dt>mechanism</dt><dd>{html.escape(privacy.mechanism)}</dd>" in text
    assert f"<dt>epsilon spent (accountant)</dt><dd>{privacy.epsilon_spent:g}</dd>" in text
    assert f"<dt>accountant</dt><dd>{DASH}</dd>" in text  # the fake names none
    worst = min(utility.eval.models,
                key=lambda m: utility.eval.models[m].ratio_above_chance.value)
    assert text.count("alt=\"TSTR confusion heatmap") == 1
    assert f"alt=\"TSTR confusion heatmap ({worst})\"" in text
    assert f"alt=\"lift chart ({utility.task.metric})\"" in text


def test_output_is_deterministic_and_inputs_untouched(run, candidates, png, records):
    # Setup
    before = (run.model_dump(), [c.model_dump() for c in candidates])

    # Run: the second report reads the stored rows back afresh
    first = render(run, candidates, png)
    second = render(records.run(), records.candidates(), png)

    # Assert
    assert first == second
    assert (run.model_dump(), [c.model_dump() for c in candidates]) == before


def test_output_changes_with_the_data(run, candidates, png):
    # Setup
    before = render(run, candidates, png)
    attack = candidates[0].attack
    assert isinstance(attack, AuditReport) and f"{attack.worst_auc:.3f}" != "0.910"
    candidates[0] = candidates[0].model_copy(update={
        "attack": attack.model_copy(update={"worst_auc": 0.91})})

    # Run
    after = render(run, candidates, png)

    # Assert
    assert before != after and "0.910" in after


def test_a_candidate_without_full_record_is_named(run, candidates, png):
    # Run
    page = render(run, candidates[:1], png)

    # Assert
    rest = [c.id for c in candidates[1:]]
    assert f"{len(rest)} candidate(s) of this run have no full record in this report: " \
           f"{', '.join(rest)}" in page


def test_unresolved_tpr_at_1pct_is_not_a_dash(run, candidates, capped):
    # Setup: the good candidate's audit under an attack cap of 60 rows (see ``capped``)
    assert capped.worst_tpr_at_1pct is None
    unresolved = tpr_notes(capped, "1.000% FPR")
    assert unresolved
    candidates[0] = candidates[0].model_copy(update={"attack": capped})

    # Run
    page = render(run, candidates[:1])
    table = section(page, 'id="candidates"', 'id="candidate-1"')

    # Assert
    assert "<td>n/a (not enough samples)</td>" in table
    for note, names in unresolved.items():
        assert f"{html.escape(note)} for {', '.join(names)}" in page


@pytest.mark.parametrize(("verdict_of", "said"), [
    (lambda good, audit: good.verdict, "The candidate meets every clause of the policy."),
    (lambda good, audit: audit.verdict,
     "The candidate violates {n} clause(s) of the policy:"),
    (lambda good, audit: audit.verdict.model_copy(update={"eligible": True}),
     "The candidate violates {n} clause(s) of the policy:"),
    (lambda good, audit: Verdict(eligible=False, violations=(),
                                 policy_sha256=good.verdict.policy_sha256),
     "The verdict neither lists a violated clause nor marks the candidate eligible"),
    (lambda good, audit: None, "policy verdict: not recorded for this candidate."),
], ids=["eligible", "violations", "inconsistent", "no-verdict", "missing"])
def test_verdict_lead_follows_the_violations(run, candidates, verdict_of, said):
    """The lead sentence follows the violations, whatever ``eligible`` says.

    The stored verdict type does not tie ``eligible`` to its violations, so a stored
    verdict may claim eligibility with violations, or neither.
    """
    # Setup
    good, audit = candidates[:2]
    verdict = verdict_of(good, audit)
    candidate = good.model_copy(update={"verdict": verdict})
    n = len(verdict.violations) if verdict is not None else 0

    # Run
    page = render(run, [candidate])

    # Assert
    assert said.format(n=n) in candidate_sections(page, [GOOD])[GOOD]
