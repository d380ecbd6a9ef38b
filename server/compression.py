"""Gzip for the app's own larger answers (page HTML, API JSON such as a run's views).

Static files are gzipped once in server.assets; event streams are never compressed (a compressor
would hold events back until its buffer fills).
"""

from __future__ import annotations

import gzip

from flask import Response, request

MIN_SIZE = 1400  # below about one packet, compression does not pay
TYPES = ("text/html", "application/json", "text/csv")


def gzip_response(response: Response) -> Response:
    """after_request hook: compress a finished, compressible body for clients that accept gzip."""
    if (
        response.status_code != 200
        or response.is_streamed
        or response.direct_passthrough
        or "Content-Encoding" in response.headers
        or response.mimetype not in TYPES
        or request.accept_encodings["gzip"] <= 0
    ):
        return response
    body = response.get_data()
    if len(body) < MIN_SIZE:
        return response
    response.set_data(gzip.compress(body, 5, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    return response
