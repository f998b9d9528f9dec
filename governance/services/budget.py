"""The per-dataset privacy budget: reserved at submission, charged at generation.

A dataset's budget (``Dataset.budget_epsilon``) starts at the ``max_total_epsilon`` of the
policy it was registered under; afterwards only its owner or an admin changes it
(``set_budget``). A run reserves its whole grid, the sum of its private candidates'
target epsilons, when it is submitted (``reserve_grid``). Each private candidate then
charges what its accountant actually spent (``charge``), which settles its reservation;
what a failed candidate or an ended run did not spend is released
(``release_reservations``). Every step first locks the dataset's row (``SELECT ... FOR
UPDATE`` on PostgreSQL; on SQLite the transaction already holds the write lock from
``BEGIN IMMEDIATE``), so each check and its write are one atomic step, and at every commit

    charged + held <= budget

where ``held`` counts the ``held`` reservations of runs that have not ended (a run that
ended without releasing, however it ended, holds nothing). A charge that does not fit what
is left, its own reservation counted as available, is refused with
``BudgetExceededError`` and nothing is charged.

Lock order: the dataset row first, then the audit head; so call these before appending
audit events in the same transaction.

Charges are idempotent per candidate key, so a resumed or retried run never pays twice.
The ledger composes charges with basic composition (epsilons add, deltas add), which is
valid for any mix of mechanisms; it is loose, and says so.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from governance.core.errors import BudgetExceededError, ConflictError, InputError, NotFoundError
from governance.core.types import Principal, RunStatus
from governance.schemas.datasets import BudgetPublic
from governance.services.context import Governance
from governance.services.datasets import get_dataset
from governance.services.permissions import check_manage_dataset
from governance.store.auditlog import append_event
from governance.store.models import (
    BudgetCharge,
    BudgetReservation,
    Dataset,
    Run,
    new_id,
    utcnow,
)

COMPOSITION = "basic (sum of epsilons and of deltas)"
#: Runs in these states hold nothing, whatever their reservation rows still say.
ENDED_RUNS = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)
#: Slack for float sums (a grid that fits exactly must not be refused by rounding).
TOLERANCE = 1e-9
HELD, CHARGED, RELEASED = "held", "charged", "released"


@dataclass(frozen=True)
class BudgetSummary:
    """A dataset's budget, what was charged and what queued or running runs hold."""

    dataset_id: str
    epsilon_budget: float
    epsilon_spent: float
    epsilon_reserved: float
    delta_spent: float
    charges: int
    reservations: int
    composition: str = COMPOSITION

    @property
    def epsilon_left(self) -> float:
        """What a new run may still reserve (never negative)."""
        return max(0.0, self.epsilon_budget - self.epsilon_spent - self.epsilon_reserved)


@dataclass(frozen=True)
class GridReservation:
    """What ``reserve_grid`` held for a run, and what was left before it."""

    epsilon: float
    candidates: int
    epsilon_left_before: float
    epsilon_budget: float


def lock_dataset(session: Session, dataset_id: str) -> Dataset:
    """The dataset's row, locked until the transaction ends, with its newest values.

    Raises:
        NotFoundError: no such dataset.
    """
    ds = session.exec(select(Dataset).where(Dataset.id == dataset_id).with_for_update()
                      .execution_options(populate_existing=True)).first()
    if ds is None:
        raise NotFoundError(f"no dataset {dataset_id!r}")
    return ds


def _held(session: Session, dataset_id: str) -> Sequence[BudgetReservation]:
    """Held reservations of runs that have not ended."""
    return session.exec(
        select(BudgetReservation)
        .join(Run, col(Run.id) == col(BudgetReservation.run_id), isouter=True)
        .where(BudgetReservation.dataset_id == dataset_id, BudgetReservation.status == HELD,
               or_(col(Run.status).is_(None), col(Run.status).not_in(ENDED_RUNS)))
    ).all()


def summarize(session: Session, *, dataset_id: str) -> BudgetSummary:
    """A dataset's budget, total charges and held reservations.

    Raises:
        NotFoundError: no such dataset.
    """
    ds = session.get(Dataset, dataset_id)
    if ds is None:
        raise NotFoundError(f"no dataset {dataset_id!r}")
    eps, delta, n = session.exec(
        select(func.coalesce(func.sum(BudgetCharge.epsilon), 0.0),
               func.coalesce(func.sum(BudgetCharge.delta), 0.0), func.count())
        .where(BudgetCharge.dataset_id == dataset_id)).one()
    held = _held(session, dataset_id)
    return BudgetSummary(dataset_id=ds.id, epsilon_budget=float(ds.budget_epsilon),
                         epsilon_spent=float(eps), delta_spent=float(delta), charges=int(n),
                         epsilon_reserved=sum(r.epsilon for r in held), reservations=len(held))


