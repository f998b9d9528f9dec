"""OpenLineage events for runs and datasets, written as plain JSON (no client library).

Documents follow the OpenLineage 2-0-2 object model (https://openlineage.io/spec):
a ``RunEvent`` (``eventType`` START / COMPLETE / FAIL, ``eventTime``, ``run`` with a
UUID ``runId``, ``job`` in the namespace ``synth-governance``, ``inputs`` / ``outputs``
datasets, ``producer`` and ``schemaURL``) per run transition, and a static
``DatasetEvent`` when a source table is registered. Standard facets used:
``schema``, ``dataSource``, ``version`` (datasets), ``errorMessage`` (runs). Custom
facets, prefixed ``synthGovernance_`` as the spec asks of custom facets, carry each
output candidate's figures:

* ``synthGovernance_epsilon``: target, spent (as the accountant reported it, never
  recomputed here), delta, accountant, mechanism;
* ``synthGovernance_attack``: worst membership-attack ROC AUC, empirical epsilon lower
  bound, TPR at 1 % FPR, failed-audit flag;
* ``synthGovernance_utility``: real-only control, TSTR primary metric, ratio with its
  bootstrap interval, and the policy verdict.

Infinite epsilons are written as the string ``"inf"`` (JSON has no infinity). The
native run id is kept in the ``synthGovernance_run`` facet; ``runId`` is a UUID-5 of it,
so a run's START and COMPLETE events share one ``runId``.

Transports: every event is appended as one line to
``<GOVERNANCE_HOME>/openlineage/events.jsonl`` (single ``write`` on an ``O_APPEND``
descriptor, then ``fsync``). When a URL is configured (argument, ``settings.openlineage_url``
or ``GOVERNANCE_OPENLINEAGE_URL``) it is also POSTed to ``{url}/api/v1/lineage``
(Marquez). A transport failure is logged, appended to ``failed.jsonl`` next to the log
(with the event, for replay) and returned in ``EmitResult``; it never raises.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from governance.audit.chain import canonical_json
from governance.core.errors import NotFoundError
from governance.store.models import Candidate, Dataset, Run, loads

SPEC_VERSION = "2-0-2"
SCHEMA_URL = f"https://openlineage.io/spec/{SPEC_VERSION}/OpenLineage.json"
JOB_NAMESPACE = "synth-governance"
PRODUCER = "https://github.com/synth-governance/synth-governance/tree/0.1.0"
FACET_SCHEMA = "https://github.com/synth-governance/synth-governance/blob/0.1.0/docs/openlineage"
EVENT_TYPES = ("START", "COMPLETE", "FAIL", "ABORT")
_UUID_NS = uuid.uuid5(uuid.NAMESPACE_URL, "https://openlineage.io/synth-governance")
_LOCK = threading.Lock()
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmitResult:
    """What happened to one event.

    Attributes:
        event: the OpenLineage document.
        file: the JSON-lines file it was appended to, None if that failed.
        http_status: the HTTP status of the POST, None when no URL or no response.
        errors: every transport failure, empty when all transports succeeded.
    """

    event: dict[str, Any]
    file: Path | None
    http_status: int | None = None
    errors: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether every configured transport delivered the event."""
        return not self.errors


def run_uuid(run_id: str) -> str:
    """The stable OpenLineage ``runId`` (UUID-5) of a native run id."""
    return str(uuid.uuid5(_UUID_NS, f"run:{run_id}"))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _facet(name: str, /, **fields: Any) -> dict[str, Any]:
    return {"_producer": PRODUCER, "_schemaURL": f"{FACET_SCHEMA}/{name}.json", **fields}


def _std_facet(name: str, version: str, /, **fields: Any) -> dict[str, Any]:
    return {"_producer": PRODUCER, "_schemaURL":
            f"https://openlineage.io/spec/facets/{version}/{name}.json#/$defs/{name}", **fields}


