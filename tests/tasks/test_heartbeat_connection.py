"""The ingest worker's heartbeat connection: named, or the shared pool where Redis refuses."""

from __future__ import annotations

from types import SimpleNamespace
from urllib.parse import urlsplit, urlunsplit

import pytest

from cms import redis_connection
from cms.farm import worker_connections
from tasks.worker import Heartbeat


@pytest.fixture
def acl_user(redis_client, settings):
    """REDIS_URL as a user that may not run CLIENT (as "-@admin" does on Redis 6)."""
    redis_client.acl_setuser(
        "restricted", enabled=True, passwords=["+pw"], keys=["*"], channels=["*"],
        commands=["+@all", "-client"],
    )  # fmt: skip
    url = urlsplit(settings.REDIS_URL)
    settings.REDIS_URL = urlunsplit(url._replace(netloc=f"restricted:pw@{url.netloc}"))
    yield settings.REDIS_URL
    redis_connection._clients.pop(settings.REDIS_URL, None)
    redis_client.acl_deluser("restricted")


def heartbeat(name: str) -> Heartbeat:
    return Heartbeat(SimpleNamespace(name=name), started_at=0.0)  # type: ignore[arg-type]


def test_the_heartbeat_connection_is_named_after_the_worker(redis_client):
    client = heartbeat("ingest-n@h")._client()
    client.ping()
    assert "ingest-n@h" in worker_connections.connected_workers(redis_client)
    client.close()


def test_a_redis_that_refuses_client_setname_still_gets_heartbeats(acl_user, redis_client):
    client = heartbeat("ingest-r@h")._client()
    assert client is redis_connection.client()  # the shared pool, as before named connections
    client.set("sightline:test:heartbeat", 1)
    assert redis_client.get("sightline:test:heartbeat") == b"1"
    assert "ingest-r@h" not in worker_connections.connected_workers(redis_client)
