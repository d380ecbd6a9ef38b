"""Security headers on every response: pages, API JSON, event streams, static files, errors.

The Content-Security-Policy allows only this origin: no inline script or style, no other hosts, no
plugins, and no framing (clickjacking). Plotly is served from /vendor, images drawn by the page are
data: or blob: URLs.
"""

from __future__ import annotations

from flask import Response

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",  # a JSON or CSV answer is never run as a script
    "Referrer-Policy": "same-origin",  # run ids (in URLs) are not sent to other sites
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
}


def add_security_headers(response: Response) -> Response:
    """after_request hook: the headers above, unless a view set its own."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response
