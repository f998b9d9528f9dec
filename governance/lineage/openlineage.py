"""OpenLineage documents for runs and datasets, built from plain values (no I/O).

Documents follow the OpenLineage 2-0-2 object model (https://openlineage.io/spec):
a ``RunEvent`` (``eventType`` START / COMPLETE / FAIL / ABORT, ``eventTime``, ``run``
with a UUID ``runId``, ``job`` in the namespace ``synth-governance``, ``inputs`` /
``outputs`` datasets, ``producer`` and ``schemaURL``) per run transition, and a static
``DatasetEvent`` when a source table is registered. Standard facets used: ``schema``,
``dataSource``, ``version`` (datasets), ``errorMessage`` (runs). Custom facets, prefixed
``synthGovernance_`` as the spec asks of custom facets, carry each output candidate's
figures:

* ``synthGovernance_epsilon``: target, spent (as the accountant reported it, never
  recomputed here), delta, accountant, mechanism;
* ``synthGovernance_attack``: worst membership-attack ROC AUC, empirical epsilon lower
  bound, TPR at 1 % FPR, failed-audit flag;
* ``synthGovernance_utility``: the model panel's utility above chance on eval (the
  reported figure) and the raw TSTR / control ratio, each with its bootstrap interval,
  the validation figure selection read, the panel rule, and the policy verdict.

Infinite epsilons are written as the string ``"inf"`` (JSON has no infinity). The
native run id is kept in the ``synthGovernance_run`` facet; ``runId`` is a UUID-5 of it,
so a run's START and COMPLETE events share one ``runId``. Delivery is the job of
``governance.lineage.sinks``; ``governance.services.lineage`` builds the inputs from the
store.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from governance.attacks.suite import AuditReport
from governance.core.jsonsafe import to_jsonable
from governance.core.types import StageError
from governance.datasets.schema import Schema
from governance.evaluation.lift.results import UtilityResult
from governance.generators.base import PrivacySpend

SPEC_VERSION = "2-0-2"
SCHEMA_URL = f"https://openlineage.io/spec/{SPEC_VERSION}/OpenLineage.json"
JOB_NAMESPACE = "synth-governance"
PRODUCER = "https://github.com/synth-governance/synth-governance/tree/0.1.0"
FACET_SCHEMA = "https://github.com/synth-governance/synth-governance/blob/0.1.0/docs/openlineage"
EVENT_TYPES = ("START", "COMPLETE", "FAIL", "ABORT")
_UUID_NS = uuid.uuid5(uuid.NAMESPACE_URL, "https://openlineage.io/synth-governance")


def run_uuid(run_id: str) -> str:
    """The stable OpenLineage ``runId`` (UUID-5) of a native run id."""
    return str(uuid.uuid5(_UUID_NS, f"run:{run_id}"))


def now() -> str:
    """The current time as OpenLineage wants it (ISO 8601, UTC, milliseconds)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _facet(name: str, /, **fields: Any) -> dict[str, Any]:
    return {"_producer": PRODUCER, "_schemaURL": f"{FACET_SCHEMA}/{name}.json", **fields}


def _std_facet(name: str, version: str, /, **fields: Any) -> dict[str, Any]:
    return {"_producer": PRODUCER, "_schemaURL":
            f"https://openlineage.io/spec/facets/{version}/{name}.json#/$defs/{name}", **fields}


@dataclass(frozen=True)
class DatasetFacts:
    """What the dataset document of a registered source table says."""

    dataset_id: str
    name: str
    schema: Schema
    source_filename: str
    source_sha256: str
    n_rows: int
    schema_sha256: str
    data_derived_schema: bool
    split_seed: int
    split_sha256: str


@dataclass(frozen=True)
class CandidateOutput:
    """What the output-dataset document of one synthetic candidate says."""

    candidate_id: str
    generator: str
    artifact_sha256: str | None
    epsilon_target: float
    epsilon_spent: float
    delta: float
    privacy: PrivacySpend | None
    attack: AuditReport | StageError | None
    utility: UtilityResult | StageError | None
    eligible: bool | None
    clauses: Sequence[str]


@dataclass(frozen=True)
class RunFacts:
    """What the run facet of a RunEvent says."""

    run_id: str
    status: str
    policy_sha256: str
    grid: list[tuple[str, float]]
    seed: int
    requested_by: str
    executor: str
    error: str | None
    message: str


