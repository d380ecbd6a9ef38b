"""`python -m server`: the playground on http://127.0.0.1:$PORT (default 5000), for one machine.

Werkzeug's threaded server gives each connection its own thread, so a few browser tabs can stream
while runs train in this process. The hosted demo uses gunicorn instead (see the Procfile).
"""

from __future__ import annotations

import logging
import signal
import sys

from werkzeug.serving import make_server

from server import create_app
from server.settings import SettingsError


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        app = create_app()
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    port = app.config["PORT"]
    try:
        server = make_server("127.0.0.1", port, app, threaded=True)
    except (OSError, SystemExit):  # werkzeug explains a busy port, then exits
        print(
            f"Cannot listen on 127.0.0.1:{port}; choose another port, e.g. PORT={port + 1}", file=sys.stderr
        )
        app.extensions["playground"].close()
        return 1
    print(f"NumPy NN Playground: http://127.0.0.1:{port}  (Ctrl-C to stop)", flush=True)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` shuts down as cleanly as Ctrl-C
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        app.extensions["playground"].close()
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
