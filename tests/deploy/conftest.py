"""Helpers for the deployment tests: the docker/ files, free ports, polling HTTP servers."""

from __future__ import annotations

import http.client
import importlib.util
import socket
import time
from pathlib import Path
from types import ModuleType

from tests.support.workers import REPO

DOCKER = REPO / "docker"


def free_port() -> int:
    """A TCP port the OS says is free now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get(
    port: int, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """(status, headers with lower-case names, body) of GET http://127.0.0.1:port/path."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def wait_for_http(port: int, path: str, process, log: Path, timeout: float = 60.0) -> None:
    """Poll until the server answers ``path`` at all (any status), or fail with its log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}:\n{log.read_text()}")
        try:
            http_get(port, path)
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"no answer on port {port} within {timeout} s:\n{log.read_text()}")


def load_healthcheck() -> ModuleType:
    """docker/healthcheck.py as a module (docker/ is not a package)."""
    spec = importlib.util.spec_from_file_location(
        "sightline_healthcheck", DOCKER / "healthcheck.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
