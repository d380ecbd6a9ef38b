"""Crash recovery: which server processes are gone, and their runs ended `interrupted`.

Contract: `recover(store, me, stale_seconds)` interrupts the active runs of every dead process and
returns their ids; a `Keeper` thread (one per process, started by server.training_local or
server.training_rq) calls it at start-up and every PLAYGROUND_STALE/5 seconds, with this process's
heartbeat and the mode's own chores.

Runs belong to the process that trains them (a gunicorn worker's training threads, or an RQ
worker). A process is named host:pid:token, where the token is fresh at every boot, and it writes a
heartbeat into the store every few seconds. Another process judges it dead when its heartbeat is
stale, or at once when it ran on the same host and its pid no longer exists. The pid check alone is
not enough (pids get reused), and the heartbeat alone would be slow after a crash; together they are
quick and safe. The queued and running runs of a dead process become `interrupted`, keeping their epochs.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from server.broadcast import STATUS, Broadcast
from server.green import Joinable, os_thread
from server.malloc import give_free_memory_back
from server.store import Store, StoreUnavailable

log = logging.getLogger(__name__)

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


def recover(store: Store, me: Identity, stale_seconds: float, spare: Collection[str] = ()) -> list[str]:
    """Interrupt the active runs of dead processes and forget those processes; returns the run ids.
    Owners in `spare` are not processes (the RQ queue's waiting runs) and are left alone."""
    now = time.time()
    rows = store.owners()
    suspects = ({owner for _, _, owner in store.active_runs()} | set(rows)) - set(spare)
    interrupted: list[str] = []
    for owner in sorted(suspects):
        if is_dead(owner, rows.get(owner), me, stale_seconds, now):
            interrupted += store.interrupt(owner, INTERRUPTED_REASON)
    return interrupted


class Keeper:
    """A thread that, every `stale_seconds`/5: writes this process's heartbeat (`beats`: it owns runs),
    interrupts the runs of dead processes (and tells their viewers), does the mode's `chores` and gives
    free memory back to the system.

    After the store was unavailable every process's heartbeat is old, so recovery then waits until
    they all had time to beat again: an outage of the database interrupts nobody.
    """

    def __init__(
        self,
        store: Store,
        me: Identity,
        stale_seconds: float,
        broadcast: Broadcast,
        chores: Sequence[Callable[[], None]] = (),
        beats: bool = True,
        spare: Collection[str] = (),
    ) -> None:
        self.store = store
        self.me = me
        self.stale_seconds = stale_seconds
        self.broadcast = broadcast
        self.chores = chores
        self.beats = beats
        self.spare = spare
        self._closing = threading.Event()
        self._thread: Joinable | None = None
        self._failed_at = -float("inf")

    def round(self) -> None:
        """One round: heartbeat, recovery, chores (raises what the store raises)."""
        if self.beats:
            self.store.beat(self.me.owner, self.me.host, self.me.pid)
        if time.monotonic() - self._failed_at > self.stale_seconds:
            for run_id in recover(self.store, self.me, self.stale_seconds, self.spare):
                log.warning("run %s interrupted: the process training it is gone", run_id)
                self.broadcast.publish(run_id, STATUS)
        for chore in self.chores:
            chore()
        give_free_memory_back()  # what slow readers left in malloc's arenas (server.malloc)

    def start(self, os_thread_only: bool = False) -> None:
        """Start the keeper's thread: with `os_thread_only`, a real OS thread also under gevent
        (server.green), so the heartbeat never waits for a busy event loop; only for chores that touch
        nothing of the loop's (gevent's sockets, as Redis's, belong to the loop that opened them)."""
        if os_thread_only:
            self._thread = os_thread(self._keep, "keeper")
        else:
            thread = threading.Thread(target=self._keep, name="keeper", daemon=True)
            thread.start()
            self._thread = thread

    def stop(self, timeout: float = 10.0) -> None:
        self._closing.set()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout)

    def _keep(self) -> None:
        while not self._closing.wait(self.stale_seconds / 5):
            try:
                self.round()
            except StoreUnavailable as error:
                self._failed_at = time.monotonic()
                log.warning("heartbeat failed: %s", error)
            except Exception:  # a chore's trouble (say, Redis away) does not hold recovery back
                log.exception("the keeper's round failed")
