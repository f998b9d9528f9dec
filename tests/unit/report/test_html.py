"""The HTML run report: self-contained, escaped, complete, honest and deterministic."""

from __future__ import annotations

import base64
import copy
import re
from html.parser import HTMLParser

import pytest

from governance.report import render_run_report

VOID = {"meta", "img", "br", "hr", "link", "input", "col", "area", "base", "wbr"}


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


def test_report_is_one_wellformed_html5_document(page):
    # Run
    parser = _Balance()
    parser.feed(page)

    # Assert
    assert page.startswith("<!DOCTYPE html>\n<html lang=\"en\">")
    assert page.rstrip().endswith("</html>")
    assert parser.problems == [] and parser.stack == []
    assert "<title>Run report run_test</title>" in page


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
    # Setup
    candidates[0]["generator"] = 'gen"><img src=x onerror=alert(1)>'
    run["message"] = "<b>bold</b> & co"

    # Run
    page = render(run, candidates, png, title="<i>t</i>")

    # Assert
    assert "<script" not in page
    assert "boom &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "<img src=x" not in page and "gen&quot;&gt;&lt;img src=x" in page
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in page
    assert "<title>&lt;i&gt;t&lt;/i&gt;</title>" in page
    assert "fit crashed: &lt;oom&gt;" in page and "InputError: manifold &lt;failed&gt;" in page


def test_every_candidate_is_listed_and_has_a_section(page):
    # Setup
    ids = ["cand_good", "cand_audit", "cand_broken", "cand_failed"]

    # Run
    table = page[page.index('id="candidates"'):page.index('id="candidate-1"')]

    # Assert
    for i, cid in enumerate(ids, start=1):
        assert f'<a href="#candidate-{i}">{cid}</a>' in table
        assert f'<section class="candidate" id="candidate-{i}"><h2>Candidate {cid}' in page


def test_failed_audit_and_violations_are_stated_plainly(page):
    # Run
    audit = page[page.index('id="candidate-2"'):page.index('id="candidate-3"')]

    # Assert
    assert "FAILED PRIVACY AUDIT: the empirical epsilon lower bound 3.200 exceeds the " \
           "claimed epsilon 1." in audit
    assert "The candidate violates 1 clause(s) of the policy:" in audit
    assert "<code>risk.privacy_audit</code>" in audit and "do not release" in audit
    assert "FAILED PRIVACY AUDIT" not in page[page.index('id="candidate-1"'):
                                              page.index('id="candidate-2"')]


def test_broken_and_failed_candidates_say_what_is_missing(page):
    # Run
    broken = page[page.index('id="candidate-3"'):page.index('id="candidate-4"')]
    failed = page[page.index('id="candidate-4"'):page.index('id="control"')]

    # Assert
    assert "membership attack audit failed: </strong>boom &lt;script&gt;" in broken
    assert "Privacy risk was not measured" in broken
    assert "badge warn\">unverifiable" in broken
    assert "Metrics per scenario" in broken  # the parts that worked are still shown
    for what in ("policy verdict", "privacy record", "membership attack audit",
                 "utility evaluation", "fidelity evaluation"):
        assert f"{what}: not recorded for this candidate." in failed


def test_honest_notes_explain_the_figures(page):
    # Run
    good = page[page.index('id="candidate-1"'):page.index('id="candidate-2"')]

    # Assert
    assert "8.0% of the non-member rows exactly duplicate a member row" in good
    assert "caps what the distance attacks" in good
    assert "n/a (not enough samples)" in good
    assert "not enough samples (need &gt;= 1000 non-members, have 400) for dcr, domias" in good
    assert "seeded subsample of 400 of 1200 members rows" in good
    assert "seeded sample of 400 of the 1200 train rows as members" in good
    assert "fidelity quality was computed on a seeded subsample of 5000 of 12000 real" in good
    assert "fidelity constraints" not in good  # it reads no real rows by design


