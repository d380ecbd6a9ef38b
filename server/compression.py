"""Gzip: which answers are worth compressing (one rule for static files and the app's own answers),
and the after_request hook that compresses the app's larger answers (page HTML, API JSON, CSV).

Static files are gzipped once per file and kept in memory by server.assets, using `worth_gzipping`
and `gzip_bytes` from here; the hook leaves them alone (they already carry Content-Encoding). Event
streams are never compressed (a compressor would hold events back until its buffer fills).
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterable, Iterator

from flask import Response, request

from server.green import off_loop

COMPRESSIBLE = ("text/", "application/json", "image/svg+xml")  # media types (prefixes) gzip shrinks
MIN_SIZE = 1400  # bytes; below about one packet, compression does not pay
STATIC_LEVEL = 9  # a static file is gzipped once per process, so the highest level pays
RESPONSE_LEVEL = 5  # the app's answers are gzipped on every request
OFF_LOOP_BYTES = 256 * 1024  # answers this large are gzipped off the event loop (server.green.off_loop)


def worth_gzipping(mimetype: str, size: int) -> bool:
    """Whether a body of this type and size should go out gzipped (to clients that accept it)."""
    return mimetype.startswith(COMPRESSIBLE) and size >= MIN_SIZE


def gzip_bytes(data: bytes, level: int) -> bytes:
    """Gzipped bytes without a timestamp, so the same input always gives the same output (ETags)."""
    return gzip.compress(data, level, mtime=0)


def accepts_gzip() -> bool:
    """Whether this request's client takes gzipped answers."""
    return request.accept_encodings["gzip"] > 0


def gzip_response(response: Response) -> Response:
    """after_request hook: compress a finished, compressible body for clients that accept gzip."""
    if (
        response.status_code != 200
        or response.is_streamed
        or response.direct_passthrough
        or "Content-Encoding" in response.headers
        or not accepts_gzip()
    ):
        return response
    body = response.get_data()
    if not worth_gzipping(response.mimetype or "", len(body)):
        return response
    if len(body) >= OFF_LOOP_BYTES:  # under gevent, the loop serves others while a large body is gzipped
        response.set_data(off_loop(gzip_bytes, body, RESPONSE_LEVEL))
    else:
        response.set_data(gzip_bytes(body, RESPONSE_LEVEL))
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    return response


def gzip_stream(chunks: Iterable[bytes], level: int = RESPONSE_LEVEL) -> Iterator[bytes]:
    """A streamed body gzipped as it goes (no timestamp, like gzip_bytes): each chunk is compressed when
    the one before has been sent, so a long answer never sits whole in memory."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)  # 31: the gzip format
    for chunk in chunks:
        if out := compressor.compress(chunk):
            yield out
    yield compressor.flush()
