"""Who is asking, and how many point sets they may upload and predictions and views they may ask for:
Flask-Limiter on POST /api/data, and on POST .../predict and GET .../views together. (Runs started
are counted by the store, in the transaction that stores a run: server.fair_share.)

`limiter` decorates the views it limits where they are defined (server.api, server.custom_data);
`init_app(app)` binds it to the app with the app's settings: the rates (PLAYGROUND_DATA_RATELIMIT,
PLAYGROUND_READ_RATELIMIT, read per request from the app's config) and where the counts live
(PLAYGROUND_RATELIMIT_STORAGE; by default REDIS_URL when it is set, else memory://). memory://
counts per server process (each gunicorn worker counts on its own, so a client may get up to
workers x the limit); Redis makes the limit one limit across processes and machines. While that
Redis cannot be reached, limited routes answer 503 (server.errors). A process serves one app; making
another (tests do) starts the counts afresh.

A client is its IP address, IPv6 counted per /64 (server.clients). Behind a reverse proxy every request
comes from the proxy, so set PLAYGROUND_PROXY_HOPS to the number of proxies in front: then the client
address is read from X-Forwarded-For (werkzeug's ProxyFix). Without proxies leave it 0: the header is
then ignored, since anyone can send it and it would let a client pick a fresh identity per request.
"""

from __future__ import annotations

import time

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


def data_per_client() -> str:
    """The rate at which one client may store new point sets (DATA_RATE_LIMIT, e.g. "20 per minute")."""
    return current_app.config["DATA_RATE_LIMIT"]


def data_stored(response: Response) -> bool:
    """Only new point sets count (a 201): points stored already (200) and refused files take no space."""
    return response.status_code == 201


def reads_per_client() -> str:
    """The rate at which one client may ask for predictions and views, together (READ_RATE_LIMIT):
    each costs CPU. Counted when asked, before the answer is computed."""
    return current_app.config["READ_RATE_LIMIT"]


def retry_after() -> int:
    """Whole seconds until the limit the current request broke lets it through again (its reset time
    is a whole second already rounded up)."""
    limit = limiter.current_limit
    return max(1, int(limit.reset_at - time.time())) if limit else 1


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
