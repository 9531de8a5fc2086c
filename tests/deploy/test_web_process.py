"""The web process as the image runs it (DEBUG off, behind the TLS proxy), started once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.conftest import DOCKER, free_port, http_get, load_healthcheck, wait_for_http
from tests.support.workers import child_env

HOST = "sightline.test"


class Web:
    def __init__(self, port: int, log: Path) -> None:
        self.port, self.log = port, log

    def records(self) -> list[dict]:
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def web(tmp_path_factory) -> Iterator[Web]:
    tmp = tmp_path_factory.mktemp("web")
    port = free_port()
    env = child_env(
        DEBUG="false",
        ALLOWED_HOSTS=HOST,
        WEB_HOST="127.0.0.1",
        WEB_PORT=str(port),
        LOG_FORMAT="json",
        SIGHTLINE_DATA_DIR=str(tmp),
        DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
    )
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    log = tmp / "web.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(DOCKER / "entrypoint.sh"), "web"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        wait_for_http(port, "/admin/login/", process, log)
        yield Web(port, log)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)


def test_the_healthcheck_asks_as_the_proxy_does(web, monkeypatch):
    healthcheck = load_healthcheck()
    monkeypatch.setenv("WEB_PORT", str(web.port))
    monkeypatch.setenv("ALLOWED_HOSTS", f"{HOST},.example.com")
    assert healthcheck.main(["healthcheck.py", "web"]) == 0
    # Without the proxy's header Django redirects to HTTPS; without an allowed Host it refuses.
    assert http_get(web.port, "/admin/login/", {"Host": HOST})[0] == 301
    monkeypatch.setenv("ALLOWED_HOSTS", "elsewhere.test")
    assert healthcheck.main(["healthcheck.py", "web"]) == 1


def test_the_access_log_masks_the_signed_weights_token(web):
    secret = "eyJtIjo1fQ-SIGNED-SECRET"
    status, _, _ = http_get(
        web.port,
        f"/models/5/weights?token={secret}",
        {"Host": HOST, "X-Forwarded-Proto": "https", "Authorization": f"Bearer {secret}"},
    )
    assert status == 403  # not a valid signature
    access = [r for r in web.records() if r["logger"] == "uvicorn.access"]
    assert any("/models/5/weights?token=***" in r["message"] for r in access)
    assert secret not in web.log.read_text()
