"""Suite-wide fixtures: a real Redis and a real database for every test session.

Without REDIS_URL the session starts the embedded redis-server (as `make run` does)
and points settings and every child process at it. The SQLite test database is a
file in a per-session temp dir, so worker processes started by tests see it and
parallel sessions never share it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.conf import settings

from cms.embedded_redis import EmbeddedRedis
from cms.environment import redis_broker_url
from tests.support.trained import (
    CLASSIFIER_TRAINING_ALLOWANCE_S,
    TRAINING_ALLOWANCE_S,
    trained_classifier_is_cached,
    trained_classifier_weights,
    trained_detector_is_cached,
    trained_detector_weights,
)

_session_dir = Path(tempfile.mkdtemp(prefix="sightline-tests-"))
_embedded_redis: EmbeddedRedis | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _embedded_redis
    if not os.environ.get("REDIS_URL"):
        _embedded_redis = EmbeddedRedis(_session_dir / "redis").start()
        use_redis(_embedded_redis.url)
    # Every camera of the suite on torch, unless a test asks for another backend: `auto` would
    # export each test's models to OpenVINO and ONNX Runtime (seconds of both cores per model).
    if "SIGHTLINE_INFERENCE_BACKEND" not in os.environ:
        os.environ["SIGHTLINE_INFERENCE_BACKEND"] = settings.SIGHTLINE_INFERENCE_BACKEND = "torch"
    # Event thumbnails of the session's consumers and control workers in its own temp dir,
    # never the checkout's data/ (a test that looks at them sets its own).
    thumbnail_dir = str(_session_dir / "thumbnails")
    os.environ["SIGHTLINE_THUMBNAIL_DIR"] = thumbnail_dir
    settings.SIGHTLINE_THUMBNAIL_DIR = Path(thumbnail_dir)
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database["TEST"]["NAME"] = str(_session_dir / "test.sqlite3")


def pytest_unconfigure(config: pytest.Config) -> None:
    if _embedded_redis is not None:
        _embedded_redis.stop()


def use_redis(url: str) -> None:
    """Point this process and its future children at the Redis server at ``url``."""
    os.environ["REDIS_URL"] = url
    settings.REDIS_URL = url
    settings.CELERY_BROKER_URL = settings.CELERY_RESULT_BACKEND = redis_broker_url(url)
    from tasks import app

    app.conf.broker_url = app.conf.result_backend = redis_broker_url(url)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # `.ci/run` reruns the database-facing tests on PostgreSQL with `-m database`.
    for item in items:
        if item.get_closest_marker("django_db") or {"db", "transactional_db"} & set(
            getattr(item, "fixturenames", ())
        ):
            item.add_marker(pytest.mark.database)
    allow_training_time(items)


def allow_training_time(items: list[pytest.Item]) -> None:
    """On a cold cache, the first test that asks for a trained model trains it (minutes on a
    CPU, in its fixture's setup, which pytest-timeout counts): give those tests time."""
    for fixture, is_cached, allowance in (
        ("trained_detector_path", trained_detector_is_cached, TRAINING_ALLOWANCE_S),
        ("trained_classifier_path", trained_classifier_is_cached, CLASSIFIER_TRAINING_ALLOWANCE_S),
    ):
        wanting = [i for i in items if fixture in getattr(i, "fixturenames", ())]
        # Checked only when needed: the cache key imports torch and ultralytics for versions.
        if wanting and not is_cached():
            _allow(wanting, allowance)


def _allow(items: list[pytest.Item], extra_s: float) -> None:
    for item in items:
        marker = item.get_closest_marker("timeout")
        own = float(marker.args[0]) if marker and marker.args else 300.0
        item.add_marker(pytest.mark.timeout(own + extra_s), append=False)


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    """A client of the session's Redis, emptied before the test."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.flushdb()
    yield client
    client.close()


WORKER_SECRET = "suite-worker-secret-0123456789"


@pytest.fixture
def worker_web(settings, live_server):
    """A web server for worker code run in the test process (sources, signed weights URLs)."""
    settings.SIGHTLINE_WORKER_SECRET = WORKER_SECRET
    settings.SIGHTLINE_WEB_URL = live_server.url
    return live_server


@pytest.fixture
def session_dir() -> Path:
    return _session_dir


@pytest.fixture
def embedded_redis() -> EmbeddedRedis:
    """The session's own Redis server, for tests that restart it; skips with an external one."""
    if _embedded_redis is None:
        pytest.skip("REDIS_URL points at an external Redis that this test cannot restart")
    return _embedded_redis


@pytest.fixture(scope="session")
def trained_detector_path() -> Path:
    """A real YOLO detector of "square", "circle" and "triangle" (inference.synthetic), trained
    by the suite and cached under SIGHTLINE_TEST_CACHE; minutes the first time on a machine."""
    return trained_detector_weights()


@pytest.fixture(scope="session")
def trained_classifier_path() -> Path:
    """A real YOLO classifier of a shape's shade, "dark" or "light" (inference.synthetic.shades),
    from its `classification_crop` at TRAINED_CLASSIFIER_IMGSZ; trained by the suite and cached
    under SIGHTLINE_TEST_CACHE (about 30 s the first time on a machine)."""
    return trained_classifier_weights()
