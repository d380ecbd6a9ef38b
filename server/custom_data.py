"""Your own points over HTTP: `POST /api/data` stores CSV text (x,y,label rows) once per content and
answers its hash; `GET /api/data/<hash>` gives the points back (a permalink or a Fork redraws them).
`find_data(store)` is how a config's `data` hash finds its points (core.config.parse_config's find_data).

POST /api/data reads the body as CSV whatever its Content-Type says (as curl --data-binary sends it):
201 {data, points, classes} for new points, 200 with the same for points stored already (the hash is of
the canonical CSV, core.custom_data: the same points in any order or spelling are one row), 400
{error, line, field} for the first bad row (field: its column, x, y or label; "body" when the whole
file is at fault), 413 past the body cap (PLAYGROUND_MAX_BODY) or the row cap (PLAYGROUND_MAX_POINTS).
New point sets count against the client's upload rate (PLAYGROUND_DATA_RATELIMIT); stored ones do not.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.routing import BaseConverter

from core.config import FindData
from core.custom_data import HASH_PATTERN, CsvError, CustomData, TooManyRows, from_canonical, parse_csv
from server.errors import ApiError
from server.lru import LRU
from server.ratelimit import data_per_client, data_stored, limiter
from server.request_body import read_body
from server.store import Store

bp = Blueprint("custom_data", __name__, url_prefix="/api")

# Points by hash, for this process: a hash names one content wherever it is stored, so any store's
# answer is every store's. About 80 kB each at the 5,000-point limit.
_points = LRU(32)


class DataHashConverter(BaseConverter):
    regex = HASH_PATTERN


class _NotStored(LookupError):
    """No points under this hash (not cached: they may be uploaded later)."""


def find_data(store: Store) -> FindData:
    """Looks up the points a hash names in `store` (cached), or None."""

    def load(digest: str) -> CustomData:
        csv = store.dataset(digest)
        if csv is None:
            raise _NotStored(digest)
        return from_canonical(csv)

    def find(digest: str) -> CustomData | None:
        try:
            return _points.get(digest, lambda: load(digest))
        except _NotStored:
            return None

    return find


def _store() -> Store:
    return current_app.extensions["playground"].store


def _read_csv() -> str:
    """The body as text: UTF-8, at most MAX_CONTENT_LENGTH bytes (413), and not a form."""
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        message = "Send the CSV text itself as the body (Content-Type: text/csv), not a form."
        raise ApiError(400, message, "body")
    raw = read_body()
    if not raw.strip():
        raise ApiError(400, "The body is empty: send CSV rows of x,y,label, such as 0.5,-0.2,1.", "body")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "The body is not UTF-8 text; send CSV rows of x,y,label.", "body") from None


@bp.post("/data")
@limiter.limit(data_per_client, deduct_when=data_stored)
def upload() -> tuple[Response, int, dict]:
    limits = current_app.config["LIMITS"]
    try:
        points = parse_csv(_read_csv(), limits.max_points, limits.max_classes)
    except CsvError as error:
        status = 413 if isinstance(error, TooManyRows) else 400
        raise ApiError(status, error.message, error.column or "body", line=error.line) from None
    created = _store().add_dataset(points.hash, points.csv(), points.points, points.classes)
    body = {"data": points.hash, "points": points.points, "classes": points.classes}
    return jsonify(body), 201 if created else 200, {"Location": f"/api/data/{points.hash}"}


@bp.get("/data/<data_hash:digest>")
def show(digest: str) -> Response:
    points = find_data(_store())(digest)
    if points is None:
        raise ApiError(404, f"No stored points have the hash {digest}: upload them with POST /api/data.")
    body = {"data": digest, "points": points.points, "classes": points.classes, "rows": points.rows()}
    response = jsonify(body)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"  # a hash names one content
    return response
