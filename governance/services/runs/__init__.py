"""Frontier runs: submission, execution, per-candidate evaluation and executors."""

from governance.services.runs.execute import execute_run, request_cancel
from governance.services.runs.submit import RunRequest, plan_grid, record_policy, submit_run

__all__ = ["RunRequest", "execute_run", "plan_grid", "record_policy", "request_cancel",
           "submit_run"]
