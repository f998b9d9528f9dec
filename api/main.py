"""The FastAPI application: ``uvicorn api.main:app`` (or ``govern serve``)."""

from __future__ import annotations

from fastapi import FastAPI

from api import errors
from api.routes import audits, candidates, datasets, health, policies, releases, runs

app = FastAPI(
    title="synth-governance",
    version="0.1.0",
    description="Privacy-aware governance for synthetic tabular data. Authenticate with "
    "'Authorization: Bearer <key>' (create keys with `govern keys create`).",
)
errors.install(app)
for module in (health, datasets, runs, candidates, releases, audits, policies):
    app.include_router(module.router)
