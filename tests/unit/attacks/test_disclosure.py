import json
import sys

import pandas as pd
import pytest

from governance.attacks import disclosure_risks, run_membership_audit
from governance.core.errors import InputError
from tests.utils.data import MIXED_SCHEMA, mixed_table

N = 300


@pytest.fixture(scope="module")
def rows():
    table = mixed_table(4 * N, seed=5)
    ori, control, fresh = table[:N], table[N : 2 * N], table[2 * N : 3 * N]
    # half copied training rows, half fresh real rows: an intermediate risk
    leaky = pd.concat([ori[: N // 2], fresh[: N // 2]], ignore_index=True)
    return {"ori": ori, "control": control, "fresh": fresh, "leaky": leaky}


def _plain(frame):
    out = frame.copy()
    for name, spec in MIXED_SCHEMA.columns.items():
        if spec.type == "categorical":
            out[name] = out[name].astype(object).astype(str)
    return out


def test_missing_anonymeter_names_the_extra(rows, monkeypatch):
    # Setup
    monkeypatch.setitem(sys.modules, "anonymeter", None)
    monkeypatch.setitem(sys.modules, "anonymeter.evaluators", None)
    # Run / Assert
    with pytest.raises(ImportError, match=r"pip install 'synth-governance\[disclosure\]'") as err:
        disclosure_risks(ori=rows["ori"], syn=rows["leaky"], control=rows["control"],
                         schema=MIXED_SCHEMA)
    assert isinstance(err.value.__cause__, ImportError)


def test_project_risks_agree_with_anonymeter_within_its_intervals(rows):
    # Setup
    pytest.importorskip(
        "anonymeter", reason="anonymeter is the optional extra 'disclosure' (it pins numpy<2); "
        "install it to cross-check the wiring")
    from anonymeter.evaluators import (
        InferenceEvaluator,
        LinkabilityEvaluator,
        SinglingOutEvaluator,
    )
    o, s, c = _plain(rows["ori"]), _plain(rows["leaky"]), _plain(rows["control"])
    # Run
    report = disclosure_risks(ori=rows["ori"], syn=rows["leaky"], control=rows["control"],
                              schema=MIXED_SCHEMA, n_attacks=N, seed=1)
    so = report.singling_out.setting
    direct = {
        "singling_out": SinglingOutEvaluator(
            ori=o, syn=s, control=c, n_attacks=N, n_cols=so["n_cols"], seed=7
        ).evaluate(mode=so["mode"]),
        "linkability": LinkabilityEvaluator(
            ori=o, syn=s, control=c, n_attacks=N,
            aux_cols=tuple(report.linkability.setting["aux_cols"])).evaluate(n_jobs=1),
        "inference": InferenceEvaluator(
            ori=o, syn=s, control=c, n_attacks=N,
            secret=report.inference.setting["secret"],
            aux_cols=report.inference.setting["aux_cols"]).evaluate(n_jobs=1),
    }
    # Assert (same library, so this checks the wiring, not the statistics). The two runs
    # draw different attack queries (anonymeter's multivariate queries also depend on the
    # process's string-hash seed), so they are two estimates of one risk: their intervals
    # must overlap, which two 95% intervals of one quantity fail to do far less than 1% of
    # the time, while a wiring error (wrong frames or columns) separates them.
    for kind, evaluator in direct.items():
        theirs = evaluator.risk()
        ours = getattr(report, kind)
        assert ours.ci[0] - 1e-9 <= theirs.ci[1] and theirs.ci[0] - 1e-9 <= ours.ci[1], kind
        assert ours.ci[0] <= ours.value <= ours.ci[1]
    assert report.subsampled is None
    assert set(report.summary()) == {"singling_out", "linkability", "inference"}
    json.dumps(report.as_dict(), allow_nan=False)


def test_copy_is_riskier_than_fresh_rows(rows):
    # Setup
    pytest.importorskip("anonymeter", reason="anonymeter is the optional extra 'disclosure'")
    # Run
    copy = disclosure_risks(ori=rows["ori"], syn=rows["ori"], control=rows["control"],
                            schema=MIXED_SCHEMA, n_attacks=200, secrets=("label",))
    fresh = disclosure_risks(ori=rows["ori"], syn=rows["fresh"], control=rows["control"],
                             schema=MIXED_SCHEMA, n_attacks=200, secrets=("label",))
    # Assert
    for kind in ("singling_out", "linkability", "inference"):
        assert copy.summary()[kind] > 0.5, kind
        assert fresh.summary()[kind] < 0.25, kind
    assert copy.subsampled == {"ori": {"used": 200, "of": N}, "control": {"used": 200, "of": N}}
    assert len(copy.singling_out.evaluations) == 2


@pytest.mark.parametrize("options", [{"n_attacks": 5}, {"secrets": ("nope",)}])
def test_invalid_options_are_refused(rows, options):
    pytest.importorskip("anonymeter", reason="anonymeter is the optional extra 'disclosure'")
    with pytest.raises(InputError):
        disclosure_risks(ori=rows["ori"], syn=rows["fresh"], control=rows["control"],
                         schema=MIXED_SCHEMA, **options)


@pytest.mark.slow
def test_dp_candidate_at_epsilon_1_never_shows_a_bound_above_1():
    # Setup
    pytest.importorskip("torch", reason="the DP-VAE generator needs torch")
    from governance.generators import create_generator

    table = mixed_table(3000, seed=11)
    train, holdout = table[:1500], table[1500:]
    generator = create_generator("dp_vae", epsilon=1.0, epochs=3, seed=0)
    # Run
    synthetic = generator.fit(train, MIXED_SCHEMA).sample(1500)
    spent = generator.privacy().epsilon_spent
    report = run_membership_audit(
        members=train[:750], nonmembers=holdout[:750], synthetic=synthetic,
        schema=MIXED_SCHEMA, reference=holdout[750:], claimed_epsilon=spent, seed=2)
    # Assert
    assert spent <= 1.0 + 1e-9
    assert report.epsilon_estimate <= 1.0
    assert not report.failed_audit
