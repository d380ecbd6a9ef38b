"""One BLAS thread while a run trains, shared by all the runs of a process.

The network's matrices are small: a second BLAS thread costs more to wake than it saves, and when both
cores are busy it stalls (two epochs trained at once in one process took 1.5 s with one BLAS thread each,
25 to 40 s with two). One thread also makes the numbers the same in every process, as the order of a
product's sums depends on the thread count.

threadpoolctl's limits are process-wide, and its context manager restores on exit what it found on entry.
Two runs training at once in two threads of one server process would interleave those: run A saves 2 and
sets 1, run B saves 1, A ends and restores 2 while B still trains (B's epochs then use two threads), B ends
and restores 1 for good. So `one_blas_thread` counts the runs inside it: the first to enter applies
threadpool_limits(limits=1, user_api="blas"), the last to leave restores what was there before, and in
between every thread of the process (a run's, or one computing views) uses one BLAS thread.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from threadpoolctl import threadpool_limits


class _SharedLimit:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._limit: threadpool_limits | None = None

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._users == 0:
                self._limit = threadpool_limits(limits=1, user_api="blas")
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0:
                    self._limit.restore_original_limits()
                    self._limit = None


#: `with one_blas_thread():` NumPy's BLAS uses one thread in the whole process until the last such block
#: (of any thread) ends.
one_blas_thread = _SharedLimit()
