"""Run ownership: whoever started a run holds its owner token; whatever changes the run requires it.

`POST /api/runs` answers the token once (`new_token()`); the store keeps only its SHA-256, so a copy of
the database does not hand out the right to stop runs. A request proves ownership with the HTTP header
`Authorization: Bearer <token>`; `check_owner` compares the hash of what it got with the stored one in
constant time (hmac.compare_digest) and raises OwnershipError, with a sentence for the person asking,
when the header is missing or the token is wrong. Watching, replaying, forking, predicting and
downloading need no token: a run's link is enough for those.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_BYTES = 32  # 256 random bits, 43 URL-safe characters


class OwnershipError(Exception):
    """The request may not change this run; str(error) says why, in a sentence."""


def new_token() -> tuple[str, str]:
    """(token, its hash): the token goes to the client once, the hash to the store."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    """The SHA-256 of a token, in hex: what the store keeps."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None if there is none."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def check_owner(stored_hash: str | None, authorization: str | None, action: str = "stop") -> None:
    """Raise OwnershipError unless `authorization` carries the token whose hash is `stored_hash`."""
    token = bearer_token(authorization)
    if token is None:
        raise OwnershipError(
            f"Only the browser that started this run can {action} it: send its owner token as "
            "'Authorization: Bearer <token>'."
        )
    # Both sides are hashed first: equal lengths, and nothing about the stored hash leaks through timing.
    if stored_hash is None or not hmac.compare_digest(token_hash(token), stored_hash):
        raise OwnershipError(f"This owner token does not belong to this run, so it cannot {action} it.")
