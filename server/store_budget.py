"""The store budget (PLAYGROUND_STORE_MB): what the run store may take on disk. When it takes more, the
oldest ended runs lose their heavy parts first (Store.expire: their weights, their stored views and
each epoch event's decision grid or confusion matrix and neurons) until the store is back under
LOW of the budget; their curves (every epoch's numbers), configs and permalinks stay, and the API
answers 410 with EXPIRED_MESSAGE where the weights are needed (downloads, predictions, views).

Every trainer checks after each run it ends (`enforce`), and every process's keeper (server.recovery)
runs `StoreBudget.chore` at each round, which checks at most every CHECK_SECONDS; a check measures the
store (Store.size_bytes: SQLite's pages in use, PostgreSQL's stored values) and acts past HIGH of the
budget, so what trains between two checks still fits.
Two processes expiring at once is harmless: a run expires once (a conditional UPDATE).
"""

from __future__ import annotations

import logging
import time

from server.store import Store

log = logging.getLogger(__name__)

EXPIRED_MESSAGE = (
    "Weights expired: train again to get them. This run is among the oldest on a server whose storage"
    " filled up; its curves and settings are kept."
)
EXPIRED_PARTS = ("weights", "views", "epoch_views")  # what an expired run lost (the run JSON's `expired`)
CHECK_SECONDS = 30.0  # the keeper measures the store at most this often (runs ending: after each)
# Checks start expiring at HIGH of the budget, not at the budget itself: the runs training meanwhile
# write into the rest until the next check (after each run, and every CHECK_SECONDS). They expire runs
# down to LOW, so one round makes room for a while.
HIGH, LOW = 0.85, 0.7
EXPIRE_AT_ONCE = 4  # runs expired between two measures
MB = 1024 * 1024


class StoreBudget:
    """Keeps one store within `megabytes` (0: no budget)."""

    def __init__(self, store: Store, megabytes: float, every: float = CHECK_SECONDS) -> None:
        self.store = store
        self.limit = megabytes * MB
        self.every = every
        self._checked_at = -float("inf")

    def chore(self) -> None:
        """The keeper's chore: enforce() at most every `every` seconds."""
        if self.limit and time.monotonic() - self._checked_at >= self.every:
            self._checked_at = time.monotonic()
            self.enforce()

    def enforce(self) -> list[str]:
        """Past HIGH of the budget, expire the oldest ended runs' heavy parts down to LOW of it; the ids of
        the runs expired."""
        if not self.limit:
            return []  # no budget: nothing to measure
        size = self.store.size_bytes()
        if size <= HIGH * self.limit:
            return []
        expired: list[str] = []
        while size > LOW * self.limit:
            oldest = self.store.expirable_runs(EXPIRE_AT_ONCE)
            if not oldest:
                log.warning(
                    "the store takes %.0f MB, over its budget of %.0f MB, with nothing left to expire",
                    size / MB,
                    self.limit / MB,
                )
                break
            expired += [run_id for run_id in oldest if self.store.expire(run_id)]
            self.store.give_back_space()
            size = self.store.size_bytes()
        if expired:
            log.info("store budget: expired the heavy parts of %d runs; %.1f MB now", len(expired), size / MB)
        return expired
