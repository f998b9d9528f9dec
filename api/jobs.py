"""Background run execution, owned by the application's lifespan.

One worker thread per API process executes queued runs in submission order
(``execute_run`` persists progress on the run row; ``GET /v1/runs/{id}`` reads it).
The pool is created when the app starts and shut down when it stops, so tests and
servers never leak a module-level thread.

Runs hold a lease while they execute (``services.runs.leases``). At start-up the app
queues every run nobody executes (queued ones, and running ones whose lease expired,
e.g. after a crash), and a sweeper thread repeats that for expired leases once per
lease term; the lease decides which process executes a run, so a run picked up twice
still trains once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request

from governance.core.errors import ConflictError
from governance.services.context import Governance
from governance.services.runs.execute import execute_run
from governance.services.runs.leases import recoverable_runs

log = logging.getLogger(__name__)


class RunJobs:
    """A single-worker queue of runs to execute (a run is queued at most once at a time)."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="run")
        self._pending: set[str] = set()
        self._lock = threading.Lock()

    def submit(self, gov: Governance, run_id: str, *, resumed_by: str | None = None) -> bool:
        """Queue a run unless it is already waiting here; failures land on the run record.

        ``resumed_by`` names who asked for a resume (recorded in ``run.started``).
        """
        with self._lock:
            if run_id in self._pending:
                return False
            self._pending.add(run_id)
        self._pool.submit(self._execute, gov, run_id, resumed_by)
        return True

    def _execute(self, gov: Governance, run_id: str, resumed_by: str | None) -> None:
        try:
            execute_run(gov, run_id, resumed_by=resumed_by)
        except ConflictError:  # another process holds the run's lease; it will finish it
            log.info("run %s is executed elsewhere", run_id)
        except Exception:  # recorded on the run (status failed, error) by execute_run
            log.warning("run %s failed; its record holds the error", run_id)
        finally:
            with self._lock:
                self._pending.discard(run_id)

    def recover(self, gov: Governance, *, queued: bool) -> int:
        """Queue the runs nobody executes; returns how many were queued."""
        return sum(self.submit(gov, run_id, resumed_by="runner")
                   for run_id in recoverable_runs(gov, queued=queued))

    def shutdown(self) -> None:
        """Stop taking runs and wait for the one in hand."""
        self._pool.shutdown(wait=True, cancel_futures=True)


class Sweeper:
    """Once per lease term, queue runs whose executor died (their lease expired)."""

    def __init__(self, jobs: RunJobs, gov_factory: Callable[[], Governance]) -> None:
        self.jobs, self.gov_factory = jobs, gov_factory
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="run-sweeper", daemon=True)

    def start(self) -> None:
        """Recover what an earlier process left behind (queued runs too), then keep watching."""
        try:
            self.jobs.recover(self.gov_factory(), queued=True)
        except Exception:  # noqa: BLE001 - the store may be down; the sweeper tries again
            log.warning("could not look for interrupted runs at start-up", exc_info=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval()):
            try:
                self.jobs.recover(self.gov_factory(), queued=False)
            except Exception:  # noqa: BLE001 - the store may be down; try again next term
                log.warning("could not look for interrupted runs", exc_info=True)

    def _interval(self) -> float:
        try:
            return float(self.gov_factory().settings.run_lease_seconds)
        except Exception:  # noqa: BLE001 - settings unreadable: look again in a minute
            return 60.0

    def stop(self) -> None:
        """Stop watching."""
        self._stop.set()
        self._thread.join(timeout=30)


def _governance(app: FastAPI) -> Callable[[], Governance]:
    """How the app builds its service context (honouring dependency overrides)."""
    from api.deps import get_governance
    from governance.core.config import get_settings

    def build() -> Governance:
        override = app.dependency_overrides.get(get_governance)
        if override is not None:
            gov: Governance = override()
            return gov
        settings = app.dependency_overrides.get(get_settings, get_settings)()
        return get_governance(settings)

    return build


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Create the run queue and its sweeper when the app starts; drain them when it stops."""
    app.state.jobs = RunJobs()
    sweeper = Sweeper(app.state.jobs, _governance(app))
    sweeper.start()
    try:
        yield
    finally:
        sweeper.stop()
        app.state.jobs.shutdown()


def get_jobs(request: Request) -> RunJobs:
    """The app's run queue (a dependency)."""
    jobs: RunJobs = request.app.state.jobs
    return jobs
