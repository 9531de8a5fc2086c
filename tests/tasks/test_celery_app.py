"""A real worker process runs a real task through the real broker."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tasks import app
from tasks.control import echo
from tests.support.workers import REPO, CeleryWorker, child_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def control_worker(tmp_path):
    worker = CeleryWorker(tmp_path, queues="control").start()
    yield worker
    worker.terminate()


def test_worker_runs_a_task_through_the_broker(control_worker):
    result = echo.delay("hello")
    assert result.get(timeout=30)["value"] == "hello"


def test_inspect_ping_answers_from_the_worker(control_worker):
    out = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "tasks", "inspect", "ping", "--timeout", "5"],
        cwd=REPO,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert control_worker.name in out.stdout


def test_configuration_is_json_only_with_explicit_queues():
    conf = app.conf
    assert conf.accept_content == ["json"]
    assert conf.task_serializer == "json"
    assert conf.worker_direct is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.worker_send_task_events is True
    assert conf.task_default_queue == "control"
