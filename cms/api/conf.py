"""API settings, read at call time so tests can override them (see cms/settings.py)."""

from __future__ import annotations

from django.conf import settings


def sse_keepalive_s() -> float:
    return settings.SIGHTLINE_SSE_KEEPALIVE_S


def sse_retry_ms() -> int:
    return settings.SIGHTLINE_SSE_RETRY_MS


def client_timeout_s() -> float:
    return settings.SIGHTLINE_DISPLAY_CLIENT_TIMEOUT_S
