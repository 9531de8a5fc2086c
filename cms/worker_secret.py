"""The secret ingest workers prove themselves with to the web server's internal endpoints.

SIGHTLINE_WORKER_SECRET, the same on the web servers and every ingest worker. With DEBUG on
and the variable unset, one is generated once under DATA_DIR (mode 0600), which the web
server and the workers of `make run` share; with DEBUG off it is required.
"""

from __future__ import annotations

import hmac
import secrets

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MIN_LENGTH = 16
SCHEME = "Worker"  # Authorization: Worker <secret>


def worker_secret() -> str:
    """The secret; ImproperlyConfigured when DEBUG is off and it is unset or too short."""
    secret = settings.SIGHTLINE_WORKER_SECRET
    if not secret and settings.DEBUG:
        secret = _development_secret()
    if len(secret) < MIN_LENGTH:
        raise ImproperlyConfigured(
            "SIGHTLINE_WORKER_SECRET must be set (at least "
            f"{MIN_LENGTH} characters, the same on the web servers and every ingest worker) "
            "when DEBUG is off: ingest workers fetch camera sources from the web server with it"
        )
    return secret


def authorization_header() -> str:
    return f"{SCHEME} {worker_secret()}"


def is_worker(authorization: str) -> bool:
    """Whether an Authorization header carries the worker secret (constant-time compare);
    False, never an error, when this server has no secret configured."""
    scheme, _, given = authorization.partition(" ")
    try:
        expected = worker_secret()
    except ImproperlyConfigured:
        return False
    return scheme == SCHEME and hmac.compare_digest(given.encode(), expected.encode())


def _development_secret() -> str:
    path = settings.DATA_DIR / "worker-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32))
    return path.read_text().strip()
