"""One BLAS thread while runs train, in the whole process, and the process's own count before and after."""

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from threadpoolctl import OpenBLASController, threadpool_info, threadpool_limits

from core.config import parse_config
from core.training import train

ROOT = Path(__file__).resolve().parents[2]
SHORT = {"dataset": "spiral", "epochs": 2, "seed": 1}
LONG = {"dataset": "spiral", "epochs": 20, "seed": 2}


def blas_threads() -> set[int]:
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


@pytest.fixture
def two_blas_threads():
    """The process's BLAS at two threads (the default on a 2-core machine), so that one is visible, set
    as a program would before it trains: no thread keeps the control (see core/blas.py)."""
    limit = threadpool_limits(limits=2, user_api="blas")
    OpenBLASController.clear_controlling_thread()
    try:
        if blas_threads() != {2}:
            pytest.skip("this BLAS does not run two threads here")
        yield
    finally:
        limit.restore_original_limits()
        OpenBLASController.clear_controlling_thread()


def test_importing_the_core_and_the_server_leaves_the_blas_threads_alone():
    script = (
        "import json, sys\n"
        "import numpy\n"
        "from threadpoolctl import threadpool_info\n"
        "def threads(): return [p['num_threads'] for p in threadpool_info() if p['user_api'] == 'blas']\n"
        "before = threads()\n"
        "import core.datasets\n"
        "datasets_alone = 'core.training' not in sys.modules\n"
        "import core.train, core.training, server\n"
        "print(json.dumps({'before': before, 'after': threads(), 'datasets_alone': datasets_alone}))\n"
    )
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "2"}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["datasets_alone"], "importing core.datasets imported core.training"
    if found["before"] == [1]:
        pytest.skip("this BLAS does not run two threads here")
    assert found["after"] == found["before"] == [2]


def test_a_run_trains_with_one_blas_thread_and_gives_the_count_back_when_it_ends(two_blas_threads):
    seen = []
    results = list(train(parse_config(SHORT), on_batch=lambda done, total: seen.append(blas_threads())))
    assert len(results) == 2 and seen and all(threads == {1} for threads in seen)
    assert blas_threads() == {2}


def test_a_run_closed_unfinished_gives_the_count_back(two_blas_threads):
    run = train(parse_config(LONG))
    next(run)
    assert blas_threads() == {1}  # held between epochs: see train()'s docstring
    run.close()
    assert blas_threads() == {2}


def test_a_run_ending_while_another_trains_leaves_the_other_with_one_blas_thread(two_blas_threads):
    # Two runs in two threads of this process, as the server's training threads run them: the short run
    # starts, the long one joins it, the short one ends while the long one waits between two batches,
    # then the long one goes on. Both threads live on afterwards, as a thread pool's do.
    short_inside, long_inside, finished = threading.Event(), threading.Event(), threading.Event()
    ended = {"short": threading.Event(), "long": threading.Event()}
    records: list[tuple[str, bool, set[int]]] = []  # (run, had the short run ended, BLAS threads)
    errors = []

    def on_batch_of(name: str) -> Callable[[int, int], None]:
        calls = 0

        def on_batch(done: int, total: int) -> None:
            nonlocal calls
            calls += 1
            if (name, calls) == ("short", 1):
                short_inside.set()
                long_inside.wait(timeout=30)
            elif (name, calls) == ("long", 1):
                long_inside.set()
            elif (name, calls) == ("long", 2):
                ended["short"].wait(timeout=30)
            records.append((name, ended["short"].is_set(), blas_threads()))

        return on_batch

    def trainer(name: str, config: dict) -> None:
        try:
            list(train(parse_config(config), on_batch=on_batch_of(name)))
        except Exception as error:  # reported below, in the test's thread
            errors.append(error)
        ended[name].set()
        finished.wait(timeout=60)

    threads = [threading.Thread(target=trainer, args=("short", SHORT))]
    threads[0].start()
    try:
        assert short_inside.wait(timeout=30)
        threads.append(threading.Thread(target=trainer, args=("long", LONG)))
        threads[1].start()
        assert ended["long"].wait(timeout=60)
        assert not errors
        phases = {(name, short_ended) for name, short_ended, _ in records}
        assert phases == {("short", False), ("long", False), ("long", True)}
        assert all(threads == {1} for _, _, threads in records), records
        assert blas_threads() == {2}  # given back, though the thread that took it is still there
    finally:
        finished.set()
        for thread in threads:
            thread.join(timeout=30)
