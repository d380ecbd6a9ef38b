"""A clean SIGTERM with viewers (issue 12, attack 8): gunicorn as the Procfile starts it, a run training
and two dozen viewers on both workers; SIGTERM to gunicorn's master, as a platform stops a process."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from server.training_local import SHUTDOWN_REASON
from tests.server.helpers import SLOW_2D, SMALL_MNIST, sql, start, wait_for
from tests.server.sse_client import Event, SocketStream

GRACE_SECONDS = 10  # the Procfile's --graceful-timeout


LONG_MNIST = {**SMALL_MNIST, "hidden": [512, 512], "batch_size": 8, "epochs": 50}  # long epochs


@pytest.mark.stores("sqlite")
@pytest.mark.parametrize("config", [SLOW_2D, LONG_MNIST])
def test_sigterm_with_24_viewers_ends_the_run_interrupted_and_sends_every_viewer_status_and_done(
    procfile_server, config
):
    server = procfile_server({"PLAYGROUND_CLIENT_STREAMS": "100"})  # the viewers are all one client
    run = start(server, config)
    wait_for(server, run["id"], lambda r: r["status"] == "running")
    seen: list[list[Event]] = [[] for _ in range(24)]
    connected = threading.Barrier(25, timeout=30)

    def view(events: list[Event]) -> None:
        stream = SocketStream(server.url + run["events"], timeout=30)
        try:
            assert stream.response.status == 200
            connected.wait()
            events.extend(stream.events())  # to the end of the response
        finally:
            stream.close()

    viewers = [threading.Thread(target=view, args=(events,)) for events in seen]
    for viewer in viewers:
        viewer.start()
    connected.wait()
    time.sleep(1.0)  # every viewer's stream is past its replay
    started = time.monotonic()
    os.kill(server.pid, signal.SIGTERM)
    server.process.wait(timeout=GRACE_SECONDS + 5)
    exited = time.monotonic() - started
    server.stopped = True
    for viewer in viewers:
        viewer.join(timeout=5)

    assert server.process.returncode == 0, server.log_tail()
    assert exited < GRACE_SECONDS / 2, exited  # well inside the grace period: nobody was killed
    assert "graceful timeout" not in server.log.read_text()
    for events in seen:
        named = [event for event in events if event.event]
        assert [event.event for event in named[-2:]] == ["status", "done"], [e.event for e in named]
        assert named[-2].json() == {"status": "interrupted", "reason": SHUTDOWN_REASON}
        assert named[-1].json() == {"status": "interrupted", "reason": SHUTDOWN_REASON}
    assert sql(server.db, "SELECT status, reason FROM runs WHERE id = :id", id=run["id"]) == [
        ("interrupted", SHUTDOWN_REASON)
    ]
