"""The playground's web server: `create_app()` builds the Flask app (pages, API, streams, runner).

Run it locally with `python -m server`; the hosted demo runs the Procfile's gunicorn command.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, jsonify
from werkzeug.routing import BaseConverter

from server import api, assets, custom_data, errors, pages, ratelimit
from server.broadcast_local import Notifier, ProgressBoard, StoreWatcher
from server.compression import gzip_response
from server.malloc import give_large_blocks_back
from server.run_json import RUN_ID
from server.security import add_security_headers
from server.settings import check, from_env
from server.store import Store
from server.training_local import Runner

TEMPLATE_FOLDER = Path(__file__).resolve().parent.parent / "templates"


@dataclass
class Playground:
    """What the views share: the store; where runs wait and train (server.training_local); how stored
    epochs and progress within an epoch reach this process's viewers (server.broadcast_local: notifier,
    progress board and store watcher)."""

    store: Store
    notifier: Notifier
    runner: Runner
    watcher: StoreWatcher
    progress: ProgressBoard

    def close(self) -> None:
        """Stop training (running runs end `interrupted`) and watching, and close the store."""
        self.runner.shutdown()
        self.watcher.stop()
        self.store.close()


class RunIdConverter(BaseConverter):
    regex = RUN_ID


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The app. Its settings are server.settings' table, read from the environment, with `config` laid
    over them (the same keys); nothing else is defaulted here but the SQLite file's place."""
    give_large_blocks_back()  # freed arrays go back to the system: a worker's memory stays flat
    settings = from_env()
    settings.update(config or {})
    app = Flask(__name__, static_folder=None, template_folder=TEMPLATE_FOLDER)  # static: server.assets
    app.config.update(settings)
    if not app.config["DATABASE"]:
        app.config["DATABASE"] = os.path.join(app.instance_path, "playground.sqlite3")
    check(app.config)
    app.json.sort_keys = False  # keep the documented field order

    store = Store(app.config["DATABASE_URL"] or app.config["DATABASE"])
    notifier = Notifier()
    progress = ProgressBoard(store, notifier)
    runner = Runner(
        store,
        notifier,
        workers=app.config["WORKERS"],
        queue_size=app.config["QUEUE_SIZE"],
        stale_seconds=app.config["OWNER_STALE"],
        preload_mnist=app.config["PRELOAD_MNIST"],
        run_seconds=app.config["RUN_SECONDS"],
        progress=progress,
    )
    watcher = StoreWatcher(store, notifier, interval=app.config["SSE_POLL"])
    app.extensions["playground"] = Playground(store, notifier, runner, watcher, progress)

    app.url_map.converters["run_id"] = RunIdConverter
    app.url_map.converters["data_hash"] = custom_data.DataHashConverter
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(custom_data.bp)
    app.register_blueprint(assets.bp)
    errors.register(app)
    ratelimit.init_app(app)
    app.after_request(gzip_response)
    app.after_request(add_security_headers)
    app.jinja_env.globals.update(asset_url=assets.asset_url, vendor_url=assets.vendor_url)

    @app.get("/healthz")
    def healthz():
        """Answers without touching the store or the GIL-heavy parts: a liveness probe."""
        return jsonify({"ok": True, "streams": notifier.streams(), **runner.counts()})

    runner.start()
    watcher.start()
    return app
