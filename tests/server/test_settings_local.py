"""Settings from the environment, and `python -m server` as someone runs it on a laptop."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from server.settings import SettingsError, check, from_env
from tests.procfile import ROOT, free_port
from tests.server.helpers import FAST_2D
from tests.server.sse_client import stream_until_done


def test_defaults():
    config = from_env({})
    assert config["PORT"] == 5000 and config["DATABASE"] is None
    assert config["WORKERS"] == (os.cpu_count() or 1) and config["QUEUE_SIZE"] == 16
    assert config["MAX_CONTENT_LENGTH"] == 1_000_000 and config["SSE_HEARTBEAT"] == 15.0
    assert config["PRELOAD_MNIST"] is False


def test_values_from_the_environment():
    config = from_env(
        {"PORT": "8080", "PLAYGROUND_WORKERS": "3", "PLAYGROUND_HEARTBEAT": "2.5", "PLAYGROUND_DB": "/x.db"}
    )
    assert (config["PORT"], config["WORKERS"], config["SSE_HEARTBEAT"], config["DATABASE"]) == (
        8080,
        3,
        2.5,
        "/x.db",
    )
    assert from_env({"PLAYGROUND_PRELOAD_MNIST": "1"})["PRELOAD_MNIST"] is True


def test_bad_values_name_the_variable():
    with pytest.raises(
        SettingsError, match="PLAYGROUND_WORKERS='many' is not valid: expected a whole number"
    ):
        from_env({"PLAYGROUND_WORKERS": "many"})
    with pytest.raises(SettingsError, match="PLAYGROUND_WORKERS .* must be at least 1"):
        check({**from_env({}), "WORKERS": 0})
    with pytest.raises(SettingsError, match="PLAYGROUND_POLL"):
        check({**from_env({}), "SSE_POLL": float("nan")})


def test_database_url_takes_the_schemes_platforms_hand_out():
    for given in ("postgres://u:secret@db.example:5432/app", "postgresql://u:secret@db.example:5432/app"):
        url = from_env({"DATABASE_URL": given})["DATABASE_URL"]
        assert (
            url.render_as_string(hide_password=False) == "postgresql+psycopg://u:secret@db.example:5432/app"
        )
    assert from_env({})["DATABASE_URL"] is None  # SQLite at PLAYGROUND_DB


@pytest.mark.parametrize(
    "value", ["mysql://u:secret@db.example/app", "postgres:///no-host", "not a url secret"]
)
def test_a_bad_database_url_is_refused_without_showing_it(value):
    with pytest.raises(SettingsError, match="DATABASE_URL=.* expected a PostgreSQL URL") as error:
        from_env({"DATABASE_URL": value})
    assert "secret" not in str(error.value)


def start_local(db: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "PORT": str(port), "PLAYGROUND_DB": str(db)}
    return subprocess.Popen(
        [sys.executable, "-m", "server"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_python_m_server_serves_trains_and_stops_cleanly(tmp_path):
    port = free_port()
    process = start_local(tmp_path / "local.sqlite3", port)
    try:
        assert f"http://127.0.0.1:{port}" in process.stdout.readline()
        base = f"http://127.0.0.1:{port}"
        assert json.loads(urllib.request.urlopen(base + "/healthz").read())["ok"] is True
        request = urllib.request.Request(base + "/api/runs", data=json.dumps(FAST_2D).encode(), method="POST")
        created = json.loads(urllib.request.urlopen(request).read())
        events = stream_until_done(base + created["events"])
        assert [e.id for e in events if e.event == "epoch"] == ["1", "2", "3", "4", "5"]
        with socket.create_connection(("127.0.0.1", port)):  # only loopback: 127.0.0.1 is what it binds
            pass
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    with sqlite3.connect(tmp_path / "local.sqlite3") as db:
        assert db.execute("SELECT COUNT(*) FROM owners").fetchone()[0] == 0  # it said goodbye
        assert db.execute("SELECT status FROM runs").fetchall() == [("done",)]


def test_python_m_server_explains_a_busy_port(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = start_local(tmp_path / "local.sqlite3", port)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 1
    with sqlite3.connect(tmp_path / "local.sqlite3") as db:
        assert db.execute("SELECT COUNT(*) FROM owners").fetchone()[0] == 0
    assert f"Cannot listen on 127.0.0.1:{port}" in output and f"PORT={port + 1}" in output
