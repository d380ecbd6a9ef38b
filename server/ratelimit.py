"""Who is asking, and how many runs they may start and point sets they may upload: Flask-Limiter on
POST /api/runs and POST /api/data.

`limiter` decorates the views it limits where they are defined (server.api); `init_app(app)` binds it
to the app with the app's settings: the rate (PLAYGROUND_RATELIMIT, read per request from the app's
config) and where the counts live (PLAYGROUND_RATELIMIT_STORAGE; by default REDIS_URL when it is set,
else memory://). memory:// counts per server process (each gunicorn worker counts on its own, so a
client may get up to workers x the limit); Redis makes the limit one limit across processes and
machines. While that Redis cannot be reached, limited routes answer 503 (server.errors). A process
serves one app; making another (tests do) starts the counts afresh.

A client is its IP address, IPv6 counted per /64 (server.clients). Behind a reverse proxy every request
comes from the proxy, so set PLAYGROUND_PROXY_HOPS to the number of proxies in front: then the client
address is read from X-Forwarded-For (werkzeug's ProxyFix). Without proxies leave it 0: the header is
then ignored, since anyone can send it and it would let a client pick a fresh identity per request.
"""

from __future__ import annotations

from flask import Flask, Response, current_app
from flask_limiter import Limiter
from werkzeug.middleware.proxy_fix import ProxyFix

from server.clients import client_key
from server.redis_client import COMMAND_TIMEOUT_SECONDS, CONNECT_TIMEOUT_SECONDS

limiter = Limiter(
    client_key,
    headers_enabled=True,  # X-RateLimit-* on the limited route, and Retry-After on its 429
    strategy="moving-window",
)


def runs_per_client() -> str:
    """The rate at which one client may start runs (RATE_LIMIT, e.g. "10 per minute; 100 per day")."""
    return current_app.config["RATE_LIMIT"]


def run_started(response: Response) -> bool:
    """Only runs actually started count against the limit (refused configs, 429s and 503s do not)."""
    return response.status_code == 201


def data_per_client() -> str:
    """The rate at which one client may store new point sets (DATA_RATE_LIMIT, e.g. "20 per minute")."""
    return current_app.config["DATA_RATE_LIMIT"]


def data_stored(response: Response) -> bool:
    """Only new point sets count (a 201): points stored already (200) and refused files take no space."""
    return response.status_code == 201


def init_app(app: Flask) -> None:
    """Trust X-Forwarded-* from PROXY_HOPS proxies, and count in RATE_LIMIT_STORAGE (or REDIS_URL)."""
    hops = app.config["PROXY_HOPS"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    storage = app.config["RATE_LIMIT_STORAGE"] or app.config["REDIS_URL"] or "memory://"
    app.config["RATELIMIT_STORAGE_URI"] = storage  # the keys Flask-Limiter reads
    if storage.startswith(("redis://", "rediss://")):  # fail fast while Redis is away
        app.config["RATELIMIT_STORAGE_OPTIONS"] = {
            "socket_connect_timeout": CONNECT_TIMEOUT_SECONDS,
            "socket_timeout": COMMAND_TIMEOUT_SECONDS,
        }
    limiter.init_app(app)
