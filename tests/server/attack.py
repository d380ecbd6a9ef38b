"""Clients of the attack tests, told apart by their source address: each binds its socket to its own
loopback address (127.0.0.x), which the server counts as a client of its own (server.clients)."""

from __future__ import annotations

import socket
import time
import urllib.parse


def connect(port: int, client: str, timeout: float = 10) -> socket.socket:
    """A TCP connection to the server on 127.0.0.1:port from the address `client` (say 127.0.0.2)."""
    return socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(client, 0))


def get(port: int, client: str, path: str, timeout: float = 10) -> tuple[int, dict[str, str], bytes, float]:
    """GET `path` as `client` on a connection of its own: (status, headers, body, seconds it took)."""
    started = time.monotonic()
    with connect(port, client, timeout) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding") == "chunked":
        body = unchunk(body)
    return int(lines[0].split()[1]), headers, body, time.monotonic() - started


def unchunk(body: bytes) -> bytes:
    out = b""
    while body:
        size, _, rest = body.partition(b"\r\n")
        length = int(size, 16)
        if length == 0:
            break
        out += rest[:length]
        body = rest[length + 2 :]
    return out


def open_stream(port: int, client: str, path: str, headers: str = "") -> socket.socket:
    """Send an event stream's GET and leave its answer unread."""
    sock = connect(port, client)
    sock.sendall(f"GET {urllib.parse.quote(path)} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n".encode())
    return sock


def status_of(sock: socket.socket, timeout: float = 10) -> int:
    """The status code of the answer on `sock` (its first line)."""
    sock.settimeout(timeout)
    line = b""
    while not line.endswith(b"\r\n"):
        chunk = sock.recv(1)
        if not chunk:
            raise AssertionError(f"the connection closed before a status line: {line!r}")
        line += chunk
    return int(line.split()[1])
