"""Recording a run's epochs from a thread of its own, so training never waits for views or the store.
The same thread publishes the trainer's progress within an epoch (server.progress): a store that is
slow to answer then delays a report, never a batch; a report that finds two epochs waiting is dropped.

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
import logging
import queue
import threading
import time

from core.config import Config
from core.datasets import Dataset
from core.network import Network
from core.training import EpochResult
from core.views import confusion_matrix, decision_grid, neuron_view
from server.broadcast_local import Notifier, ProgressBoard
from server.store import Store, StoreUnavailable, patiently

log = logging.getLogger(__name__)

_END = object()
_PROGRESS = object()  # marks a progress report in the queue


def epoch_view(network: Network, data: Dataset, config: Config) -> dict:
    """What the page draws of this epoch, sent in every epoch event: the decision grid (2D) or the
    validation confusion matrix (MNIST), and the network diagram's units and edges (`neurons`)."""
    if data.name == "mnist":
        view = {"confusion": confusion_matrix(network, data.x_val, data.y_val, len(data.classes))}
    else:
        view = {"grid": decision_grid(network, data, features=config.features)}
    return view | {"neurons": neuron_view(network, config, data)}


class Recorder:
    def __init__(
        self, store: Store, notifier: Notifier, run_id: str, board: ProgressBoard | None = None
    ) -> None:
        self.store = store
        self.notifier = notifier
        self.run_id = run_id
        self.board = board
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

    def progress(self, data: dict) -> None:
        """Queue a progress report for the board, unless two epochs already wait (then it is dropped:
        the next report, or the epoch itself, says more)."""
        if self.board is not None:
            try:
                self._queue.put_nowait((_PROGRESS, data))
            except queue.Full:
                pass

    def close(self) -> None:
        """Wait until every queued epoch is stored; raises the recorder's error if it hit one."""
        self._queue.put(_END)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def _work(self) -> None:
        while (item := self._queue.get()) is not _END:
            if item[0] is _PROGRESS:
                self._publish(item[1])
            elif self._error is None:  # after an error, only drain (so the trainer never blocks)
                try:
                    self._record(*item)
                except Exception as error:
                    self._error = error

    def _publish(self, data: dict) -> None:
        """Progress is for the eye: a store busy or read-only for now skips a report, never the run."""
        try:
            self.board.publish(self.run_id, data)
        except StoreUnavailable:
            log.debug("run %s: progress report skipped, the store is unavailable", self.run_id)

    def _record(self, epoch: int, metrics: dict, network: Network, data: Dataset, config: Config) -> None:
        view = epoch_view(network, data, config)
        # recorded_at (Unix seconds, in the API description's EpochData): when the epoch was stored.
        event = json.dumps({**metrics, **view, "recorded_at": round(time.time(), 4)})
        weights = network.to_bytes()
        patiently(lambda: self.store.add_epoch(self.run_id, epoch, metrics, event, weights))
        self.notifier.changed(self.run_id)