def _exceeded(ds: Dataset, summ: BudgetSummary, *, needed: float, left: float,
              what: str, then: str) -> BudgetExceededError:
    return BudgetExceededError(
        f"{what} needs epsilon {needed:g} but dataset {ds.name!r} has {left:g} left of its "
        f"{summ.epsilon_budget:g} ({summ.epsilon_spent:g} spent, {summ.epsilon_reserved:g} "
        f"reserved by queued or running runs); {then}",
        details={"epsilon_budget": summ.epsilon_budget, "epsilon_left": left,
                 "epsilon_needed": needed})


def reserve_grid(session: Session, *, dataset: Dataset, run_id: str,
                 epsilons: Mapping[str, float], actor: str) -> GridReservation:
    """Hold a run's whole grid against its dataset's budget, atomically.

    Args:
        session: the submission's transaction (nothing else may be locked before).
        dataset: the run's dataset.
        run_id: the run being submitted.
        epsilons: each candidate's idempotency key and target epsilon; non-private
            (infinite) targets hold nothing.
        actor: who submits the run.

    Raises:
        BudgetExceededError: the grid does not fit in what is left; nothing is held.
    """
    ds = lock_dataset(session, dataset.id)
    _release_ended(session, ds.id)
    summ = summarize(session, dataset_id=ds.id)
    private = {key: float(eps) for key, eps in epsilons.items() if math.isfinite(eps)}
    needed, left = sum(private.values()), summ.epsilon_left
    if needed > left + TOLERANCE:
        raise _exceeded(ds, summ, needed=needed, left=left, what="the grid",
                        then="run fewer or smaller budgets, or ask the dataset's owner to "
                             "raise its budget")
    for key, eps in private.items():
        session.add(BudgetReservation(id=new_id("rsv"), dataset_id=ds.id, run_id=run_id,
                                      idempotency_key=key, epsilon=eps))
    if private:
        session.flush()
        append_event(session=session, kind="budget.reserved", actor=actor, subject=ds.id,
                     payload={"run_id": run_id, "epsilon": needed, "candidates": len(private),
                              "epsilon_budget": summ.epsilon_budget,
                              "epsilon_left": max(0.0, left - needed)})
    return GridReservation(epsilon=needed, candidates=len(private), epsilon_left_before=left,
                           epsilon_budget=summ.epsilon_budget)


def charge(
    *, session: Session, dataset_id: str, key: str, candidate_id: str | None, epsilon: float,
    delta: float,
) -> BudgetCharge:
    """Charge a candidate's spend once, if it fits; a repeated key returns the existing charge.

    The candidate's own held reservation counts as available, so a candidate that spends
    what it reserved always fits.

    Raises:
        BudgetExceededError: the spend does not fit what is left; nothing is charged (the
            caller fails the candidate and releases its reservation).
    """
    ds = lock_dataset(session, dataset_id)
    existing = session.exec(select(BudgetCharge).where(BudgetCharge.idempotency_key == key)).first()
    if existing is not None:
        return existing
    summ = summarize(session, dataset_id=dataset_id)
    own = session.exec(select(BudgetReservation)
                       .where(BudgetReservation.idempotency_key == key)).first()
    mine = sum(r.epsilon for r in _held(session, dataset_id) if r.idempotency_key == key)
    left = summ.epsilon_budget - summ.epsilon_spent - summ.epsilon_reserved + mine
    if float(epsilon) > left + TOLERANCE:
        raise _exceeded(ds, summ, needed=float(epsilon), left=max(0.0, left),
                        what=f"candidate {candidate_id or key}",
                        then="nothing was charged and the candidate is failed")
    row = BudgetCharge(id=new_id("chg"), dataset_id=dataset_id, idempotency_key=key,
                       candidate_id=candidate_id, epsilon=float(epsilon), delta=float(delta))
    session.add(row)
    if own is not None and own.status == HELD:
        own.status, own.settled_at = CHARGED, utcnow()
        session.add(own)
    session.flush()
    append_event(session=session, kind="budget.charged", actor="runner", subject=dataset_id,
                 payload={"candidate_id": candidate_id, "key": key, "epsilon": epsilon,
                          "delta": delta, "reserved": own.epsilon if own is not None else None})
    return row


