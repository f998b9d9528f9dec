"""Where OpenLineage events go: injectable sinks, and delivery that never raises.

A sink is any object with ``name`` and ``send(event)``; ``FileSink`` appends one JSON
line per event (one ``write`` on an ``O_APPEND`` descriptor, then ``fsync``) and
``HttpSink`` POSTs to a Marquez-style ``{url}/api/v1/lineage`` through an
``httpx.Client`` it is handed (tests hand it one with a mock transport). ``deliver``
sends to every sink; a failure is logged, appended to a "failed" sink with the event
(for replay) and returned in ``EmitResult``.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

from governance.core.jsonsafe import canonical_json
from governance.lineage.openlineage import now

log = logging.getLogger(__name__)
_LOCK = threading.Lock()


class LineageSink(Protocol):
    """Anything events can be sent to."""

    name: str

    def send(self, event: dict[str, Any]) -> int | None:
        """Deliver one event; return an HTTP status where there is one.

        Raises:
            OSError or httpx.HTTPError: when delivery failed (``deliver`` records it).
        """
        ...


class DeliveryError(OSError):
    """A sink answered but refused the event (``status`` is its answer)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class FileSink:
    """Append events as JSON lines to one file."""

    name = "file"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def send(self, event: dict[str, Any]) -> None:
        """Append one event as one line, in one write, flushed to disk."""
        data = canonical_json(event) + b"\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _LOCK:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                written = os.write(fd, data)
                if written != len(data):
                    raise OSError(f"short write ({written} of {len(data)} bytes)")
                os.fsync(fd)
            finally:
                os.close(fd)


class HttpSink:
    """POST events to ``{base_url}/api/v1/lineage`` (Marquez) with a given client."""

    name = "http"

    def __init__(self, base_url: str, *, client: httpx.Client | None = None,
                 timeout: float = 5.0) -> None:
        self.endpoint = base_url.rstrip("/") + "/api/v1/lineage"
        self.client = client or httpx.Client(timeout=timeout)

    def send(self, event: dict[str, Any]) -> int:
        """POST one event; a status of 300 or more is a failure."""
        response = self.client.post(self.endpoint, content=canonical_json(event),
                                    headers={"Content-Type": "application/json"})
        if response.status_code >= 300:
            raise DeliveryError(f"POST {self.endpoint} answered {response.status_code}: "
                                f"{response.text[:200]}", status=response.status_code)
        return response.status_code


@dataclass(frozen=True)
class EmitResult:
    """What happened to one event.

    Attributes:
        event: the OpenLineage document.
        file: the JSON-lines file it was appended to, None if that failed or no file sink.
        http_status: the HTTP status of the POST, None when no HTTP sink or no response.
        errors: every sink failure, empty when all sinks succeeded.
    """

    event: dict[str, Any]
    file: Path | None
    http_status: int | None = None
    errors: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether every sink delivered the event."""
        return not self.errors


def deliver(event: dict[str, Any], sinks: Sequence[LineageSink], *,
            failed: FileSink | None = None) -> EmitResult:
    """Send ``event`` to every sink; record failures in ``failed``; never raise."""
    errors: list[str] = []
    file: Path | None = None
    status: int | None = None
    for sink in sinks:
        try:
            answer = sink.send(event)
        except DeliveryError as exc:
            errors.append(f"{sink.name}: {exc}")
            status = exc.status
            continue
        except (OSError, httpx.HTTPError) as exc:
            errors.append(f"{sink.name}: {type(exc).__name__}: {exc}")
            continue
        if isinstance(sink, FileSink):
            file = sink.path
        if answer is not None:
            status = answer
    if errors:
        log.warning("OpenLineage delivery failed: %s", "; ".join(errors))
        if failed is not None:
            try:
                failed.send({"failedAt": now(), "errors": errors, "event": event})
            except OSError:
                log.exception("could not record the failed OpenLineage event")
    return EmitResult(event=event, file=file, http_status=status, errors=tuple(errors))