def dataset_document(ds: DatasetFacts) -> dict[str, Any]:
    """The OpenLineage dataset for a registered source table (schema, source, version)."""
    fields = [{"name": n, "type": str(c.type)} for n, c in ds.schema.columns.items()]
    return {"namespace": JOB_NAMESPACE, "name": f"datasets/{ds.name}", "facets": {
        "schema": _std_facet("SchemaDatasetFacet", "1-1-1", fields=fields),
        "dataSource": _std_facet("DatasourceDatasetFacet", "1-0-1", name=ds.source_filename,
                                 uri=f"sha256:{ds.source_sha256}"),
        "version": _std_facet("DatasetVersionDatasetFacet", "1-0-1",
                              datasetVersion=ds.source_sha256),
        "synthGovernance_dataset": _facet(
            "DatasetFacet", dataset_id=ds.dataset_id, n_rows=ds.n_rows,
            schema_sha256=ds.schema_sha256, data_derived_schema=ds.data_derived_schema,
            split={"seed": ds.split_seed, "sha256": ds.split_sha256}),
    }}


def _utility_facet(c: CandidateOutput) -> dict[str, Any]:
    u = c.utility if isinstance(c.utility, UtilityResult) else None
    above = u.reported.ratio_above_chance if u else None
    raw = u.reported.ratio_raw if u else None
    return _facet(
        "UtilityFacet", split="eval", aggregate=u.aggregate if u else None,
        models=list(u.eval.models) if u else [],
        ratio_above_chance=above.value if above else None,
        ratio_above_chance_ci=[above.ci_low if above else None, above.ci_high if above else None],
        ratio_raw=raw.value if raw else None,
        ratio_raw_ci=[raw.ci_low if raw else None, raw.ci_high if raw else None],
        selection_ratio_above_chance=u.selection.ratio_above_chance.value if u else None,
        error=c.utility.error if isinstance(c.utility, StageError) else None,
        eligible=c.eligible, violations=list(c.clauses))


def candidate_document(c: CandidateOutput) -> dict[str, Any]:
    """An output dataset: one synthetic candidate with its epsilon, attack, utility facets."""
    attack = c.attack if isinstance(c.attack, AuditReport) else None
    error = c.attack.error if isinstance(c.attack, StageError) else None
    return to_jsonable({"namespace": JOB_NAMESPACE, "name": f"candidates/{c.candidate_id}",
                        "facets": {
        "version": _std_facet("DatasetVersionDatasetFacet", "1-0-1",
                              datasetVersion=c.artifact_sha256),
        "synthGovernance_epsilon": _facet(
            "EpsilonFacet", target=c.epsilon_target, spent=c.epsilon_spent, delta=c.delta,
            accountant=c.privacy.accountant if c.privacy else None,
            mechanism=c.privacy.mechanism if c.privacy else c.generator),
        "synthGovernance_attack": _facet(
            "AttackFacet", worst_auc=attack.worst_auc if attack else None,
            epsilon_estimate=attack.epsilon_estimate if attack else None,
            tpr_at_1pct_fpr=attack.worst_tpr_at_1pct if attack else None,
            failed_audit=attack.failed_audit if attack else None, error=error),
        "synthGovernance_utility": _utility_facet(c),
    }})


def run_event(event_type: str, run: RunFacts, *, job_name: str,
              inputs: list[dict[str, Any]], outputs: list[dict[str, Any]]) -> dict[str, Any]:
    """The RunEvent document of one run transition.

    Raises:
        ValueError: for an event type the spec does not define.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"eventType must be one of {', '.join(EVENT_TYPES)}, not {event_type!r}")
    run_facets: dict[str, Any] = {"synthGovernance_run": _facet(
        "RunFacet", run_id=run.run_id, status=run.status, policy_sha256=run.policy_sha256,
        grid=[[g, e] for g, e in run.grid], seed=run.seed, requested_by=run.requested_by,
        executor=run.executor)}
    if event_type == "FAIL":
        run_facets["errorMessage"] = _std_facet(
            "ErrorMessageRunFacet", "1-0-1", message=run.error or run.message or "run failed",
            programmingLanguage="python")
    return to_jsonable({"eventType": event_type, "eventTime": now(),
                        "run": {"runId": run_uuid(run.run_id), "facets": run_facets},
                        "job": {"namespace": JOB_NAMESPACE, "name": job_name, "facets": {}},
                        "inputs": inputs, "outputs": outputs, "producer": PRODUCER,
                        "schemaURL": f"{SCHEMA_URL}#/$defs/RunEvent"})


def dataset_event(dataset: dict[str, Any]) -> dict[str, Any]:
    """A static DatasetEvent for a registered source table."""
    return {"eventTime": now(), "dataset": dataset, "producer": PRODUCER,
            "schemaURL": f"{SCHEMA_URL}#/$defs/DatasetEvent"}
