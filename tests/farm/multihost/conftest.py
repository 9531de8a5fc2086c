"""The farm across hosts on one machine (docs/deploy.md "Testing across hosts").

The test process's own network namespace is the control host: the database (the test
database), the web server (a live server of this process, on the bridge address), Redis with
a password, beat, the control worker and the results consumer. Ingest hosts B and C are
network namespaces (tests.support.hosts), each with its own model cache, data, media and
temp directories and no DATABASE_URL: they reach the control host's Redis and web server
over the bridge, nothing else. Where namespaces cannot be made, these tests skip.
"""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from django.conf import settings as django_settings
from pytest_django.live_server_helper import LiveServer

from tests.conftest import use_redis
from tests.farm.conftest import Farm
from tests.support import hosts as host_support
from tests.support.redis_server import PasswordRedis
from tests.support.workers import CeleryWorker, reset_broker_connections


@dataclass
class IngestHost:
    """An ingest host: its namespace, and the directories only its processes use."""

    host: host_support.Host
    root: Path

    def env(self) -> dict[str, str | None]:
        own = {name: self.root / name for name in ("data", "models", "media", "thumbs", "tmp")}
        for path in own.values():
            path.mkdir(parents=True, exist_ok=True)
        return {
            "DATABASE_URL": None,  # and its default SQLite file is under its own data dir
            "SIGHTLINE_DATA_DIR": str(own["data"]),
            "SIGHTLINE_MODEL_CACHE_DIR": str(own["models"]),
            "MEDIA_ROOT": str(own["media"]),
            "SIGHTLINE_THUMBNAIL_DIR": str(own["thumbs"]),
            "YOLO_CONFIG_DIR": str(own["tmp"] / "ultralytics"),
            "TMPDIR": str(own["tmp"]),
        }

    def ingest(self, farm: Farm, capacity: int = 4) -> CeleryWorker:
        """An ingest worker of ``farm`` on this host."""
        return farm.ingest(
            capacity=capacity,
            name=f"ingest-{secrets.token_hex(4)}@host-{self.host.name}",
            env=self.env(),
            command_prefix=self.host.command_prefix,
        )

    def unsent_to(self, port: int) -> int:
        """Bytes this host's TCP sockets to ``port`` sent that the peer has not acknowledged,
        closed sockets included (``ss`` in its namespace: the Send-Q column)."""
        out = subprocess.run(
            [*self.host.command_prefix, "ss", "-tnH", "state", "all", f"dport = :{port}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return sum(int(line.split()[2]) for line in out.splitlines() if line.strip())


@dataclass
class Hosts:
    network: host_support.HostNetwork
    redis: PasswordRedis
    b: IngestHost
    c: IngestHost


@pytest.fixture
def hosts(tmp_path: Path) -> Iterator[Hosts]:
    reason = host_support.unavailable()
    if reason:
        pytest.skip(f"tests across hosts need network namespaces: {reason}")
    network = host_support.HostNetwork()
    previous_redis = django_settings.REDIS_URL
    server: PasswordRedis | None = None
    try:
        network.start()
        b = IngestHost(network.add_host("b"), tmp_path / "host-b")
        c = IngestHost(network.add_host("c"), tmp_path / "host-c")
        server = PasswordRedis(
            tmp_path / "control-redis", network.control_address, secrets.token_hex(16)
        ).start()
        # This process (the web server, the test's reads) and every farm process use it.
        use_redis(server.url)
        reset_broker_connections()
        yield Hosts(network, server, b, c)
    finally:
        use_redis(previous_redis)
        reset_broker_connections()
        if server is not None:
            server.stop()
        network.close()


@pytest.fixture
def redis_client(hosts: Hosts) -> Iterator[redis.Redis]:
    """A client of the control host's Redis (a fresh server: nothing to empty)."""
    client = redis.Redis.from_url(hosts.redis.url)
    yield client
    client.close()


@pytest.fixture
def farm_web_url(hosts: Hosts, settings, transactional_db) -> Iterator[str]:
    """The web server on the control host's bridge address, where ingest hosts reach it."""
    address = hosts.network.control_address
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, address]
    server = LiveServer(f"{address}:0")
    yield server.url
    server.stop()
