"""Progress within an epoch, for viewers of a long epoch: the trainer's batch callbacks turned into at
most one report every REPORT_SECONDS.

core.training.train calls should_stop() before every batch and on_batch(done, total) after it; a
BatchProgress gets both (`before_batch`, `after_batch`) and publishes {epoch, batch, batches, seconds}
(seconds: since the epoch's first batch began) once a report is due, never for an epoch's last batch
(its epoch event follows at once). Epochs shorter than REPORT_SECONDS (every 2D epoch, small MNIST
nets) are never reported: their epoch events come often enough.
"""

from __future__ import annotations

import time
from collections.abc import Callable

REPORT_SECONDS = 1.0


class BatchProgress:
    def __init__(
        self,
        publish: Callable[[dict], None],
        interval: float = REPORT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.publish = publish
        self.interval = interval
        self.clock = clock
        self.epoch = 0
        self._batch_began = 0.0
        self._epoch_began = 0.0
        self._due = 0.0

    def before_batch(self) -> None:
        self._batch_began = self.clock()

    def after_batch(self, done: int, total: int) -> None:
        now = self.clock()
        if done == 1:  # a new epoch
            self.epoch += 1
            self._epoch_began = self._batch_began
            self._due = self._epoch_began + self.interval
        if now >= self._due and done < total:
            seconds = round(now - self._epoch_began, 3)
            self.publish({"epoch": self.epoch, "batch": done, "batches": total, "seconds": seconds})
            self._due = now + self.interval
