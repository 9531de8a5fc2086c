"""Real Celery worker processes for tests: started, waited for, stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import kombu.pools
import redis
from django.conf import settings
from django.db import connection

from cms.farm.task_sender import sender
from tasks import app

REPO = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The URL of the database this test process uses (the test database)."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    port = db.get("PORT") or 5432
    return f"postgres://{db['USER']}:{db.get('PASSWORD', '')}@{db['HOST']}:{port}/{db['NAME']}"


def child_env(**extra: str | None) -> dict[str, str]:
    """Environment for a farm process that shares this test session's Redis and database;
    an ``extra`` of None removes that variable (an ingest host has no DATABASE_URL)."""
    env = dict(os.environ)
    env.update(
        REDIS_URL=settings.REDIS_URL,
        DATABASE_URL=database_url(),
        PYTHONUNBUFFERED="1",
        DJANGO_SETTINGS_MODULE="cms.settings",
        # The same key as this process: spec hashes are keyed with it.
        SECRET_KEY=settings.SECRET_KEY,
    )
    for name, value in extra.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def reset_broker_connections() -> None:
    """Drop this process's pooled broker connections (dead after a Redis restart).

    Celery does the same after a fork, when inherited connections are unusable.
    """
    kombu.pools.reset()  # closes them and forgets the pools kombu keeps per broker URL
    app._after_fork()
    sender._after_fork()  # the Django side's send-only app has pools of its own


class CeleryWorker:
    """``celery -A tasks worker`` in its own process, named uniquely for the test."""

    def __init__(
        self,
        log_dir: Path,
        *,
        prefix: str = "test",
        queues: str | None = None,
        concurrency: int = 2,
        extra_args: tuple[str, ...] = (),
        env: dict[str, str | None] | None = None,
        command_prefix: tuple[str, ...] = (),
    ) -> None:
        """``command_prefix`` runs it elsewhere, e.g. on a host of tests.support.hosts."""
        self.name = f"{prefix}-{uuid.uuid4().hex[:8]}@{os.uname().nodename}"
        self.log_path = log_dir / f"{self.name.split('@')[0]}.log"
        self.args = [
            *command_prefix, sys.executable, "-m", "celery", "-A", "tasks", "worker",
            "--hostname", self.name, "--pool", "threads",
            "--concurrency", str(concurrency), "--loglevel", "INFO",
            "--without-mingle", "--without-gossip",
            *(("--queues", queues) if queues else ()),
            *extra_args,
        ]  # fmt: skip
        self.env = child_env(**(env or {}))
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> CeleryWorker:
        """Start the worker and return once it answers a ping through the broker."""
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.args, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.log()}")
            try:
                if app.control.ping(destination=[self.name], timeout=0.5):
                    return self
            except (OSError, redis.ConnectionError):
                reset_broker_connections()  # the next try connects afresh
        self.kill()
        raise TimeoutError(f"worker {self.name} did not answer within {timeout} s:\n{self.log()}")

    def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM (warm shutdown) and wait; returns the exit code."""
        return self._signal(signal.SIGTERM, timeout)

    def kill(self) -> None:
        """SIGKILL: the worker dies without any cleanup, as in a crash."""
        self._signal(signal.SIGKILL, 10.0)

    def _signal(self, signum: int, timeout: float) -> int:
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(signum)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return self.process.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
