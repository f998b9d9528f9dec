"""JSON responses written through the project's one codec (``"inf"``, NaN as ``null``)."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from governance.core import jsonsafe


class CodecJSONResponse(JSONResponse):
    """A ``JSONResponse`` whose infinities are ``"inf"`` and whose NaN is ``null``.

    Starlette's own refuses NaN and infinity (``allow_nan=False``), and pydantic's fast
    path would write them as ``null``; an epsilon of infinity must survive as ``"inf"``.
    """

    def render(self, content: Any) -> bytes:
        """Encode ``content`` with ``governance.core.jsonsafe``."""
        return jsonsafe.dumps(content, sort_keys=False).encode("utf-8")
