"""Security headers on every response, set by one ASGI middleware.

Every response gets ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``,
``Referrer-Policy: no-referrer`` and, unless the route set its own (the HTML report, the
docs page), a Content Security Policy for JSON: ``default-src 'none'; frame-ancestors
'none'``. Responses under ``/v1`` are never cached (``Cache-Control: no-store``): they
carry private metadata and released data.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The policy of every response that does not set its own.
JSON_CSP = "default-src 'none'; frame-ancestors 'none'"


def security_headers(path: str) -> dict[str, str]:
    """The headers a response to ``path`` carries (a route's own values take precedence)."""
    headers = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
               "Referrer-Policy": "no-referrer", "Content-Security-Policy": JSON_CSP}
    if path == "/v1" or path.startswith("/v1/"):
        headers["Cache-Control"] = "no-store"
    return headers


class SecurityHeadersMiddleware:
    """Add ``security_headers`` to each HTTP response that does not already set them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers to the response's start message."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = security_headers(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
