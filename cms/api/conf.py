"""API settings with their defaults, read at call time so tests can override them."""

from __future__ import annotations

from django.conf import settings

# Comment lines keep proxies from closing an idle event stream (most cut after 30-60 s).
DEFAULT_SSE_KEEPALIVE_S = 15.0
# What an EventSource waits before reconnecting after the stream ends.
DEFAULT_SSE_RETRY_MS = 3000
# A display client that has not sent a heartbeat for this long is shown offline.
DEFAULT_CLIENT_TIMEOUT_S = 90.0


def sse_keepalive_s() -> float:
    return float(getattr(settings, "SIGHTLINE_SSE_KEEPALIVE_S", DEFAULT_SSE_KEEPALIVE_S))


def sse_retry_ms() -> int:
    return int(getattr(settings, "SIGHTLINE_SSE_RETRY_MS", DEFAULT_SSE_RETRY_MS))


def client_timeout_s() -> float:
    return float(getattr(settings, "SIGHTLINE_DISPLAY_CLIENT_TIMEOUT_S", DEFAULT_CLIENT_TIMEOUT_S))
