"""`python3 -m server.worker`: the Procfile's `worker:` process of the scaled mode, which trains runs.

It takes training jobs from Redis (REDIS_URL) one at a time and keeps runs in PostgreSQL (DATABASE_URL),
with the same settings as the web processes (server.settings). Run as many as you like, on any host:
each trains one run at a time (server.training_rq.JobWorker). SIGTERM or SIGINT ends the run it trains
`interrupted`, epochs kept, and exits. Without REDIS_URL it exits at once, saying what it needs.
"""

from __future__ import annotations

import logging
import sys

from server.malloc import give_large_blocks_back
from server.settings import SettingsError, check, from_env
from server.store import SchemaOutOfDate, Store, StoreUnavailable

NEEDS = (
    "The worker trains the runs the web processes queue in Redis: set REDIS_URL (redis://host:6379/0)"
    " and DATABASE_URL (postgresql://user:password@host:5432/name), the same as for the web processes."
    " Without REDIS_URL the web processes train runs themselves and no worker is needed."
)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    give_large_blocks_back()  # a run's large temporary arrays go back to the system after it
    try:
        config = from_env()
        check(config)
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not config["REDIS_URL"]:
        print(f"error: {NEEDS}", file=sys.stderr)
        return 2
    from server.broadcast_redis import RedisBroadcast  # RQ and friends: only in a worker that works
    from server.redis_client import connect
    from server.training_rq import JobWorker

    try:
        store = Store(config["DATABASE_URL"])
    except (SchemaOutOfDate, StoreUnavailable) as error:
        print(f"error: {getattr(error, 'message', error)}", file=sys.stderr)
        return 1
    client = connect(config["REDIS_URL"])
    worker = JobWorker(
        store,
        RedisBroadcast(client),  # publishes only: a worker has no viewers to read for
        client,
        run_seconds=config["RUN_SECONDS"],
        stale_seconds=config["OWNER_STALE"],
        preload_mnist=config["PRELOAD_MNIST"],
        store_mb=config["STORE_MB"],
    )
    try:
        return worker.run()
    except StoreUnavailable as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    finally:
        store.close()


if __name__ == "__main__":
    sys.exit(main())
