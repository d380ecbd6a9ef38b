"""Errors: JSON with a sentence (and the field at fault) for the API, a small HTML page for pages.

Whatever goes wrong, a client never sees a traceback: a run store that cannot answer for now
(server.store.StoreUnavailable) or a Redis that cannot be reached (server.redis_client: the training
queue, the event streams, the rate limit's counts) is a 503 with its sentence and Retry-After, whatever
the path; unexpected exceptions are logged here and answered with a generic 500.
"""

from __future__ import annotations

import logging
from html import escape

from flask import Flask, Response, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from server.ratelimit import retry_after
from server.redis_client import ERRORS as REDIS_ERRORS
from server.redis_client import RedisUnavailable
from server.store import StoreUnavailable

log = logging.getLogger(__name__)

STORE_RETRY_AFTER_SECONDS = 2  # the store or Redis away for a moment: when to ask again


class ApiError(Exception):
    """Raise in a view to answer `status` with {"error": message, "field": field} (and "line": the line
    of an uploaded file at fault)."""

    def __init__(
        self,
        status: int,
        message: str,
        field: str | None = None,
        headers: dict | None = None,
        line: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.headers = headers or {}
        self.line = line


def too_large(limit: int | None) -> str:
    return f"The request body is too large: the limit is {limit} bytes."


def error_response(
    status: int, message: str, field: str | None = None, headers: dict | None = None, line: int | None = None
) -> Response:
    """The JSON error. Its Retry-After (if any) is the one the response leaves with: see retry_after_wins."""
    if headers and "Retry-After" in headers:
        g.retry_after = headers["Retry-After"]
    body: dict = {"error": message}
    if field is not None:
        body["field"] = field
    if line is not None:
        body["line"] = line
    response = jsonify(body)
    response.status_code = status
    response.headers.update(headers or {})
    response.headers["Cache-Control"] = "no-store"
    return response


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def _sentence(error: HTTPException) -> tuple[str, str | None]:
    """A human sentence for a werkzeug HTTP error (its own descriptions talk about 'the server')."""
    code = error.code or 500
    if code == 404:
        if request.path.startswith("/api/runs/"):
            return "No run with this id: run ids are 12 letters, digits, '-' or '_'.", None
        if request.path.startswith("/api/data/"):
            return "No stored points have this hash: hashes are 20 hex digits (0-9, a-f).", None
        return f"Nothing here: {request.path} is not an API route.", None
    if code == 405:
        allowed = ", ".join(m for m in (error.valid_methods or []) if m not in ("HEAD", "OPTIONS"))
        return f"{request.method} is not allowed on {request.path}; use {allowed}.", None
    if code == 413:
        return too_large(request.max_content_length), "body"
    if code == 429:  # Flask-Limiter: the description says what the limit is
        limit = error.description.rstrip(".")
        what = (
            "uploaded too many new point sets"
            if request.path == "/api/data"
            else "asked for too many predictions and views"
        )
        return f"You have {what}: the limit is {limit} per client. Try again in {g.retry_after} s.", None
    if code == 400:
        detail = (error.description or "bad request").rstrip(".")
        return f"The request could not be read: {detail}.", None
    return f"{error.name}.", None


def page_response(code: int, title: str, text: str) -> Response:
    """A small HTML error page (for the page routes; the API answers JSON)."""
    title, text = escape(title), escape(text)
    html = (
        f'<!doctype html><html lang="en"><meta charset="utf-8"><title>{title}</title><body><main>'
        f'<h1>{title}</h1><p>{text}</p><p><a href="/">Back to the playground</a></p></main></body></html>'
    )
    return Response(html, status=code, mimetype="text/html")


def not_found_page(title: str, message: str) -> Response:
    """templates/404.html with status 404, for the page routes (the API answers JSON instead)."""
    return Response(render_template("404.html", title=title, message=message), status=404)


def retry_after_wins(response: Response) -> Response:
    """The Retry-After an error was answered with (its sentence says the same seconds) is the one
    sent: Flask-Limiter would otherwise put the limit's own reset time over it. Runs after it."""
    if "retry_after" in g:
        response.headers["Retry-After"] = str(g.retry_after)
    return response


def register(app: Flask) -> None:
    """The error handlers, and retry_after_wins (registered before Flask-Limiter: it runs after it)."""
    app.after_request(retry_after_wins)

    @app.errorhandler(ApiError)
    def api_error(error: ApiError) -> Response:
        return error_response(error.status, error.message, error.field, error.headers, error.line)

    @app.errorhandler(StoreUnavailable)
    @app.errorhandler(RedisUnavailable)
    def unavailable(error: StoreUnavailable | RedisUnavailable) -> Response:
        retry_after = getattr(error, "retry_after", STORE_RETRY_AFTER_SECONDS)  # a full store: longer
        return error_response(503, error.message, headers={"Retry-After": str(retry_after)})

    for redis_error in REDIS_ERRORS:  # raised by what talks to Redis itself (Flask-Limiter's counts)
        app.register_error_handler(redis_error, lambda error: unavailable(RedisUnavailable()))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        code = error.code or 500
        if code == 429:  # Flask-Limiter's: the seconds until its limit lets this client through
            g.retry_after = str(retry_after())
        if _wants_json():
            message, field = _sentence(error)
            headers = (
                {"Allow": ", ".join(error.valid_methods)} if code == 405 and error.valid_methods else None
            )
            if code == 429:
                headers = {"Retry-After": g.retry_after}
            return error_response(code, message, field, headers)
        if code == 404:
            return not_found_page("Nothing here", "There is no page at this address.")
        return page_response(code, error.name, error.description or error.name)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.path)
        if _wants_json():
            return error_response(
                500, "Something went wrong in the server; it has been logged. Please try again."
            )
        return page_response(
            500, "Server error", "Something went wrong in the server; it has been logged. Please try again."
        )
