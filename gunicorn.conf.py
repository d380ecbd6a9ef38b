"""gunicorn's settings file for the Procfile's web line (`-c gunicorn.conf.py`; the command line holds the
rest): a clean SIGTERM with viewers.

On SIGTERM gunicorn's worker stops accepting and waits up to --graceful-timeout for its open responses;
event streams would hold it until then and be cut. So the worker's SIGTERM also starts the app's graceful
stop at once (server.Playground.shut_down, on a greenlet under the gevent worker): the runs training in
that process end `interrupted` with the shutdown reason, then every open stream sends its status and
`done` and ends, and the worker exits within a second or two, well inside the grace period.

gunicorn reads this file in the master as well: it imports nothing of the app (the master stays small and
un-patched; each worker patches itself for gevent before it loads the app).
"""

import signal


def post_worker_init(worker):
    """In each worker, once the app is loaded: chain the app's graceful stop to gunicorn's SIGTERM."""
    from server.green import in_background

    playground = worker.wsgi.extensions["playground"]

    def on_sigterm(sig, frame):
        worker.handle_exit(sig, frame)  # gunicorn: stop accepting, wait for the open responses
        in_background(playground.shut_down, "shut-down")

    signal.signal(signal.SIGTERM, on_sigterm)