def test_lifts_are_read_plainly(page):
    # Run
    good = page[page.index('id="candidate-1"'):page.index('id="candidate-2"')]
    audit = page[page.index('id="candidate-2"'):page.index('id="candidate-3"')]

    # Assert
    assert "better than the real-only control" in good
    assert "worse than the real-only control" in audit
    assert "+0.020 [+0.010, +0.030]" in good and "-0.030 [-0.050, -0.010]" in audit
    assert ">undefined<" in good  # scarce_augmented's lift has no value


def test_header_holds_the_run_facts_in_order(page):
    # Run
    header = page[page.index("<header>"):page.index("</header>")]

    # Assert
    for text in ("run_test", "ds_test", "cd" * 32, "target label, kind binary, metric "
                 "roc_auc", "<dd>7</dd>", "succeeded", "0.800 (roc_auc, 1200 real train rows)",
                 "2025-01-02T03:04:05+00:00"):
        assert text in header


def test_tables_cover_attacks_subgroups_confusion_and_privacy(page):
    # Run
    good = page[page.index('id="candidate-1"'):page.index('id="candidate-2"')]

    # Assert
    assert "<td>dcr</td><td>0.550</td>" in good and "<td>domias</td><td>0.520</td>" in good
    assert "<td>sex</td><td>female</td><td>150</td><td>0.780</td>" in good
    assert "<th>true 1</th>" in good and ">120</td>" in good
    assert "<dt>accountant</dt><dd>prv</dd>" in good and "<dd>1e-05</dd>" in good
    assert "alt=\"TSTR confusion heatmap\"" in good and "alt=\"lift chart (roc_auc)\"" in good


def test_output_is_deterministic_and_inputs_untouched(run, candidates, png, build):
    # Setup
    before = copy.deepcopy((run, candidates))

    # Run
    first = render(run, candidates, png)
    second = render(build.run(candidates), [dict(c) for c in candidates], png)

    # Assert
    assert first == second
    assert (run, candidates) == before


def test_output_changes_with_the_data(run, candidates, png):
    # Setup
    before = render(run, candidates, png)
    candidates[0]["attack"]["worst_auc"] = 0.91

    # Run
    after = render(run, candidates, png)

    # Assert
    assert before != after and "0.910" in after


def test_a_candidate_without_full_record_is_named(run, candidates, png):
    # Run
    page = render(run, candidates[:1], png)

    # Assert
    assert "3 candidate(s) of this run have no full record in this report: cand_audit, " \
           "cand_broken, cand_failed" in page


def test_unresolved_tpr_at_1pct_is_not_a_dash(run, candidates):
    # Setup: too few non-members to resolve a 1% false-positive rate
    attack = candidates[0]["attack"]
    attack["worst_tpr_at_1pct"] = None
    for result in attack["results"].values():
        result["tpr_at_1pct"] = None
        result["tpr_notes"].insert(0, "TPR at 1.000% FPR: not enough samples (need >= 100 "
                                      "non-members, have 60)")

    # Run
    page = render(run, candidates[:1])
    table = page[page.index('id="candidates"'):page.index('id="candidate-1"')]

    # Assert
    assert "<td>n/a (not enough samples)</td>" in table
    assert "need &gt;= 100 non-members, have 60) for dcr, domias" in page


@pytest.mark.parametrize(("verdict", "said"), [
    ({"eligible": None, "violations": []}, "The verdict neither lists a violated clause"),
    ({"eligible": True, "violations": []}, "The candidate meets every clause of the policy."),
    ({"eligible": True, "violations": [{"clause": "risk.max_delta", "message": "m"}]},
     "The candidate violates 1 clause(s) of the policy:"),
], ids=["undecided", "eligible", "inconsistent"])
def test_verdict_lead_follows_the_violations(verdict, said):
    # Setup
    candidate = {"id": "cand_v", "verdict": verdict}

    # Run
    page = render({"id": "run_v"}, [candidate])

    # Assert
    assert said in page
