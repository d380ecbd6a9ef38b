"""One BLAS thread while a run trains, shared by all the runs of a process.

The network's matrices are small: a second BLAS thread costs more to wake than it saves, and when both
cores are busy it stalls (two epochs trained at once in one process took 1.5 s with one BLAS thread each,
25 to 40 s with two). One thread also makes the numbers the same in every process, as the order of a
product's sums depends on the thread count.

NumPy's OpenBLAS (pthreads) has one thread pool for the whole process, so its thread count is
process-wide, and threadpoolctl lets only one Python thread at a time change it (the "controlling
thread"; the others' calls do nothing) until that thread's `with threadpool_limits(...)` block ends.
Two runs training at once in two threads of a server process, each in its own `with` block, would then
go: run A takes control, saves 2 and sets 1; run B's limit does nothing; A ends, restores 2 and lets go,
while B still trains with two threads; B ends and sets 1 for good. So `one_blas_thread` counts the runs
inside it, under a lock: the first to enter applies threadpool_limits(limits=1, user_api="blas"), the
last to leave (from whichever thread) restores what was there before, and each lets go of the control
at once so that the other can. In between, every thread of the process (a run's, or one computing
views) uses one BLAS thread. A thread that keeps control of its own (a `with threadpool_limits(...)`
around the training) decides instead: the runs inside it train with its count.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from threadpoolctl import OpenBLASController, threadpool_limits


class _SharedLimit:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs = 0
        self._limit: threadpool_limits | None = None

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._runs == 0:
                self._limit = threadpool_limits(limits=1, user_api="blas")
                OpenBLASController.clear_controlling_thread()  # only if this thread took control
            self._runs += 1
        try:
            yield
        finally:
            with self._lock:
                self._runs -= 1
                if self._runs == 0:
                    self._limit.restore_original_limits()
                    OpenBLASController.clear_controlling_thread()
                    self._limit = None


#: `with one_blas_thread():` NumPy's BLAS uses one thread in the whole process until the last such block
#: (of any thread) ends.
one_blas_thread = _SharedLimit()
