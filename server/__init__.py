"""The playground's web server: `create_app()` builds the Flask app (pages, API, streams, runner).

Run it locally with `python -m server`; the hosted demo runs the Procfile's gunicorn command.
"""

import os

# One BLAS thread per training thread: the server trains several runs at once (and gunicorn runs
# several processes), and OpenBLAS's own threads then fight over the cores: on 2 busy cores an MNIST
# epoch took 10x longer. Must be set before numpy is imported; an explicit setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from collections.abc import Mapping  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from flask import Flask, jsonify  # noqa: E402
from werkzeug.routing import BaseConverter  # noqa: E402

from core.config import DEFAULT_LIMITS  # noqa: E402
from server import api, assets, errors, pages  # noqa: E402
from server.compress import gzip_response  # noqa: E402
from server.notify import Notifier  # noqa: E402
from server.runner import Runner  # noqa: E402
from server.runs import RUN_ID  # noqa: E402
from server.settings import check, from_env  # noqa: E402
from server.store import Store  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Playground:
    """What the views share: the store, this process's notifier and runner."""

    store: Store
    notifier: Notifier
    runner: Runner


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
    app.config.setdefault("STATIC_ROOT", str(ROOT / "static"))
    if not app.config["DATABASE"]:
        app.config["DATABASE"] = os.path.join(app.instance_path, "playground.sqlite3")
    check(app.config)
    app.json.sort_keys = False  # keep the documented field order

    store = Store(app.config["DATABASE"])
    notifier = Notifier()
    runner = Runner(
        store,
        notifier,
        workers=app.config["WORKERS"],
        queue_size=app.config["QUEUE_SIZE"],
        stale_seconds=app.config["OWNER_STALE"],
        preload_mnist=app.config["PRELOAD_MNIST"],
    )
    app.extensions["playground"] = Playground(store, notifier, runner)

    app.url_map.converters["run_id"] = RunIdConverter
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(assets.bp)
    errors.register(app)
    app.after_request(gzip_response)
    app.jinja_env.globals.update(asset_url=assets.asset_url, vendor_url=assets.vendor_url)

    @app.get("/healthz")
    def healthz():
        """Answers without touching the store or the GIL-heavy parts: a liveness probe."""
        return jsonify({"ok": True, "streams": notifier.streams(), **runner.counts()})

    runner.start()
    return app
