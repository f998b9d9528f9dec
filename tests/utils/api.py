"""Factories for API tests: keys per role and authenticated headers."""

from __future__ import annotations

from governance.services.auth import create_api_key
from governance.services.context import Governance


def make_key(gov: Governance, name: str, role: str) -> dict[str, str]:
    """Create an API key and return the ``Authorization`` header for it."""
    with gov.session() as s:
        _key, secret = create_api_key(session=s, name=name, role=role, actor="test")
    return {"Authorization": f"Bearer {secret}"}


class RecordingJobs:
    """A stand-in for the API's run queue that only records: runs stay queued.

    Override ``api.jobs.get_jobs`` with it when a test submits runs but must not train.
    """

    def __init__(self) -> None:
        self.runs: list[str] = []

    def submit(self, _gov: Governance, run_id: str) -> None:
        """Record the run instead of executing it."""
        self.runs.append(run_id)
