"""The playground's web server: `create_app()` builds the Flask app (pages, API, streams, training).

Run it locally with `python -m server`; the hosted demo runs the Procfile's gunicorn command.
"""

import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask, jsonify
from werkzeug.routing import BaseConverter

from server import api, assets, custom_data, errors, pages, ratelimit, sweeps
from server.body_deadline import BodyDeadline
from server.broadcast import Broadcast
from server.broadcast_local import LocalBroadcast
from server.compression import gzip_response
from server.green import bind_loop
from server.malloc import give_large_blocks_back
from server.run_json import RUN_ID
from server.security import add_security_headers
from server.settings import check, from_env
from server.store import Store
from server.stream_cap import StreamCap
from server.training import Training
from server.training_local import Runner

log = logging.getLogger(__name__)

TEMPLATE_FOLDER = Path(__file__).resolve().parent.parent / "templates"


@dataclass
class Playground:
    """What the views share: the store, and the two seams whose implementation the mode chooses:
    where runs wait and train (server.training) and how stored epochs reach viewers (server.broadcast)."""

    store: Store
    training: Training
    broadcast: Broadcast
    stream_cap: StreamCap
    closing: threading.Event = field(default_factory=threading.Event)  # set at a graceful stop

    def shut_down(self) -> None:
        """A graceful stop (SIGTERM): the runs training here end `interrupted` (the shutdown reason), then
        every open stream sends its status and `done` (or ends, for a run going on elsewhere)."""
        try:
            self.training.shutdown()
        except Exception:
            log.exception("stopping the training at shutdown failed")
        finally:
            self.closing.set()  # sweep streams look at it (server.sweep_events)
            self.broadcast.close_streams()

    def close(self) -> None:
        """Stop training here (running runs end `interrupted`) and broadcasting, and close the store."""
        self.training.shutdown()
        self.broadcast.stop()
        self.store.close()


def seams(config: Mapping[str, Any], store: Store) -> tuple[Training, Broadcast]:
    """The mode's two seams. Embedded (no REDIS_URL): training threads in this process on the store's
    queue, and this process's broadcast plus a store watcher. Scaled (REDIS_URL): RQ jobs trained by
    the worker processes, and Redis Streams read by one thread of this process."""
    if config["REDIS_URL"]:
        from server.broadcast_redis import RedisBroadcast
        from server.redis_client import connect
        from server.training_rq import RqTraining

        client = connect(config["REDIS_URL"])
        broadcast: Broadcast = RedisBroadcast(client)
        training: Training = RqTraining(
            store,
            broadcast,
            client,
            queue_size=config["QUEUE_SIZE"],
            run_seconds=config["RUN_SECONDS"],
            stale_seconds=config["OWNER_STALE"],
            store_mb=config["STORE_MB"],
        )
        return training, broadcast
    broadcast = LocalBroadcast(store, interval=config["SSE_POLL"])
    training = Runner(
        store,
        broadcast,
        workers=config["WORKERS"],
        queue_size=config["QUEUE_SIZE"],
        stale_seconds=config["OWNER_STALE"],
        preload_mnist=config["PRELOAD_MNIST"],
        run_seconds=config["RUN_SECONDS"],
        store_mb=config["STORE_MB"],
    )
    return training, broadcast


class RunIdConverter(BaseConverter):
    regex = RUN_ID


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The app. Its settings are server.settings' table, read from the environment, with `config` laid
    over them (the same keys); nothing else is defaulted here but the SQLite file's place."""
    give_large_blocks_back()  # freed arrays go back to the system: a worker's memory stays flat
    bind_loop()  # under gevent: this thread's event loop is where training threads hand events over
    settings = from_env()
    settings.update(config or {})
    app = Flask(__name__, static_folder=None, template_folder=TEMPLATE_FOLDER)  # static: server.assets
    app.config.update(settings)
    if not app.config["DATABASE"]:
        app.config["DATABASE"] = os.path.join(app.instance_path, "playground.sqlite3")
    check(app.config)
    app.json.sort_keys = False  # keep the documented field order

    store = Store(app.config["DATABASE_URL"] or app.config["DATABASE"])
    training, broadcast = seams(app.config, store)
    stream_cap = StreamCap(app.config["CLIENT_STREAMS"])
    app.extensions["playground"] = Playground(store, training, broadcast, stream_cap)

    app.url_map.converters["run_id"] = RunIdConverter
    app.url_map.converters["data_hash"] = custom_data.DataHashConverter
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(custom_data.bp)
    app.register_blueprint(sweeps.bp)
    app.register_blueprint(assets.bp)
    errors.register(app)
    ratelimit.init_app(app)
    app.after_request(gzip_response)
    app.after_request(add_security_headers)
    app.jinja_env.globals.update(asset_url=assets.asset_url, vendor_url=assets.vendor_url)

    @app.get("/healthz")
    def healthz():
        """Answers without touching the store or the GIL-heavy parts: a liveness probe."""
        return jsonify({"ok": True, "streams": broadcast.streams(), **training.counts()})

    app.wsgi_app = BodyDeadline(app.wsgi_app, app.config["BODY_SECONDS"])  # slow clients: 408
    training.start()
    broadcast.start()
    return app
