"""Rate limits for display tokens, counted in Redis so every web process shares them.

- ``sightline:api:throttle:display:<id>:<window>``  requests of one display in one window

A fixed window per display (INCR + EXPIRE): cheap, atomic and shared by all uvicorn
workers, unlike DRF's default per-process cache. The rate is
``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["display"]`` (e.g. ``600/min``).
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

import redis
from django.core.exceptions import ImproperlyConfigured
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from cms import redis_connection
from cms.api.auth import DisplayClient

log = logging.getLogger(__name__)

KEY_PREFIX = f"{redis_connection.PREFIX}:api:throttle:display"
RATE = re.compile(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)")


class DisplayRateThrottle(SimpleRateThrottle):
    scope = "display"
    # Set by SimpleRateThrottle.__init__ from the rate; None when there is no rate.
    num_requests: int | None
    duration: int | None

    def get_rate(self) -> str | None:
        # Read at call time (DRF reads it once at import), so a settings change applies.
        rates: dict[str, str | None] = api_settings.DEFAULT_THROTTLE_RATES  # type: ignore[assignment]  # DRF stubs type the rates as numbers; they are "N/period" strings
        rate = rates.get(self.scope)
        if rate is not None and not RATE.fullmatch(rate):
            raise ImproperlyConfigured(
                f"display throttle rate {rate!r} (SIGHTLINE_API_DISPLAY_RATE) is not "
                "'<number>/<second|minute|hour|day>'"
            )
        return rate

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.user, DisplayClient):
            return display_throttle_key(request.user.display.pk)
        return None

    def allow_request(self, request: Request, view: Any) -> bool:
        key = self.get_cache_key(request, view)
        if key is None or self.num_requests is None or self.duration is None:  # no rate
            return True
        allowed, self._wait = allow(key, self.num_requests, self.duration)
        return allowed

    def wait(self) -> float | None:
        return getattr(self, "_wait", None)


def allow(key: str, limit: int, period_s: int, now: float | None = None) -> tuple[bool, float]:
    """Count one request under ``key``; (allowed, seconds until the window resets).

    Fails open: when Redis is unreachable a display is not locked out (the rest of the
    API answers 503 then anyway).
    """
    now = time.time() if now is None else now
    window = int(now // period_s)
    window_key = f"{key}:{window}"
    try:
        pipe = redis_connection.client().pipeline(transaction=False)
        pipe.incr(window_key)
        pipe.expire(window_key, period_s + 1)
        count, _ = pipe.execute()
    except redis.RedisError as exc:
        log.warning("display throttle not applied, Redis unavailable: %s", exc)
        return True, 0.0
    return count <= limit, (window + 1) * period_s - now


def display_throttle_key(display_id: int) -> str:
    return f"{KEY_PREFIX}:{display_id}"


def allow_display(display_id: int) -> tuple[bool, float]:
    """The display throttle outside DRF (the async event stream view)."""
    throttle = DisplayRateThrottle()
    if throttle.num_requests is None or throttle.duration is None:  # no rate
        return True, 0.0
    return allow(display_throttle_key(display_id), throttle.num_requests, throttle.duration)