def release_reservations(session: Session, *, run_id: str, reason: str,
                         keys: Collection[str] | None = None) -> float:
    """Release what a run (or some of its candidates, by key) still holds; return it.

    Idempotent: only ``held`` reservations are released, each once.
    """
    query = select(BudgetReservation).where(BudgetReservation.run_id == run_id,
                                            BudgetReservation.status == HELD)
    if keys is not None:
        query = query.where(col(BudgetReservation.idempotency_key).in_(list(keys)))
    first = session.exec(query).first()
    if first is None:
        return 0.0
    lock_dataset(session, first.dataset_id)
    rows = session.exec(query.execution_options(populate_existing=True)).all()
    return _release(session, rows, run_id=run_id, reason=reason)


def _release(session: Session, rows: Sequence[BudgetReservation], *, run_id: str,
             reason: str) -> float:
    if not rows:
        return 0.0
    now = utcnow()
    for r in rows:
        r.status, r.settled_at = RELEASED, now
        session.add(r)
    total = sum(r.epsilon for r in rows)
    session.flush()
    append_event(session=session, kind="budget.released", actor="runner",
                 subject=rows[0].dataset_id,
                 payload={"run_id": run_id, "epsilon": total, "candidates": len(rows),
                          "keys": sorted(r.idempotency_key for r in rows), "reason": reason})
    return total


def _release_ended(session: Session, dataset_id: str) -> None:
    """Release held reservations of runs that ended without releasing them (dataset locked)."""
    rows = session.exec(
        select(BudgetReservation).join(Run, col(Run.id) == col(BudgetReservation.run_id))
        .where(BudgetReservation.dataset_id == dataset_id, BudgetReservation.status == HELD,
               col(Run.status).in_(ENDED_RUNS))).all()
    by_run: dict[str, list[BudgetReservation]] = {}
    for r in rows:
        by_run.setdefault(r.run_id, []).append(r)
    for run_id, held in sorted(by_run.items()):
        _release(session, held, run_id=run_id, reason="the run ended")


def _public(ds: Dataset, summ: BudgetSummary) -> BudgetPublic:
    return BudgetPublic(dataset_id=ds.id, name=ds.name, epsilon_budget=summ.epsilon_budget,
                        epsilon_spent=summ.epsilon_spent,
                        epsilon_reserved=summ.epsilon_reserved, epsilon_left=summ.epsilon_left,
                        delta_spent=summ.delta_spent, charges=summ.charges,
                        reservations=summ.reservations, composition=summ.composition)


def budget_public(gov: Governance, dataset: str,
                  viewer: Principal | None = None) -> BudgetPublic:
    """A dataset's budget and ledger (``GET /v1/datasets/{id}/budget``, ``govern budget show``).

    Raises:
        NotFoundError: no such dataset, or one the viewer may not see.
    """
    with gov.session() as s:
        ds = get_dataset(s, dataset, viewer)
        return _public(ds, summarize(s, dataset_id=ds.id))


def set_budget(gov: Governance, *, dataset: str, epsilon: float,
               actor: Principal) -> BudgetPublic:
    """Set a dataset's privacy budget (its owner or an admin); logged as ``budget.set``.

    Raises:
        InputError: a negative or non-finite epsilon.
        NotFoundError: no such dataset, or one the actor may not see.
        PermissionDeniedError: the actor is neither the dataset's owner nor an admin.
        ConflictError: the new budget is below what is already charged and reserved.
    """
    if not (math.isfinite(epsilon) and epsilon >= 0):
        raise InputError(f"a budget is a finite epsilon of 0 or more, not {epsilon!r}")
    with gov.session() as s:
        ds = check_manage_dataset(actor, get_dataset(s, dataset, actor))
        ds = lock_dataset(s, ds.id)
        summ = summarize(s, dataset_id=ds.id)
        committed = summ.epsilon_spent + summ.epsilon_reserved
        if epsilon + TOLERANCE < committed:
            raise ConflictError(
                f"dataset {ds.name!r} has epsilon {summ.epsilon_spent:g} spent and "
                f"{summ.epsilon_reserved:g} reserved by queued or running runs; its budget "
                f"cannot go below {committed:g} (cancel queued runs first to lower it further)")
        previous, ds.budget_epsilon = ds.budget_epsilon, float(epsilon)
        s.add(ds)
        s.flush()
        append_event(session=s, kind="budget.set", actor=actor.name, subject=ds.id,
                     payload={"epsilon": float(epsilon), "previous": previous,
                              "epsilon_spent": summ.epsilon_spent,
                              "epsilon_reserved": summ.epsilon_reserved})
        return _public(ds, summarize(s, dataset_id=ds.id))
