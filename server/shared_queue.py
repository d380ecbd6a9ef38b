"""One queue for all server processes, kept in the store.

A new run waits as `queued` with the owner QUEUE_OWNER instead of the process that accepted it, so:
- the queue limit counts every waiting run, whichever gunicorn worker took the POST;
- queue positions (store.queue_position and store.states count the queued runs of one owner) are
  positions in the one global queue;
- any process with a free training thread claims the oldest waiting run (Store.claim: a conditional UPDATE)
  (only one process can move a run out of `queued`), so no run waits behind a busy worker while
  another is idle.

The queue is kept alive like a process: every process writes a heartbeat for QUEUE_OWNER under a host
name no process has (so server.recovery judges it by its heartbeat alone). When every process is gone
for longer than the staleness limit, the next process to start interrupts the waiting runs, as it
does the runs of any dead process.
"""

from __future__ import annotations

from server.store import Store

QUEUE_OWNER = "queue:shared"
QUEUE_HOST = "(every process)"


def keep_alive(store: Store) -> None:
    store.beat(QUEUE_OWNER, QUEUE_HOST, 0)
