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
from redis.backoff import NoBackoff
from redis.retry import Retry

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


def named_client(name: str) -> redis.Redis:
    """A client of its own holding one connection named ``name`` (CLIENT SETNAME): it stays
    open between commands, and redis-py names it again whenever it reconnects. It connects
    at once, so this raises redis.ConnectionError while Redis is unreachable."""
    return redis.Redis.from_url(
        settings.REDIS_URL,
        client_name=name,
        single_connection_client=True,
        # A command that finds the connection closed (Redis restarted, CLIENT KILL) connects
        # again and retries at once, so the name is back within one command.
        retry=Retry(NoBackoff(), 1),
        socket_timeout=5,
        socket_connect_timeout=5,
        health_check_interval=30,
    )
