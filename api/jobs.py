"""Background run execution, owned by the application's lifespan.

One worker thread per API process executes queued runs in submission order
(``execute_run`` persists progress on the run row; ``GET /v1/runs/{id}`` reads it).
The pool is created when the app starts and shut down when it stops, so tests and
servers never leak a module-level thread.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request

from governance.services.context import Governance
from governance.services.runs.execute import execute_run

log = logging.getLogger(__name__)


class RunJobs:
    """A single-worker queue of runs to execute."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="run")

    def submit(self, gov: Governance, run_id: str) -> None:
        """Queue a run; failures are recorded on the run by ``execute_run``."""
        self._pool.submit(self._execute, gov, run_id)

    @staticmethod
    def _execute(gov: Governance, run_id: str) -> None:
        try:
            execute_run(gov, run_id)
        except Exception:  # recorded on the run (status failed, error) by execute_run
            log.warning("run %s failed; its record holds the error", run_id)

    def shutdown(self) -> None:
        """Stop taking runs and wait for the one in hand."""
        self._pool.shutdown(wait=True, cancel_futures=True)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Create the run queue when the app starts; drain it when the app stops."""
    app.state.jobs = RunJobs()
    try:
        yield
    finally:
        app.state.jobs.shutdown()


def get_jobs(request: Request) -> RunJobs:
    """The app's run queue (a dependency)."""
    jobs: RunJobs = request.app.state.jobs
    return jobs
