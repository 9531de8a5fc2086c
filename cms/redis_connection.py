"""The one Redis connection pool of a process, and the prefix every Sightline key starts with.

Each key family has one owning module (cms.farm.farm_keys, cms.live,
cms.results.results_stream, cms.api.throttling); they all build on PREFIX.

redis-py types every reply of its sync client as ``Awaitable | Any`` (one command class
serves the sync and the asyncio client, redis/redis-py#2399), so those modules ``cast`` a
reply to what the command returns where they read it.
"""

from __future__ import annotations

import redis
from django.conf import settings

PREFIX = "sightline"

_clients: dict[str, redis.Redis] = {}


def client() -> redis.Redis:
    """A process-wide client (a connection pool) for settings.REDIS_URL."""
    url = settings.REDIS_URL
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(
            url, socket_timeout=5, socket_connect_timeout=5, health_check_interval=30
        )
    return _clients[url]
