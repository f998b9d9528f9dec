"""The per-source privacy budget ledger.

Every private candidate charges its source dataset exactly once: the charge carries
the candidate's idempotency key, so a resumed or retried run never pays twice. The
ledger composes charges with basic composition (epsilons add, deltas add), which is
valid for any mix of mechanisms; it is loose, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from governance.core.types import Principal
from governance.policy.loader import LoadedPolicy
from governance.schemas.datasets import BudgetPublic
from governance.services.context import Governance
from governance.services.datasets import get_dataset
from governance.store.auditlog import append_event
from governance.store.models import BudgetCharge, new_id


@dataclass(frozen=True)
class BudgetSummary:
    """What a dataset has spent under basic composition."""

    dataset_id: str
    epsilon_spent: float
    delta_spent: float
    charges: int
    composition: str = "basic (sum of epsilons and of deltas)"


def charge(
    *, session: Session, dataset_id: str, key: str, candidate_id: str | None, epsilon: float,
    delta: float,
) -> BudgetCharge:
    """Charge a candidate's spend once; a repeated key returns the existing charge."""
    existing = session.exec(select(BudgetCharge).where(BudgetCharge.idempotency_key == key)).first()
    if existing is not None:
        return existing
    row = BudgetCharge(id=new_id("chg"), dataset_id=dataset_id, idempotency_key=key,
                       candidate_id=candidate_id, epsilon=float(epsilon), delta=float(delta))
    session.add(row)
    session.flush()
    append_event(session=session, kind="budget.charged", actor="runner", subject=dataset_id,
                 payload={"candidate_id": candidate_id, "key": key, "epsilon": epsilon,
                          "delta": delta})
    return row


def summarize(session: Session, *, dataset_id: str) -> BudgetSummary:
    """Total spend of a dataset."""
    rows = session.exec(select(BudgetCharge).where(BudgetCharge.dataset_id == dataset_id)).all()
    return BudgetSummary(dataset_id, sum(r.epsilon for r in rows), sum(r.delta for r in rows),
                         len(rows))


def remaining_budget(session: Session, *, dataset_id: str, total: float) -> float:
    """Epsilon left of ``total`` under basic composition (never negative)."""
    return max(0.0, total - summarize(session, dataset_id=dataset_id).epsilon_spent)


def budget_report(gov: Governance, *, dataset: str, policy: LoadedPolicy) -> dict[str, Any]:
    """A dataset's spend against a policy's ``max_total_epsilon`` (``govern budget``)."""
    with gov.session() as s:
        ds = get_dataset(s, dataset)
        summ = summarize(s, dataset_id=ds.id)
    limit = policy.policy.risk.max_total_epsilon
    return {"dataset_id": ds.id, "name": ds.name, "epsilon_spent": summ.epsilon_spent,
            "delta_spent": summ.delta_spent, "charges": summ.charges,
            "composition": summ.composition, "policy": policy.policy.name,
            "max_total_epsilon": limit, "epsilon_left": max(0.0, limit - summ.epsilon_spent)}


def budget_public(gov: Governance, dataset: str,
                  viewer: Principal | None = None) -> BudgetPublic:
    """A dataset's ledger under basic composition (``GET /v1/datasets/{id}/budget``).

    Raises:
        NotFoundError: no such dataset, or one the viewer may not see.
    """
    with gov.session() as s:
        ds = get_dataset(s, dataset, viewer)
        summ = summarize(s, dataset_id=ds.id)
    return BudgetPublic(dataset_id=ds.id, epsilon_spent=summ.epsilon_spent,
                        delta_spent=summ.delta_spent, charges=summ.charges,
                        composition=summ.composition)
