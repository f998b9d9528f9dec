"""The runner against a real store: budgets, determinism, honesty flags, the demo."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from sqlmodel import select

import governance.generators.privacy.noise as noise
from governance.audit.bundle import verify_bundle
from governance.core.errors import BudgetExceededError, InputError
from governance.core.types import Principal, Role
from governance.policy import decide
from governance.policy.library import policy_path
from governance.policy.loader import load_policy
from governance.schemas.runs import candidate_public
from governance.services.budget import set_budget
from governance.services.datasets import register_dataset
from governance.services.demo import run_demo
from governance.services.runs import RunRequest, execute_run, submit_run
from governance.services.runs.evaluate import candidate_facts
from governance.services.runs.submit import candidate_seed
from governance.services.signing import installation_signer
from governance.store.models import AuditEvent, BudgetCharge, Candidate, Run
from tests.utils.data import MIXED_SCHEMA, mixed_table

POLICY = """\
version: 1
name: tight-budget
risk: {max_epsilon: 4, max_total_epsilon: 5, max_attack_auc: 1.0}
utility: {min_utility_ratio: 0.0}
"""
FAST = {"dp_vae": {"epochs": 2}}
# Calibrating the noise dominates a tiny DP run; RDP at sample rate 1/8 calibrates in ~1 s.
FASTER = {"dp_vae": {"epochs": 1, "batch_size": 64, "hidden": 32, "accountant": "rdp"}}


@pytest.fixture
def people(gov, tmp_path):
    csv = tmp_path / "people.csv"
    mixed_table(900, seed=4).to_csv(csv, index=False)
    return register_dataset(gov, path=csv, schema=MIXED_SCHEMA, name="people", actor="owner")


def _run(gov, ds, tmp_path, *, policy_text=POLICY, **kw):
    policy = tmp_path / "tight.yaml"
    policy.write_text(policy_text)
    req = RunRequest(dataset=ds.id, target="label", policy=policy, executor="inline",
                     generator_options=kw.pop("generator_options", FAST), **kw)
    run = submit_run(gov, req, actor="alice")
    return execute_run(gov, run.id)


def _candidates(gov, run) -> dict[tuple[str, float | None], Candidate]:
    with gov.session() as s:
        cands = s.exec(select(Candidate).where(Candidate.run_id == run.id)).all()
    return {(c.generator, c.epsilon_target): c for c in cands}


def test_a_run_that_would_overspend_is_refused_before_anything_trains(gov, people, tmp_path):
    # Setup: a budget of 5 on the dataset; spend up to 4 of it.
    set_budget(gov, dataset=people.id, epsilon=5, actor=Principal(id="k", name="adm",
                                                                  role=Role.ADMIN))
    _run(gov, people, tmp_path, generators=["dp_vae"], epsilons=[4.0])
    with gov.session() as s:
        spent = sum(c.epsilon for c in s.exec(select(BudgetCharge)).all())
        n_runs, n_cands = len(s.exec(select(Run)).all()), len(s.exec(select(Candidate)).all())
    assert 3.5 < spent <= 4

    # Run / Assert: the next grid needs 2, and only 5 - spent is left (released reservation).
    with pytest.raises(BudgetExceededError, match=r"needs epsilon 2 .* has 1\.\d+ left of its 5"):
        _run(gov, people, tmp_path, generators=["dp_vae"],
             epsilons=[2.0])
    with gov.session() as s:
        assert len(s.exec(select(Run)).all()) == n_runs
        assert len(s.exec(select(Candidate)).all()) == n_cands


def _stored_bytes(gov) -> bytes:
    """Every byte the installation keeps: database, artifacts, audit exports."""
    roots = [gov.settings.home, gov.settings.audits_dir]
    return b"".join(f.read_bytes() for root in roots if root.exists()
                    for f in sorted(root.rglob("*")) if f.is_file())


def test_same_seed_repeats_public_output_but_never_dp_noise(gov, people, tmp_path,
                                                           monkeypatch):
    # Setup: remember the OS entropy behind every noise stream, to look for it afterwards
    drawn: list[int] = []
    real = noise.fresh_entropy

    def spy() -> int:
        drawn.append(real())
        return drawn[-1]

    monkeypatch.setattr(noise, "fresh_entropy", spy)
    # Run: two runs with one seed on one dataset
    runs = [_run(gov, people, tmp_path, generators=["dp_vae"],
                 epsilons=[1.0, math.inf], seed=7, generator_options=FASTER)
            for _ in range(2)]
    first, second = (_candidates(gov, run) for run in runs)
    # Assert: the same splits and the same non-private artifact and evaluation
    with gov.session() as s:
        requested = [json.loads(e.payload) for e in s.exec(
            select(AuditEvent).where(AuditEvent.kind == "run.requested")).all()]
    assert requested[0]["split_sha256"] == requested[1]["split_sha256"]
    control = ("dp_vae", None)  # the same model, trained without clipping or noise
    assert first[control].artifact_sha256 == second[control].artifact_sha256
    assert candidate_public(first[control]).summary == candidate_public(second[control]).summary
    # ... and different DP artifacts, whose record says the noise was secret
    dp = ("dp_vae", 1.0)
    assert first[dp].artifact_sha256 != second[dp].artifact_sha256
    assert first[dp].seed == second[dp].seed == candidate_seed(7, "dp_vae", 1.0)
    public = candidate_public(first[dp])
    assert public.privacy.reproducible_noise is False
    assert noise.SECRET_NOTE in public.privacy.notes
    assert "risk.reproducible_noise" not in public.verdict.clauses
    # ... and the entropy behind the noise is stored nowhere, in any encoding
    assert len(drawn) == 2
    stored = _stored_bytes(gov)
    for value in drawn:
        for form in (str(value).encode(), f"{value:x}".encode(),
                     value.to_bytes(16, "little"), value.to_bytes(16, "big")):
            assert form not in stored


SANDBOX = POLICY.replace("name: tight-budget", "name: sandbox").replace(
    "max_attack_auc: 1.0}", "max_attack_auc: 1.0, reproducible_noise: true}")


def test_a_sandbox_policy_makes_dp_noise_reproducible_and_release_policies_refuse_it(
        gov, people, tmp_path):
    # Run: two runs with one seed under a policy that sets risk.reproducible_noise
    runs = [_run(gov, people, tmp_path, policy_text=SANDBOX, generators=["dp_vae"],
                 epsilons=[1.0], seed=7, generator_options=FASTER) for _ in range(2)]
    first, second = (_candidates(gov, run)[("dp_vae", 1.0)] for run in runs)
    # Assert: bit-identical DP artifacts, and a record that says what that costs
    assert first.artifact_sha256 == second.artifact_sha256
    cand = candidate_public(first)
    assert cand.privacy.reproducible_noise is True
    assert noise.REPRODUCIBLE_NOTE in cand.privacy.notes
    assert "risk.reproducible_noise" not in cand.verdict.clauses
    assert any("risk.reproducible_noise" in note for note in cand.verdict.notes)
    # ... which the default and strict policies refuse
    for name in ("default", "strict"):
        policy = load_policy(policy_path(name, directory=gov.settings.policies_dir))
        facts = candidate_facts(privacy=cand.privacy, attack=cand.attack,
                                utility=cand.utility, policy=policy.policy)
        verdict = decide(policy, facts)
        assert "risk.reproducible_noise" in verdict.clauses, name
        assert not verdict.eligible


def test_a_request_cannot_set_reproducible_noise(gov, people, tmp_path):
    # Run / Assert: refused before anything trains or is recorded
    options = {"dp_vae": {"epochs": 2, "reproducible_noise": True}}
    with pytest.raises(InputError, match="set by the policy"):
        _run(gov, people, tmp_path, generators=["dp_vae"], epsilons=[1.0],
             generator_options=options)
    with gov.session() as s:
        assert s.exec(select(Run)).all() == []


def test_data_derived_schema_voids_the_dp_claim(gov, tmp_path):
    # Setup: a schema inferred from the data (bounds read from private values).
    csv = tmp_path / "p.csv"
    frame = mixed_table(900, seed=2)
    frame.to_csv(csv, index=False)
    ds = register_dataset(gov, path=csv, schema=None, infer=True, name="inferred", actor="o")
    assert ds.data_derived_schema

    # Run
    run = _run(gov, ds, tmp_path, generators=["dp_vae"], epsilons=[2.0])

    # Assert
    with gov.session() as s:
        (cand,) = s.exec(select(Candidate).where(Candidate.run_id == run.id)).all()
    privacy, verdict = json.loads(cand.privacy_json), json.loads(cand.verdict_json)
    assert "NOT private" in privacy["preprocessing"]
    assert not cand.eligible
    assert "risk.preprocessing" in [v["clause"] for v in verdict["violations"]]


def test_demo_smoke(gov):
    # Run
    said: list[str] = []
    outcome = run_demo(gov, generators="gaussian_copula,dp_vae", epsilons=[4.0], rows=1500,
                       executor="inline", generator_options=FAST, say=said.append)
    summary = outcome.as_dict()

    # Assert
    assert summary["audit_chain_ok"] and said
    assert summary["run"]["status"] == "succeeded"
    assert len(summary["run"]["candidates"]) == 2
    assert Path(summary["plot"]).read_bytes()[:4] == b"\x89PNG"
    assert (Path(summary["bundle"]) / "manifest.json").is_file()
    report = verify_bundle(Path(summary["bundle"]), installation_signer(gov.settings).verifier)
    assert report.ok, report.problems


SHADOW_POLICY = """\
version: 1
name: deep-audit
risk:
  max_epsilon: 8
  max_attack_auc: 1.0
  audit_depth: shadow
  max_disclosure_risk: {singling_out: 0.5, linkability: 0.5, inference: 0.9}
