"""Crash recovery: which server processes are gone, and their runs ended `interrupted`.

Contract: `recover(store, me, stale_seconds)` interrupts the active runs of every dead process and
returns their ids; server.training_local calls it at start-up and from its keeper thread.

Runs belong to the process that trains them (each gunicorn worker has its own runner). A process is
named host:pid:token, where the token is fresh at every boot, and it writes a heartbeat into the store
every few seconds. Another process judges it dead when its heartbeat is stale, or at once when it ran
on the same host and its pid no longer exists. The pid check alone is not enough (pids get reused),
and the heartbeat alone would be slow after a crash; together they are quick and safe. The queued and
running runs of a dead process become `interrupted`, keeping their epochs.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from server.store import Store

INTERRUPTED_REASON = (
    "The server process training this run stopped (a crash or a restart); "
    "the epochs recorded so far are kept. Train it again to finish it."
)


@dataclass(frozen=True)
class Identity:
    host: str
    pid: int
    token: str

    @property
    def owner(self) -> str:
        return f"{self.host}:{self.pid}:{self.token}"

    @classmethod
    def of_this_process(cls) -> Identity:
        return cls(socket.gethostname(), os.getpid(), secrets.token_hex(4))


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host (a killed, unreaped zombie does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def is_dead(owner: str, row: dict | None, me: Identity, stale_seconds: float, now: float) -> bool:
    """Judge another process from its owners row (None: it never beat, or was already forgotten)."""
    if owner == me.owner:
        return False
    if row is None or now - row["heartbeat"] > stale_seconds:
        return True
    return row["host"] == me.host and not pid_alive(row["pid"])


def recover(store: Store, me: Identity, stale_seconds: float) -> list[str]:
    """Interrupt the active runs of dead processes and forget those processes; returns the run ids."""
    now = time.time()
    rows = store.owners()
    suspects = {owner for _, _, owner in store.active_runs()} | set(rows)
    interrupted: list[str] = []
    for owner in sorted(suspects):
        if is_dead(owner, rows.get(owner), me, stale_seconds, now):
            interrupted += store.interrupt(owner, INTERRUPTED_REASON)
    return interrupted
