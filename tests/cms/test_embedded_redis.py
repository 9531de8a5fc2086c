from __future__ import annotations

import pytest
import redis

from cms.embedded_redis import EmbeddedRedis, EmbeddedRedisError


def test_embedded_redis_starts_serves_streams_and_stops(tmp_path):
    server = EmbeddedRedis(tmp_path).start()
    try:
        client = redis.Redis.from_url(server.url)
        client.xadd("s", {"a": "1"})
        client.xgroup_create("s", "g", id="0")
        assert client.xreadgroup("g", "c", {"s": ">"}, count=1)[0][1][0][1] == {b"a": b"1"}
        client.close()
    finally:
        server.stop()
    assert not server.running
    assert not server.socket_path.exists()


def test_second_server_on_the_same_directory_is_refused(tmp_path):
    with EmbeddedRedis(tmp_path), pytest.raises(EmbeddedRedisError, match="already"):
        EmbeddedRedis(tmp_path).start()


def test_stop_is_idempotent(tmp_path):
    server = EmbeddedRedis(tmp_path).start()
    server.stop()
    server.stop()
