"""The request body, bounded by PLAYGROUND_MAX_BODY (MAX_CONTENT_LENGTH) however it is sent.

werkzeug refuses a Content-Length past the limit (413), but cuts a chunked body (no Content-Length)
at the limit without a word, so a JSON body would end in the middle ("not valid JSON") and a CSV file
would lose rows. `read_body` reads a chunked body itself, at most one byte past the limit, and answers
413 with the same sentence as for a Content-Length past it.
"""

from __future__ import annotations

from flask import request

from server.errors import ApiError, too_large


def read_body() -> bytes:
    """The whole request body; ApiError 413 (field "body") past the limit."""
    cap = request.max_content_length
    if request.content_length is not None or cap is None or "wsgi.input_terminated" not in request.environ:
        return request.get_data(cache=False)  # werkzeug checks the Content-Length
    stream, chunks, size = request.environ["wsgi.input"], [], 0
    while size <= cap:
        chunk = stream.read(cap + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > cap:
        raise ApiError(413, too_large(cap), "body")
    return b"".join(chunks)
