"""Static files, Plotly.js among them, gzipped once and cached in memory, with validators.

/static/<path> serves static/, which holds the page's Plotly.js: the basic partial bundle,
vendored in static/vendor/plotly-basic/ (no CDN: the page works offline; its README says where it
came from). Text files go out gzipped to clients that accept it (which files: server.compression;
Plotly: 1.5 MB raw, 0.5 MB gzipped). Every answer carries an ETag and Last-Modified, so a revisit
costs a 304. `asset_url()` and `vendor_url()` (template globals) add ?v=<content hash>; such
fingerprinted URLs are cached for a year without revalidation, since a new file gets a new URL.
`warm()` does all of this ahead of the first page view (gzipping Plotly takes about 0.1 s).
"""

from __future__ import annotations

import hashlib
import mimetypes
import threading
from dataclasses import dataclass, field
from pathlib import Path

from flask import Blueprint, Response, abort, request
from werkzeug.security import safe_join

from server.compression import STATIC_LEVEL, accepts_gzip, gzip_bytes, worth_gzipping

bp = Blueprint("assets", __name__)

STATIC_FOLDER = Path(__file__).resolve().parent.parent / "static"
PLOTLY_BUNDLE = "vendor/plotly-basic/plotly-basic.min.js"  # inside STATIC_FOLDER

TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".html": "text/html",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".txt": "text/plain",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}
YEAR = 365 * 24 * 3600


@dataclass
class Asset:
    raw: bytes
    etag: str
    modified: float
    mimetype: str
    compressible: bool
    _gzipped: bytes | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def gzipped(self) -> bytes | None:
        """The gzipped bytes, made on first use (once, whoever asks first), or None if not worth it.
        Not made by load(): a page needs Plotly's hash for its URL, not its gzipped copy."""
        if not self.compressible:
            return None
        with self._lock:
            if self._gzipped is None:
                self._gzipped = gzip_bytes(self.raw, STATIC_LEVEL)
            return self._gzipped


_cache: dict[str, tuple[tuple[int, int], Asset]] = {}
_lock = threading.Lock()


def load(path: Path) -> Asset:
    """The file's bytes and validators; re-read only when its size or mtime changes."""
    stat = path.stat()
    key = (stat.st_mtime_ns, stat.st_size)
    with _lock:
        cached = _cache.get(str(path))
    if cached and cached[0] == key:
        return cached[1]
    raw = path.read_bytes()
    mimetype = (
        TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    )
    asset = Asset(
        raw=raw,
        etag=hashlib.sha256(raw).hexdigest()[:20],
        modified=stat.st_mtime,
        mimetype=mimetype,
        compressible=worth_gzipping(mimetype, len(raw)),
    )
    with _lock:
        cached = _cache.get(str(path))
        if cached and cached[0] == key:
            return cached[1]  # another thread loaded it meanwhile: keep one Asset (one gzipped copy)
        _cache[str(path)] = (key, asset)
    return asset


def warm(compress: bool = True) -> None:
    """Load every static file (Plotly too) into the cache now (and gzip them), so no visitor waits."""
    for path in sorted(STATIC_FOLDER.rglob("*")):
        if not path.is_file():
            continue
        asset = load(path)
        if compress:
            asset.gzipped()


def serve(path: Path) -> Response:
    asset = load(path)
    zipped = asset.compressible and accepts_gzip()
    response = Response(asset.gzipped() if zipped else asset.raw, mimetype=asset.mimetype)
    response.set_etag(asset.etag + ("-gz" if zipped else ""))
    response.last_modified = asset.modified
    if zipped:
        response.headers["Content-Encoding"] = "gzip"
    if asset.compressible:
        response.vary.add("Accept-Encoding")
    if request.args.get("v") == asset.etag[:12]:
        response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    else:
        response.headers["Cache-Control"] = "no-cache"  # cache, but ask (a cheap 304) before reuse
    return response.make_conditional(request)


def asset_url(filename: str) -> str:
    """/static/<filename>?v=<hash>: a URL that changes when the file does (for templates)."""
    path = safe_join(str(STATIC_FOLDER), filename)
    if path is None or not Path(path).is_file():
        return f"/static/{filename}"
    return f"/static/{filename}?v={load(Path(path)).etag[:12]}"


def vendor_url() -> str:
    """The fingerprinted URL of the page's Plotly.js bundle (for templates)."""
    return asset_url(PLOTLY_BUNDLE)


@bp.get("/static/<path:filename>")
def static_file(filename: str) -> Response:
    path = safe_join(str(STATIC_FOLDER), filename)
    if path is None or not Path(path).is_file():
        abort(404)
    return serve(Path(path))