def dataset_document(ds: Dataset) -> dict[str, Any]:
    """The OpenLineage dataset for a registered source table (schema, source, version)."""
    from governance.services.datasets import dataset_schema

    schema = dataset_schema(ds)
    fields = [{"name": n, "type": str(c.type.value if hasattr(c.type, "value") else c.type)}
              for n, c in schema.columns.items()]
    return {"namespace": JOB_NAMESPACE, "name": f"datasets/{ds.name}", "facets": {
        "schema": _std_facet("SchemaDatasetFacet", "1-1-1", fields=fields),
        "dataSource": _std_facet("DatasourceDatasetFacet", "1-0-1", name=ds.source_filename,
                                 uri=f"sha256:{ds.source_sha256}"),
        "version": _std_facet("DatasetVersionDatasetFacet", "1-0-1",
                              datasetVersion=ds.source_sha256),
        "synthGovernance_dataset": _facet(
            "DatasetFacet", dataset_id=ds.id, n_rows=ds.n_rows, schema_sha256=ds.schema_sha256,
            data_derived_schema=ds.data_derived_schema,
            split={"seed": ds.split_seed, "sha256": ds.split_sha256}),
    }}


def candidate_document(c: Candidate, *, control: float | None) -> dict[str, Any]:
    """An output dataset: one synthetic candidate with its epsilon, attack, utility facets."""
    from governance.services.views import candidate_view

    view = candidate_view(c, full=True)
    privacy, attack = view["privacy"] or {}, view["attack"] or {}
    ratio = (view["utility"] or {}).get("utility_ratio") or {}
    verdict = view["verdict"] or {}
    return {"namespace": JOB_NAMESPACE, "name": f"candidates/{c.id}", "facets": {
        "version": _std_facet("DatasetVersionDatasetFacet", "1-0-1",
                              datasetVersion=c.artifact_sha256),
        "synthGovernance_epsilon": _facet(
            "EpsilonFacet", target=view["epsilon_target"], spent=view["epsilon_spent"],
            delta=c.delta, accountant=privacy.get("accountant"),
            mechanism=privacy.get("mechanism", c.generator)),
        "synthGovernance_attack": _facet(
            "AttackFacet", worst_auc=attack.get("worst_auc"),
            epsilon_lower_bound=attack.get("worst_epsilon_lb"),
            tpr_at_1pct_fpr=attack.get("worst_tpr_at_1pct"),
            failed_audit=attack.get("failed_audit"), error=attack.get("error")),
        "synthGovernance_utility": _facet(
            "UtilityFacet", control=control, tstr=view["summary"]["tstr"],
            ratio=ratio.get("value"), ratio_ci=[ratio.get("ci_low"), ratio.get("ci_high")],
            eligible=verdict.get("eligible"), violations=view["summary"]["clauses"]),
    }}


def run_event(session: Any, run_id: str, event_type: str) -> dict[str, Any]:
    """Build the RunEvent document of one run transition from the store.

    Raises:
        ValueError: for an event type the spec does not define.
        NotFoundError: when no run has this id.
    """
    from sqlmodel import select

    if event_type not in EVENT_TYPES:
        raise ValueError(f"eventType must be one of {', '.join(EVENT_TYPES)}, not {event_type!r}")
    run = session.get(Run, run_id)
    if run is None:
        raise NotFoundError(f"no run {run_id!r}; pass the id of a submitted run")
    ds = session.get(Dataset, run.dataset_id)
    control = (loads(run.control_json) or {}).get("primary")
    outputs = []
    if event_type != "START":
        cands = session.exec(select(Candidate).where(Candidate.run_id == run.id)
                             .order_by(Candidate.created_at)).all()
        outputs = [candidate_document(c, control=control) for c in cands
                   if c.artifact_sha256 is not None and c.status != "failed"]
    run_facets: dict[str, Any] = {"synthGovernance_run": _facet(
        "RunFacet", run_id=run.id, status=run.status, policy_sha256=run.policy_sha256,
        grid=loads(run.grid_json), seed=run.seed, requested_by=run.requested_by,
        executor=run.executor)}
    if event_type == "FAIL":
        run_facets["errorMessage"] = _std_facet(
            "ErrorMessageRunFacet", "1-0-1", message=run.error or run.message or "run failed",
            programmingLanguage="python")
    return {"eventType": event_type, "eventTime": _now(),
            "run": {"runId": run_uuid(run.id), "facets": run_facets},
            "job": {"namespace": JOB_NAMESPACE, "name": f"frontier_run.{ds.name if ds else '?'}",
                    "facets": {}},
            "inputs": [dataset_document(ds)] if ds is not None else [], "outputs": outputs,
            "producer": PRODUCER, "schemaURL": f"{SCHEMA_URL}#/$defs/RunEvent"}


