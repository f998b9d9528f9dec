"""The FastAPI application: ``uvicorn api.main:app`` (or ``govern serve``)."""

from __future__ import annotations

from fastapi import Depends, FastAPI

from api import docs, errors
from api.deps import reject_unknown_query
from api.jobs import lifespan
from api.ratelimit import enforce_rate_limit
from api.responses import CodecJSONResponse
from api.routes import audits, candidates, datasets, health, keys, policies, releases, runs
from api.security import SecurityHeadersMiddleware

app = FastAPI(
    title="synth-governance",
    version="0.1.0",
    description="Privacy-aware governance for synthetic tabular data. Authenticate with "
    "'Authorization: Bearer <key>' (create keys with `govern keys create`). Every error is "
    "JSON {code, message}; /v1 requests are rate limited per key (429 with Retry-After).",
    lifespan=lifespan,
    default_response_class=CodecJSONResponse,
    # Served by api.docs, each only when the settings allow it.
    openapi_url=None, docs_url=None, redoc_url=None,
)
errors.install(app)
app.add_middleware(SecurityHeadersMiddleware)
app.include_router(health.router)
app.include_router(docs.router)
for module in (datasets, runs, candidates, releases, audits, policies, keys):
    app.include_router(module.router,
                       dependencies=[Depends(enforce_rate_limit), Depends(reject_unknown_query)],
                       responses=errors.COMMON_RESPONSES)
