"""Recording a run's epochs from a thread of its own, so training never waits for views or the store.

After each epoch the trainer hands over the numbers and a copy of the network (the live one keeps
changing) and goes on with the next epoch. The recorder draws the epoch's view
from the snapshot (the decision grid for 2D sets, the validation confusion matrix for MNIST; numpy
releases the GIL for the heavy part, so on a second core this overlaps training), stores the epoch,
its SSE event and the weights in one transaction, and wakes this process's streams. At most two
epochs wait: a recorder that falls behind (tiny 2D epochs) slows the trainer instead of piling up.
"""

from __future__ import annotations

import copy
import json
import queue
import threading
import time

from core.config import Config
from core.datasets import Dataset
from core.network import Network
from core.training import EpochResult
from core.views import confusion_matrix, decision_grid
from server.broadcast_local import Notifier
from server.store import Store, patiently

_END = object()


def epoch_view(network: Network, data: Dataset, config: Config) -> dict:
    """What the page draws live for this dataset, sent in every epoch event."""
    if data.name == "mnist":
        return {"confusion": confusion_matrix(network, data.x_val, data.y_val, len(data.classes))}
    return {"grid": decision_grid(network, data, features=config.features)}


class Recorder:
    def __init__(self, store: Store, notifier: Notifier, run_id: str) -> None:
        self.store = store
        self.notifier = notifier
        self.run_id = run_id
        self._queue: queue.Queue = queue.Queue(maxsize=2)
        self._error: Exception | None = None
        self._thread = threading.Thread(target=self._work, name=f"record-{run_id}", daemon=True)
        self._thread.start()

    def add(self, result: EpochResult) -> None:
        """Queue an epoch (blocks while two wait); raises the recorder's error if it hit one."""
        if self._error is not None:
            raise self._error
        network = copy.deepcopy(result.network)
        self._queue.put((result.epoch, result.metrics(), network, result.dataset, result.config))

    def close(self) -> None:
        """Wait until every queued epoch is stored; raises the recorder's error if it hit one."""
        self._queue.put(_END)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def _work(self) -> None:
        while (item := self._queue.get()) is not _END:
            if self._error is None:  # after an error, only drain (so the trainer never blocks)
                try:
                    self._record(*item)
                except Exception as error:
                    self._error = error

    def _record(self, epoch: int, metrics: dict, network: Network, data: Dataset, config: Config) -> None:
        view = epoch_view(network, data, config)
        # recorded_at (Unix seconds, in the API description's EpochData): when the epoch was stored.
        event = json.dumps({**metrics, **view, "recorded_at": round(time.time(), 4)})
        weights = network.to_bytes()
        patiently(lambda: self.store.add_epoch(self.run_id, epoch, metrics, event, weights))
        self.notifier.changed(self.run_id)
