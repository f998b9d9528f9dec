"""Finding 2: uploads are authenticated before the body is read and never read past the limit.

The ASGI app is driven directly with a ``receive`` that counts the body bytes the server
pulls, so "not read" is measured on the server side, not guessed from timings. Parsing
runs off the event loop (``/healthz`` answers while an upload is parsed) and the number
of columns is capped by a setting.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pandas as pd

import governance.services.datasets as datasets_service
from api.main import app
from tests.utils.data import MIXED_SCHEMA, mixed_table
from tests.utils.hostile import assert_error_body, csv_bytes, files_under, upload

MIB = 1 << 20
BOUNDARY = "hostileboundary"


def _multipart(file_chunks: Iterator[bytes]) -> Iterator[bytes]:
    yield (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"infer_schema\"\r\n\r\n"
           f"true\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; "
           f"filename=\"big.csv\"\r\nContent-Type: text/csv\r\n\r\na,b\r\n").encode()
    yield from file_chunks
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def _rows(total: int) -> Iterator[bytes]:
    chunk = b"1,2\n" * (MIB // 4)
    for _ in range(total // MIB):
        yield chunk


class Counted:
    """An ASGI ``receive`` over a body iterator that counts what the server pulled."""

    def __init__(self, body: Iterator[bytes]) -> None:
        self.body, self.pulled = body, 0

    async def __call__(self) -> dict[str, Any]:
        chunk = next(self.body, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        self.pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}


def _post(receive: Counted, headers: dict[str, str]) -> tuple[int, bytes]:
    sent: dict[str, Any] = {"body": b""}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            sent["status"] = message["status"]
        elif message["type"] == "http.response.body":
            sent["body"] += message.get("body", b"")

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": "/v1/datasets",
             "raw_path": b"/v1/datasets", "root_path": "", "query_string": b"",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": ("127.0.0.1", 5000), "server": ("testserver", 80), "state": {}}
    asyncio.run(app(scope, receive, send))
    return sent["status"], sent["body"]


CONTENT_TYPE = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


def test_an_anonymous_upload_is_refused_before_its_body_is_read(client, gov, private_tmp):
    # Setup: 64 MiB offered, no key.
    receive = Counted(_multipart(_rows(64 * MIB)))
    # Run
    status, body = _post(receive, CONTENT_TYPE)
    # Assert
    assert status == 401, body[:300]
    assert receive.pulled == 0, f"the server read {receive.pulled} bytes before refusing"
    assert files_under(gov.settings.home / "uploads") == [] and files_under(private_tmp) == []


def test_a_declared_oversize_body_is_413_without_reading_it(client, headers, gov, private_tmp):
    # Setup: Content-Length says 10 GiB; 16 MiB are actually offered.
    receive = Counted(_multipart(_rows(16 * MIB)))
    hdr = {**CONTENT_TYPE, **headers["requester"], "Content-Length": str(10 << 30)}
    # Run
    status, body = _post(receive, hdr)
    # Assert
    assert status == 413, body[:300]
    assert b"payload_too_large" in body
    assert receive.pulled == 0, f"the server read {receive.pulled} bytes of a 10 GiB body"
    assert files_under(gov.settings.home / "uploads") == [] and files_under(private_tmp) == []


def test_a_chunked_body_stops_being_read_at_the_limit(client, headers, gov, private_tmp,
                                                      monkeypatch):
    # Setup: a 1 MiB limit; 64 MiB sent without a Content-Length.
    monkeypatch.setattr(gov.settings, "max_upload_bytes", MIB)
    receive = Counted(_multipart(_rows(64 * MIB)))
    # Run
    status, body = _post(receive, {**CONTENT_TYPE, **headers["requester"]})
    # Assert: refused, after reading at most the limit, its allowance for the schema and
    # the form's overhead, plus the one chunk that crossed it.
    assert status == 413, body[:300]
    assert receive.pulled <= 4 * MIB, f"the server read {receive.pulled} bytes"
    assert files_under(gov.settings.home / "uploads") == [] and files_under(private_tmp) == []


def test_healthz_answers_while_an_upload_is_being_parsed(client, headers, gov, monkeypatch):
    # Setup: the upload's parse waits (in the server) until /healthz has answered, or
    # 20 s; a parse that blocks the event loop makes /healthz wait for it instead.
    entered, proceed = threading.Event(), threading.Event()
    real = datasets_service.read_table

    def gated(*args: Any, **kwargs: Any) -> pd.DataFrame:
        entered.set()
        proceed.wait(timeout=20)
        return real(*args, **kwargs)

    monkeypatch.setattr(datasets_service, "read_table", gated)
    order: list[tuple[str, int]] = []
    content = csv_bytes(mixed_table(5000))

    def post() -> None:
        r = upload(client, headers["requester"], content=content, filename="big.csv",
                   schema=MIXED_SCHEMA.to_yaml(), name="big")
        order.append(("upload", r.status_code))

    thread = threading.Thread(target=post)
    thread.start()
    try:
        assert entered.wait(timeout=60), "the upload never reached its parse"
        # Run
        health = client.get("/healthz")
        order.append(("healthz", health.status_code))
    finally:
        proceed.set()
        thread.join(timeout=120)
    # Assert
    assert order == [("healthz", 200), ("upload", 201)]


def test_more_columns_than_the_setting_allows_is_refused(client, headers, gov):
    # Setup: 2,000 columns, far above the default cap.
    wide = pd.DataFrame({f"c{i}": range(20) for i in range(2000)})
    # Run
    r = upload(client, headers["requester"], content=csv_bytes(wide), filename="wide.csv",
               infer_schema=True)
    # Assert
    body = assert_error_body(r, 413)
    assert body["code"] == "too_many_columns"
    assert "2000 columns" in body["message"] and "GOVERNANCE_MAX_COLUMNS" in body["message"]


def test_the_column_cap_is_a_setting(client, headers, gov, monkeypatch):
    # Setup: a cap of 5 for the 6-column test table.
    monkeypatch.setattr(gov.settings, "max_columns", 5)
    # Run
    r = upload(client, headers["requester"], content=csv_bytes(mixed_table(100)),
               schema=MIXED_SCHEMA.to_yaml())
    # Assert
    body = assert_error_body(r, 413)
    assert "6 columns" in body["message"] and "limit of 5" in body["message"]
