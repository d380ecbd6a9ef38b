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

from core.config import DEFAULT_LIMITS
from server import api, assets, errors, pages, ratelimit
from server.compress import gzip_response
from server.notify import Notifier
from server.runner import Runner
from server.runs import RUN_ID
from server.security import add_security_headers
from server.settings import check, from_env
from server.store import Store
from server.watcher import StoreWatcher

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Playground:
    """What the views share: the store, this process's notifier, runner and store watcher."""

    store: Store
    notifier: Notifier
    runner: Runner
    watcher: StoreWatcher

    def close(self) -> None:
        """Stop training (running runs end `interrupted`) and watching, and close the store."""
        self.runner.shutdown()
        self.watcher.stop()
        self.store.close()


class RunIdConverter(BaseConverter):
    regex = RUN_ID


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The app, with settings from the environment (see server.settings) under `config`."""
    settings = from_env()
    settings.update(config or {})
    app = Flask(
        __name__, static_folder=None, template_folder=str(settings.get("TEMPLATE_FOLDER", ROOT / "templates"))
    )
    app.config.update(settings)
    app.config.setdefault("LIMITS", DEFAULT_LIMITS)
    app.config.setdefault("SSE_FALLBACK", 1.0)  # a stream reads the store at least this often
    app.config.setdefault("STATIC_ROOT", str(ROOT / "static"))
    if not app.config["DATABASE"]:
        app.config["DATABASE"] = os.path.join(app.instance_path, "playground.sqlite3")
    check(app.config)
    app.json.sort_keys = False  # keep the documented field order

    store = Store(app.config["DATABASE_URL"] or app.config["DATABASE"])
    notifier = Notifier()
    runner = Runner(
        store,
        notifier,
        workers=app.config["WORKERS"],
        queue_size=app.config["QUEUE_SIZE"],
        stale_seconds=app.config["OWNER_STALE"],
        preload_mnist=app.config["PRELOAD_MNIST"],
        run_seconds=app.config["RUN_SECONDS"],
    )
    watcher = StoreWatcher(store, notifier, interval=app.config["SSE_POLL"])
    app.extensions["playground"] = Playground(store, notifier, runner, watcher)

    app.url_map.converters["run_id"] = RunIdConverter
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(assets.bp)
    errors.register(app)
    ratelimit.install(app)
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