utility: {min_utility_ratio: 0.0}
"""


def test_deep_audit_runs_shadow_models_and_disclosure_risks(gov, tmp_path):
    # Setup
    csv = tmp_path / "p.csv"
    mixed_table(700, seed=6).to_csv(csv, index=False)
    ds = register_dataset(gov, path=csv, schema=MIXED_SCHEMA, name="small", actor="o")
    policy = tmp_path / "deep.yaml"
    policy.write_text(SHADOW_POLICY)

    # Run
    run = submit_run(gov, RunRequest(dataset=ds.id, target="label", policy=policy,
                                     generators=["gaussian_copula"], epsilons=[float("inf")],
                                     executor="inline"), actor="alice")
    run = execute_run(gov, run.id)

    # Assert: both shadow readings and the three disclosure risks were measured and judged.
    with gov.session() as s:
        (cand,) = s.exec(select(Candidate).where(Candidate.run_id == run.id)).all()
    attack = json.loads(cand.attack_json)
    assert {"shadow", "shadow_runs"} <= set(attack["results"]), attack.get("reasons")
    assert set(attack["disclosure"]) == {"singling_out", "linkability", "inference"}
    violations = json.loads(cand.verdict_json)["violations"]
    assert not [v for v in violations if "disclosure" in v["clause"] and v["unverifiable"]]
    assert not [v for v in violations if "attack" in v["clause"] and v["unverifiable"]]


def test_grid_gives_each_generator_the_budgets_it_can_take():
    from governance.core.errors import InputError as GovInputError
    from governance.services.runs import plan_grid

    inf = float("inf")
    assert plan_grid(["mst", "dp_vae", "gaussian_copula"], [4.0, 1.0, inf]) == [
        ("mst", 1.0), ("mst", 4.0), ("dp_vae", 1.0), ("dp_vae", 4.0), ("dp_vae", inf),
        ("gaussian_copula", inf)]
    with pytest.raises(GovInputError, match="no non-private mode"):
        plan_grid(["mst"], [inf])
