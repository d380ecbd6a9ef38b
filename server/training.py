"""The seam "where a run waits and trains": what the API uses, in either mode.

Two implementations, chosen by create_app from the settings:
- server.training_local.Runner (embedded mode): a queue in the store, training threads in every web
  process;
- server.training_rq.RqTraining (scaled mode, REDIS_URL): an RQ job per run, trained by the Procfile's
  worker processes (server.worker) on any host; web processes never train.

Both store a new run as `queued` before it can train, keep its epochs as it trains (server.trainer),
and end it in the store; neither needs to know which process serves its viewers.
"""

from __future__ import annotations

from typing import Protocol

from server.store import Admission

RETRY_AFTER_SECONDS = 10  # what a 429 on a full queue says in Retry-After


class QueueFull(RuntimeError):
    """PLAYGROUND_QUEUE runs already wait; the message says so in a sentence."""


class Training(Protocol):
    def submit(
        self,
        config: dict,
        query: str,
        total_epochs: int,
        token_hash: str | None = None,
        reuse: bool = False,
        admit: Admission | None = None,
        beyond: int = 0,
    ) -> tuple[str, bool]:
        """Store a new queued run (with its owner token's hash; its client and estimated cost from `admit`)
        and hand it to the queue: (its id, False). With `reuse`, a stored run of the same query that is
        done, queued or running answers instead and nothing is queued: (its id, True). Raises QueueFull
        past capacity (`beyond` places past it are allowed: a sweep's later runs, since a sweep counts as
        one run against the queue's limit), and whatever `admit` raises to refuse the client
        (server.fair_share)."""
        ...

    def stop(self, run_id: str) -> None:
        """Stop a queued or running run, whichever process (or host) has it; a no-op once it ended."""
        ...

    def counts(self) -> dict[str, int]:
        """{"training": runs this process trains, "queued": runs waiting, as last seen}: for /healthz."""
        ...

    def start(self) -> None: ...

    def shutdown(self) -> None:
        """Stop training here (running runs end `interrupted`) and say goodbye."""
        ...
