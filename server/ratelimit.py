"""Who is asking, and how many runs they may start: Flask-Limiter on POST /api/runs.

The counts live in PLAYGROUND_RATELIMIT_STORAGE. The default, memory://, counts per server process
(each gunicorn worker counts on its own, so a client may get up to workers x the limit); a shared
store such as redis://host:6379 makes the limit global across processes and machines.

A client is its IP address. Behind a reverse proxy every request comes from the proxy, so set
PLAYGROUND_PROXY_HOPS to the number of proxies in front: then the client address is read from
X-Forwarded-For (werkzeug's ProxyFix). Without proxies leave it 0: the header is then ignored, since
anyone can send it and it would let a client pick a fresh identity per request.
"""

from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix


def install(app: Flask) -> Limiter:
    """Trust X-Forwarded-* from PROXY_HOPS proxies, and limit how often a client starts runs."""
    hops = app.config["PROXY_HOPS"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=app.config["RATE_LIMIT_STORAGE"],
        headers_enabled=True,  # X-RateLimit-* on the limited route, and Retry-After on its 429
        strategy="moving-window",
    )
    start_run = app.view_functions["api.start_run"]
    app.view_functions["api.start_run"] = limiter.limit(
        lambda: app.config["RATE_LIMIT"],
        deduct_when=lambda response: response.status_code == 201,  # only runs started count
    )(start_run)
    return limiter
