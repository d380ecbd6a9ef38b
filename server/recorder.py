"""Recording a run's epochs from a thread of its own, so training never waits for views or the store.
The same thread publishes the trainer's progress within an epoch (server.progress) through the
broadcast (kind PROGRESS, live-only): a slow broadcast then delays a report, never a batch; a report that
finds two epochs waiting is dropped.

After each epoch the trainer hands over the numbers and a copy of the network (the live one keeps
changing) and goes on with the next epoch. The recorder draws the epoch's view
from the snapshot (the decision grid for 2D sets, the validation confusion matrix for MNIST; numpy
releases the GIL for the heavy part, so on a second core this overlaps training), stores the epoch,
its SSE event and the weights in one transaction, and only then publishes the event to the run's
viewers (server.broadcast), so nothing a viewer is sent can be missing from the store. At most two
epochs wait: a recorder that falls behind (tiny 2D epochs) slows the trainer instead of piling up.
"""

from __future__ import annotations

import copy
import json
import queue
import time

from core.config import Config
from core.datasets import Dataset
from core.network import Network
from core.training import EpochResult
from core.views import confusion_matrix, decision_grid, neuron_view
from server.broadcast import EPOCH, PROGRESS, Broadcast
from server.green import os_queue, os_thread
from server.store import Store, patiently

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
    def __init__(self, store: Store, broadcast: Broadcast, run_id: str) -> None:
        self.store = store
        self.broadcast = broadcast
        self.run_id = run_id
        self._queue = os_queue(maxsize=2)
        self._error: Exception | None = None
        self._thread = os_thread(self._work, f"record-{run_id}")  # an OS thread, also under gevent

    def add(self, result: EpochResult) -> None:
        """Queue an epoch (blocks while two wait); raises the recorder's error if it hit one."""
        if self._error is not None:
            raise self._error
        network = copy.deepcopy(result.network)
        self._queue.put((result.epoch, result.metrics(), network, result.dataset, result.config))

    def progress(self, data: dict) -> None:
        """Queue a progress report ({epoch, batch, ...}), unless two epochs already wait (then it is
        dropped: the next report, or the epoch itself, says more)."""
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
        """Progress is live-only: never stored with the epochs; its id is the epoch it is within."""
        self.broadcast.publish(self.run_id, PROGRESS, json.dumps(data), data["epoch"])

    def _record(self, epoch: int, metrics: dict, network: Network, data: Dataset, config: Config) -> None:
        view = epoch_view(network, data, config)
        # recorded_at (Unix seconds, in the API description's EpochData): when the epoch was stored.
        event = json.dumps({**metrics, **view, "recorded_at": round(time.time(), 4)})
        weights = network.to_bytes()
        patiently(lambda: self.store.add_epoch(self.run_id, epoch, metrics, event, weights))
        self.broadcast.publish(self.run_id, EPOCH, event, epoch)