def emit_run_event(gov: Any, run_id: str, event_type: str, *,
                   url: str | None = None) -> EmitResult:
    """Build a run's RunEvent from the store and send it to every configured transport.

    Args:
        gov: the service context.
        run_id: the native run id (``run_...``).
        event_type: ``START``, ``COMPLETE``, ``FAIL`` or ``ABORT``.
        url: a Marquez-style base URL; defaults to the configured one, if any.

    Returns:
        The event and the outcome of each transport (transport failures never raise).
    """
    with gov.session() as session:
        event = run_event(session, run_id, event_type)
    return deliver(gov, event, url=url)


def emit_dataset_event(gov: Any, dataset_id: str, *, url: str | None = None) -> EmitResult:
    """Send a static DatasetEvent for a registered source table (see ``emit_run_event``)."""
    with gov.session() as session:
        ds = session.get(Dataset, dataset_id)
        if ds is None:
            raise NotFoundError(f"no dataset {dataset_id!r}; register it first")
        event = {"eventTime": _now(), "dataset": dataset_document(ds), "producer": PRODUCER,
                 "schemaURL": f"{SCHEMA_URL}#/$defs/DatasetEvent"}
    return deliver(gov, event, url=url)


def lineage_dir(gov: Any) -> Path:
    """``<GOVERNANCE_HOME>/openlineage``."""
    return Path(gov.settings.home) / "openlineage"


def _configured_url(gov: Any) -> str | None:
    return getattr(gov.settings, "openlineage_url", None) or os.environ.get(
        "GOVERNANCE_OPENLINEAGE_URL") or None


def deliver(gov: Any, event: dict[str, Any], *, url: str | None = None) -> EmitResult:
    """Append ``event`` to the JSON-lines log and POST it when a URL is configured."""
    errors: list[str] = []
    path: Path | None = lineage_dir(gov) / "events.jsonl"
    try:
        append_line(path, event)  # type: ignore[arg-type]
    except OSError as exc:
        errors.append(f"file: could not append to {path}: {exc}")
        path = None
    status, base = None, url or _configured_url(gov)
    if base:
        status, error = post_event(base, event)
        if error:
            errors.append(error)
    if errors:
        log.warning("OpenLineage delivery failed: %s", "; ".join(errors))
        try:
            append_line(lineage_dir(gov) / "failed.jsonl",
                        {"failedAt": _now(), "errors": errors, "event": event})
        except OSError:
            log.exception("could not record the failed OpenLineage event")
    return EmitResult(event=event, file=path, http_status=status, errors=tuple(errors))


def append_line(path: Path, doc: dict[str, Any]) -> None:
    """Append one JSON document as one line, in one write, flushed to disk."""
    data = canonical_json(doc) + b"\n"  # non-finite floats become "inf"/"nan" strings
    path.parent.mkdir(parents=True, exist_ok=True)
    with _LOCK:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            written = os.write(fd, data)
            if written != len(data):
                raise OSError(f"short write ({written} of {len(data)} bytes)")
            os.fsync(fd)
        finally:
            os.close(fd)


def post_event(base_url: str, event: dict[str, Any], *,
               timeout: float = 5.0) -> tuple[int | None, str | None]:
    """POST to ``{base_url}/api/v1/lineage``; returns (status, error or None)."""
    import httpx

    endpoint = base_url.rstrip("/") + "/api/v1/lineage"
    try:
        response = httpx.post(endpoint, content=canonical_json(event), timeout=timeout,
                              headers={"Content-Type": "application/json"})
    except httpx.HTTPError as exc:
        return None, f"http: POST {endpoint} failed: {type(exc).__name__}: {exc}"
    if response.status_code >= 300:
        return response.status_code, (f"http: POST {endpoint} answered "
                                      f"{response.status_code}: {response.text[:200]}")
    return response.status_code, None
