"""Slow clients (issue 12, attack 3): slowloris and slow bodies against gunicorn as the Procfile starts it
(bound to every address, as when it faces the network without a buffering proxy)."""

from __future__ import annotations

import json
import socket
import time

import pytest

from tests.server.attack import connect, get

ATTACKER, VISITOR = "127.0.0.2", "127.0.0.3"
HEADER_SECONDS = 5  # the Procfile's --keep-alive: how long gunicorn's gevent worker waits for headers


def closed_by_server(sock: socket.socket) -> bool:
    try:
        sock.settimeout(0.01)
        return sock.recv(1) == b""
    except TimeoutError:
        return False
    except OSError:
        return True


@pytest.mark.stores("sqlite")
def test_slowloris_with_300_connections_neither_takes_the_page_down_nor_holds_a_connection(procfile_server):
    server = procfile_server()
    opened: dict[socket.socket, float] = {}

    def open_one() -> None:
        sock = connect(server.port, ATTACKER)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # headers never finish
        opened[sock] = time.monotonic()

    for _ in range(300):
        open_one()
    lifetimes, page_seconds = [], []
    deadline = time.monotonic() + 14
    next_line = time.monotonic() + 10
    try:
        while time.monotonic() < deadline:
            status, _, _, seconds = get(server.port, VISITOR, "/")
            assert status == 200
            page_seconds.append(seconds)
            status, _, _, _ = get(server.port, VISITOR, "/healthz")
            assert status == 200
            for sock, since in list(opened.items()):
                if closed_by_server(sock):
                    lifetimes.append(time.monotonic() - since)
                    sock.close()
                    del opened[sock]
                    open_one()  # the attacker keeps 300 open
            if time.monotonic() > next_line:  # one header line every 10 s on each
                for sock in opened:
                    try:
                        sock.sendall(b"X-Slow: 1\r\n")
                    except OSError:
                        pass
                next_line += 10
            time.sleep(0.2)
    finally:
        for sock in opened:
            sock.close()
    assert max(page_seconds) < 2, sorted(page_seconds)[-5:]
    # Every connection that held back its headers was closed after the time limit, not held.
    assert len(lifetimes) >= 300
    assert all(HEADER_SECONDS - 0.5 <= life < HEADER_SECONDS + 3 for life in lifetimes), sorted(lifetimes)


@pytest.mark.stores("sqlite")
def test_a_body_that_does_not_arrive_in_time_gets_408_with_a_sentence_and_the_connection_closes(
    procfile_server,
):
    server = procfile_server({"PLAYGROUND_BODY_SECONDS": "2"})
    with connect(server.port, ATTACKER) as sock:
        started = time.monotonic()
        sock.sendall(
            b"POST /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"dataset"'
        )
        data = b""
        while chunk := sock.recv(65536):  # the server closes the connection after its answer
            data += chunk
        seconds = time.monotonic() - started
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), head
    assert 1.5 <= seconds < 5, seconds
    error = json.loads(body)
    assert error == {"error": "The request body did not arrive within 2 s; send it at once.", "field": "body"}
    status, _, _, _ = get(server.port, VISITOR, "/healthz")
    assert status == 200
