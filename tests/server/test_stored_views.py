"""Views computed once (issue 12, attack 6): a run's views are computed as it ends and stored, so asking
for the views of many ended runs, round after round, reads them instead of computing them."""

from __future__ import annotations

import pytest

from tests.server.helpers import FAST_2D, sql, start, wait_for
from tests.server.views_cpu import train_many, views_cpu

pytestmark = pytest.mark.stores("sqlite", "postgres")

RUNS = 18  # more than a process's cache of computed views (16)


def test_cycling_through_the_views_of_18_ended_mnist_runs_costs_milliseconds_of_cpu(
    procfile_server, database
):
    server = procfile_server({"PLAYGROUND_QUEUE": str(RUNS)})
    run_ids = train_many(server, [256, 256], RUNS)
    assert sql(database, "SELECT COUNT(*) FROM views")[0][0] == RUNS  # stored as each run ended
    seconds, requests = views_cpu(server, run_ids, rounds=2)
    print(f"\n{requests} GET /views of {RUNS} ended MNIST runs (256, 256): {seconds:.2f} CPU s")
    # Computing them takes ~30 ms each for this network (10,000 test digits through it, 100 pictures);
    # reading them, a few.
    assert seconds / requests < 0.012, (seconds, requests)


def test_a_run_that_ended_without_stored_views_gets_them_computed_once_then_read(client, database):
    run = start(client, FAST_2D)
    assert wait_for(client, run["id"])["status"] == "done"
    stored = client.get(f"/api/runs/{run['id']}/views").get_json()
    assert stored["epoch"] == FAST_2D["epochs"] and stored["grid"] and len(stored["points"]["train"]) > 0
    sql(database, "DELETE FROM views WHERE run_id = :id", id=run["id"])  # as a run ended by a crash
    assert client.get(f"/api/runs/{run['id']}/views").get_json() == stored  # computed: the same
    assert sql(database, "SELECT epoch FROM views WHERE run_id = :id", id=run["id"]) == [(FAST_2D["epochs"],)]
