"""HTTP requests from a chosen loopback address (127.0.0.x: loopback accepts the whole 127/8), so that a
test or a bench can be several clients of a real server at once (server.clients tells them apart by
address)."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit


def request(
    url: str,
    method: str,
    path: str,
    body: object = None,
    source: str = "127.0.0.1",
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> tuple[int, dict[str, str], object]:
    """(status, headers, JSON answer or raw text) of one request to `url` (http://127.0.0.1:port) sent
    from the address `source`."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(
        parts.hostname, parts.port, timeout=timeout, source_address=(source, 0)
    )
    try:
        data = None if body is None else json.dumps(body).encode()
        sent = {"Content-Type": "application/json", **(headers or {})}
        connection.request(method, path, body=data, headers=sent)
        response = connection.getresponse()
        raw = response.read()
        try:
            answer: object = json.loads(raw)
        except ValueError:
            answer = raw.decode("utf-8", "replace")
        return response.status, dict(response.getheaders()), answer
    finally:
        connection.close()
