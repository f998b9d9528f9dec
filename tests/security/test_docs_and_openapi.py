"""Finding 6c: /docs and /openapi.json follow settings; the docs page works offline.

Defaults: ``/openapi.json`` is served (``GOVERNANCE_OPENAPI_ENABLED``); ``/docs`` only in
the development environment unless ``GOVERNANCE_DOCS_ENABLED`` says otherwise. The Swagger
UI script and stylesheet are served by the API itself, never from a CDN.
"""

from __future__ import annotations

import re

import pytest

from governance.core.config import Settings


def test_docs_use_local_assets_that_the_api_serves(client, gov):
    # Setup
    gov.settings.docs_enabled = True
    # Run
    page = client.get("/docs")
    # Assert
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert urls and all(u.startswith("/") for u in urls), urls
    for url in urls:
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 100
    assert "SwaggerUIBundle" in client.get(next(u for u in urls if u.endswith(".js"))).text


def test_unknown_assets_are_404(client, gov):
    # Setup
    gov.settings.docs_enabled = True
    # Run / Assert
    for name in ("../main.py", "LICENSE.bak", "%2e%2e%2fdeps.py"):
        assert client.get(f"/docs/assets/{name}").status_code == 404


@pytest.mark.parametrize(("environment", "docs", "openapi", "served"), [
    ("development", None, True, {"docs": 200, "openapi": 200}),
    ("production", None, True, {"docs": 404, "openapi": 200}),
    ("test", None, True, {"docs": 404, "openapi": 200}),
    ("production", True, True, {"docs": 200, "openapi": 200}),
    ("development", False, True, {"docs": 404, "openapi": 200}),
    ("development", None, False, {"docs": 404, "openapi": 404}),
])
def test_docs_and_openapi_follow_the_settings(client, gov, environment, docs, openapi, served):
    # Setup
    gov.settings.environment = environment
    gov.settings.docs_enabled = docs
    gov.settings.openapi_enabled = openapi
    # Run
    got = {"docs": client.get("/docs").status_code,
           "openapi": client.get("/openapi.json").status_code}
    # Assert
    assert got == served


def test_the_settings_come_from_the_environment(monkeypatch):
    # Setup
    monkeypatch.setenv("GOVERNANCE_DOCS_ENABLED", "false")
    monkeypatch.setenv("GOVERNANCE_OPENAPI_ENABLED", "false")
    # Run
    s = Settings()
    # Assert
    assert s.docs_enabled is False and s.openapi_enabled is False
