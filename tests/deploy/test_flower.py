"""Flower as `make run` and the image start it (the Procfile line), with basic auth."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.conftest import DOCKER, free_port, http_get, load_healthcheck, wait_for_http
from tests.support.workers import child_env

LOGIN = "operator:correct-horse-battery"


def basic(login: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(login.encode()).decode()}


@pytest.fixture(scope="module")
def flower(tmp_path_factory) -> Iterator[int]:
    tmp = tmp_path_factory.mktemp("flower")
    port = free_port()
    # FLOWER_BASIC_AUTH and FLOWER_PORT are read by Flower itself (and the Procfile line).
    env = child_env(
        FLOWER_BASIC_AUTH=LOGIN,
        FLOWER_PORT=str(port),
        FLOWER_ADDRESS="127.0.0.1",
        SIGHTLINE_DATA_DIR=str(tmp),
    )
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    log = tmp / "flower.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(DOCKER / "entrypoint.sh"), "flower"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_http(port, "/healthcheck", process, log)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)


def test_flower_refuses_requests_without_the_login(flower):
    status, headers, _ = http_get(flower, "/")
    assert status == 401
    assert headers.get("www-authenticate", "").startswith("Basic")
    assert http_get(flower, "/", basic("operator:wrong"))[0] == 401
    assert http_get(flower, "/api/workers")[0] == 401


def test_flower_answers_with_the_login(flower):
    assert http_get(flower, "/", basic(LOGIN))[0] == 200
    assert http_get(flower, "/api/workers", basic(LOGIN))[0] == 200


def test_flower_serves_prometheus_metrics(flower):
    # Flower 2.2 serves /metrics (and /healthcheck) outside its basic auth: a scraper
    # needs no credentials, and the port must stay off public networks (docs/deploy.md).
    for headers in (basic(LOGIN), {}):
        status, response_headers, body = http_get(flower, "/metrics", headers)
        assert status == 200
        assert response_headers["content-type"].startswith("text/plain")
        text = body.decode()
        assert "# TYPE flower_events_total counter" in text
        assert "# HELP flower_worker_online" in text


def test_the_container_healthcheck_sees_flower(flower, monkeypatch):
    monkeypatch.setenv("FLOWER_PORT", str(flower))
    assert load_healthcheck().main(["healthcheck.py", "flower"]) == 0
