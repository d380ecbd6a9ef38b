"""The throwaway servers of tests/services.py: they answer on loopback, and are gone once removed."""

from __future__ import annotations

import socket

from tests.services import Postgres, Redis, start_postgres


def test_the_postgres_server_answers_and_each_database_is_new(postgres_server: Postgres):
    url = postgres_server.create_database()
    try:
        database = url.rsplit("/", 1)[1]
        with postgres_server.connect(database) as connection:
            assert connection.execute("SELECT current_database()").fetchone() == (database,)
            assert connection.execute(
                "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'"
            ).fetchone() == (0,)
            assert connection.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)
    finally:
        postgres_server.drop_database(url)


def test_the_redis_server_answers_on_loopback_without_persistence(redis_server: Redis):
    assert redis_server.url == f"redis://127.0.0.1:{redis_server.port}/0"
    with socket.create_connection(("127.0.0.1", redis_server.port), timeout=5) as sock:
        sock.sendall(b"CONFIG GET save\r\nCONFIG GET appendonly\r\n")
        answer = b""
        while answer.count(b"\r\n") < 8:
            answer += sock.recv(1024)
    assert answer == b"*2\r\n$4\r\nsave\r\n$0\r\n\r\n*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n"


def test_a_removed_postgres_server_is_stopped_and_its_folder_gone():
    server = start_postgres()
    server.remove()
    assert not server.folder.exists()
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", server.port)) != 0
