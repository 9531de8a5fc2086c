"""docker/healthcheck.py against the real things it checks: Redis, a Celery worker, files."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid

import pytest

from cms.farm import farm_keys
from cms.farm.heartbeats import WorkerInfo
from cms.results import results_stream
from tasks import app
from tests.deploy.conftest import load_healthcheck
from tests.support.workers import REPO, child_env


@pytest.fixture
def healthcheck():
    return load_healthcheck()


def run(healthcheck, role: str) -> int:
    return healthcheck.main(["healthcheck.py", role])


def test_the_role_comes_from_the_command_pid_1_runs(healthcheck, tmp_path):
    cmdline = tmp_path / "cmdline"
    cmdline.write_bytes(b"/usr/bin/tini\0--\0/app/docker/entrypoint.sh\0ingest\0")
    assert healthcheck.container_role(cmdline) == "ingest"
    cmdline.write_bytes(b"/usr/bin/tini\0--\0/app/docker/entrypoint.sh\0bash\0")
    assert healthcheck.container_role(cmdline) == "bash"
    cmdline.write_bytes(b"python\0manage.py\0shell\0")
    assert healthcheck.container_role(cmdline) is None
    assert healthcheck.container_role(tmp_path / "missing") is None


def test_a_command_without_a_check_is_healthy(healthcheck, capsys):
    assert run(healthcheck, "bash") == 0
    assert "no health check" in capsys.readouterr().out


def test_ingest_is_healthy_while_its_heartbeat_lives(healthcheck, redis_client, capsys):
    name = f"ingest@{socket.gethostname()}"
    assert run(healthcheck, "ingest") == 1
    assert "no live heartbeat" in capsys.readouterr().out
    farm_keys.write_worker(redis_client, WorkerInfo(name=name, device="cpu", capacity=2))
    assert run(healthcheck, "ingest") == 0
    farm_keys.remove_worker(redis_client, name)
    assert run(healthcheck, "ingest") == 1


def test_results_is_unhealthy_when_results_wait_and_no_consumer_here_reads(
    healthcheck, redis_client, monkeypatch
):
    results_stream.ensure_group(redis_client)
    stream = results_stream.results_stream()
    assert run(healthcheck, "results") == 0  # a quiet stream: nothing waits
    redis_client.xadd(stream, {"r": "{}"})
    assert run(healthcheck, "results") == 1  # a result waits, no consumer of this host
    redis_client.xreadgroup(results_stream.GROUP, "elsewhere-1", {stream: ">"}, count=1)
    redis_client.xadd(stream, {"r": "{}"})
    assert run(healthcheck, "results") == 1  # another host's consumer does not count
    redis_client.xreadgroup(
        results_stream.GROUP, f"{socket.gethostname()}-7", {stream: ">"}, count=1
    )
    assert run(healthcheck, "results") == 0
    monkeypatch.setattr(healthcheck, "RESULTS_MAX_IDLE_MS", -1)  # as if it stopped reading
    redis_client.xadd(stream, {"r": "{}"})
    assert run(healthcheck, "results") == 1


def test_beat_is_healthy_while_it_writes_its_schedule(healthcheck, settings, tmp_path):
    settings.CELERY_BEAT_SCHEDULE_FILENAME = str(tmp_path / "celerybeat-schedule")
    assert run(healthcheck, "beat") == 1
    schedule = tmp_path / "celerybeat-schedule.db"
    schedule.write_bytes(b"")
    assert run(healthcheck, "beat") == 0
    stale = time.time() - healthcheck.BEAT_MAX_AGE_S - 60
    os.utime(schedule, (stale, stale))
    assert run(healthcheck, "beat") == 1


def test_beat_writes_the_schedule_file_the_check_watches(tmp_path):
    """A real beat creates the file at start; it rewrites it every 3 minutes after."""
    env = child_env(SIGHTLINE_DATA_DIR=str(tmp_path))
    beat = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tasks", "beat", "--loglevel", "WARNING"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob("celerybeat-schedule*")):
            assert time.monotonic() < deadline, "beat wrote no schedule file"
            assert beat.poll() is None, "beat exited"
            time.sleep(0.2)
    finally:
        beat.terminate()
        beat.wait(30)


def test_control_is_healthy_while_its_worker_answers(healthcheck, monkeypatch, tmp_path):
    host = f"hc-{uuid.uuid4().hex[:8]}"  # unique, so parallel sessions never collide
    monkeypatch.setattr(healthcheck.socket, "gethostname", lambda: host)
    monkeypatch.setattr(healthcheck, "HTTP_TIMEOUT_S", 1.0)
    assert run(healthcheck, "control") == 1
    name = f"control@{host}"
    log = (tmp_path / "control.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tasks", "worker", "--hostname", name,
         "--exclude-queues", "control", "--pool", "threads", "--concurrency", "1",
         "--without-mingle", "--without-gossip", "--loglevel", "WARNING"],
        cwd=REPO, env=child_env(), stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[name], timeout=0.5):
            assert time.monotonic() < deadline, (tmp_path / "control.log").read_text()
            assert worker.poll() is None, (tmp_path / "control.log").read_text()
        assert run(healthcheck, "control") == 0
    finally:
        worker.terminate()
        worker.wait(30)
