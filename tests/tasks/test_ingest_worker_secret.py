"""An ingest worker without the worker secret stops at start, saying so (DEBUG off)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.workers import REPO


def test_an_ingest_worker_without_a_worker_secret_fails_at_start_naming_it():
    env = {k: v for k, v in os.environ.items() if k != "SIGHTLINE_WORKER_SECRET"}
    env.update(
        DEBUG="false",
        SECRET_KEY="a-production-secret-key-for-this-test-0123456789abcdef",
        ALLOWED_HOSTS="localhost",
        REDIS_URL="redis://127.0.0.1:1/0",  # never reached: it stops before
        DJANGO_SETTINGS_MODULE="cms.settings",
    )
    done = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "tasks", "worker", "--ingest",
         "--pool", "threads", "--concurrency", "1", "--without-mingle", "--without-gossip"],
        cwd=REPO, env=env, capture_output=True, timeout=120, check=False,
    )  # fmt: skip

    assert done.returncode != 0
    assert b"SIGHTLINE_WORKER_SECRET must be set" in done.stdout + done.stderr
