"""HTTP requests from a chosen loopback address (127.0.0.x: loopback accepts the whole 127/8), so that a
test or a bench can be several clients of a real server at once (server.clients tells them apart by
address). `Client` keeps its connection open between requests: a flood of thousands of requests then
takes a few local ports, not one each (closed ones linger in TIME_WAIT, and a server started next on a
"free" port could find it taken)."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit


class Client:
    """One client at `source` talking to `url` (http://127.0.0.1:port) over one kept-alive connection."""

    def __init__(self, url: str, source: str = "127.0.0.1", timeout: float = 30) -> None:
        parts = urlsplit(url)
        self.host, self.port, self.source, self.timeout = parts.hostname, parts.port, source, timeout
        self.connection: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, body: object = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], object]:
        """(status, headers, JSON answer or raw text); a connection the server closed is opened again."""
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(
                    self.host, self.port, timeout=self.timeout, source_address=(self.source, 0)
                )
            try:
                data = None if body is None else json.dumps(body).encode()
                sent = {"Content-Type": "application/json", **(headers or {})}
                self.connection.request(method, path, body=data, headers=sent)
                response = self.connection.getresponse()
                raw = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 2:
                    raise
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        try:
            answer: object = json.loads(raw)
        except ValueError:
            answer = raw.decode("utf-8", "replace")
        return response.status, dict(response.getheaders()), answer

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def request(
    url: str,
    method: str,
    path: str,
    body: object = None,
    source: str = "127.0.0.1",
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> tuple[int, dict[str, str], object]:
    """One request from `source` on a connection of its own: (status, headers, JSON answer or text)."""
    client = Client(url, source, timeout)
    try:
        return client.request(method, path, body, headers)
    finally:
        client.close()
