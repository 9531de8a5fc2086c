"""A real farm for tests: control worker, beat and ingest workers as processes."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from django.core.files import File

from cms import redis_connection
from cms.farm import farm_keys
from cms.models import Camera, DetectionModel, Display, StreamAssignment
from cms.results import results_stream
from cms.results.result_message import ENTRY_FIELD, ResultMessage
from tests.support.media import write_video
from tests.support.models import UNTRAINED_CONFIDENCE, build_detection_weights
from tests.support.workers import REPO, CeleryWorker, child_env

T = TypeVar("T")


def wait_for(condition: Callable[[], T], timeout: float, what: str) -> T:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def placement(farm: Farm, cameras: list[Camera]) -> Counter[str | None]:
    """How many of ``cameras`` run on each worker (None: not running)."""
    return Counter(farm.running_on(c) for c in cameras)


def generations(cameras: list[Camera]) -> dict[int, int]:
    """Each camera's current generation."""
    return dict(
        StreamAssignment.objects.filter(camera__in=cameras).values_list("camera_id", "generation")
    )


@pytest.fixture(scope="session")
def farm_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_detection_weights(tmp_path_factory.mktemp("farm-weights") / "yolov8n.pt")


FARM_VIDEO_FRAMES = 50
"""How many frames the farm_video clip has (it loops at its end)."""


@pytest.fixture(scope="session")
def farm_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("farm-video") / "clip.mp4"
    return write_video(path, frames=FARM_VIDEO_FRAMES, fps=10, width=320, height=240)


class Farm:
    """Processes of one test's farm, all sharing the test session's Redis and database."""

    def __init__(self, tmp_path: Path, weights: Path, video: Path, env: dict[str, str]) -> None:
        self.tmp_path = tmp_path
        self.weights = weights
        self.video = video
        self.env = {
            "SIGHTLINE_ALLOW_FILE_SOURCES": "1",
            "SIGHTLINE_MODEL_CACHE_DIR": str(tmp_path / "model-cache"),
            "MEDIA_ROOT": str(tmp_path / "media"),
            "SIGHTLINE_MAX_WAIT_MS": "0",
            **env,
        }
        self.workers: list[CeleryWorker] = []
        self.beat: subprocess.Popen[bytes] | None = None
        self.results: subprocess.Popen[bytes] | None = None
        self._model: DetectionModel | None = None

    # --- processes ---------------------------------------------------------------

    def control(self) -> CeleryWorker:
        worker = CeleryWorker(self.tmp_path, prefix="control", queues="control", env=self.env)
        self.workers.append(worker.start())
        return worker

    def ingest(
        self,
        capacity: int = 4,
        name: str | None = None,
        env: dict[str, str | None] | None = None,
        command_prefix: tuple[str, ...] = (),
    ) -> CeleryWorker:
        """An ingest worker; ``env`` is added to the farm's environment for it alone (None
        removes a variable), ``command_prefix`` runs it on another host (tests.support.hosts)."""
        worker = CeleryWorker(
            self.tmp_path,
            prefix="ingest",
            concurrency=capacity,
            extra_args=("--ingest", "--exclude-queues", "control"),
            env={**self.env, **(env or {})},
            command_prefix=command_prefix,
        )
        if name:
            worker.name = name
            worker.args[worker.args.index("--hostname") + 1] = name
        self.workers.append(worker.start())
        return worker

    def start_beat(self) -> None:
        log = (self.tmp_path / "beat.log").open("wb")
        self.beat = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "tasks", "beat", "--loglevel", "INFO",
                "--schedule", str(self.tmp_path / "beat-schedule"),
            ],
            cwd=REPO,
            env=child_env(**self.env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip

    def start_results(self) -> None:
        """The results consumer (``manage.py results``) as a process of its own."""
        log = (self.tmp_path / "results.log").open("wb")
        self.results = subprocess.Popen(
            [sys.executable, "manage.py", "results"],
            cwd=REPO,
            env=child_env(**self.env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        for process in (self.beat, self.results):
            if process is not None:
                process.terminate()
                process.wait(20)
        for worker in reversed(self.workers):
            worker.terminate()

    # --- rows ------------------------------------------------------------------------

    def model(self, **fields: Any) -> DetectionModel:
        if self._model is None or fields:
            values = {"name": "yolov8n", "confidence": UNTRAINED_CONFIDENCE, "imgsz": 160}
            model = DetectionModel(**{**values, **fields})
            with self.weights.open("rb") as handle:
                model.weights.save("yolov8n.pt", File(handle), save=False)
            model.save()
            if fields:
                return model
            self._model = model
        return self._model

    def camera(self, name: str, **fields: Any) -> Camera:
        fields = {"fps": 2, "url": str(self.video), **fields}
        return Camera.objects.create(name=name, identifier=name, **fields)

    def display(self, name: str, camera: Camera, **fields: Any) -> Display:
        fields.setdefault("model", self.model())
        return Display.objects.create(name=name, identifier=name, camera=camera, **fields)

    # --- observations ------------------------------------------------------------------

    def streams(self) -> dict[int, Any]:
        return farm_keys.read_all_streams(redis_connection.client())

    def workers_online(self) -> dict[str, Any]:
        return farm_keys.read_workers(redis_connection.client())

    def running_on(self, camera: Camera) -> str | None:
        """The worker an online stream of the camera's current generation runs on."""
        stream = self.streams().get(camera.id)
        assignment = StreamAssignment.objects.filter(camera=camera).first()
        if stream and assignment and stream.generation == assignment.generation:
            return stream.worker
        return None

    def results_for(self, display: Display) -> list[ResultMessage]:
        entries = redis_connection.client().xrange(results_stream.results_stream())
        found = [ResultMessage.from_entry(f) for _, f in entries if ENTRY_FIELD.encode() in f]
        return [r for r in found if r.display_id == display.id]

    def logs(self) -> str:
        parts = [f"--- {w.name}\n{w.log()[-4000:]}" for w in self.workers]
        results = self.tmp_path / "results.log"
        if results.exists():
            parts.append(f"--- results\n{results.read_text(errors='replace')[-4000:]}")
        return "\n".join(parts)


# The web server the farm's ingest workers ask for camera and model sources (they have no
# database): pytest-django's live server in this process, on this test's database.
FARM_WORKER_SECRET = "farm-test-worker-secret-0123456789"


@pytest.fixture
def farm_web_url(live_server) -> str:
    """Where the farm's workers reach the web server (tests across hosts give another)."""
    return live_server.url


@pytest.fixture
def farm_factory(
    tmp_path: Path, farm_weights: Path, farm_video: Path, settings, redis_client, farm_web_url
) -> Iterator[Callable[..., Farm]]:
    farms: list[Farm] = []

    def make(**env: str) -> Farm:
        web = {"SIGHTLINE_WEB_URL": farm_web_url, "SIGHTLINE_WORKER_SECRET": FARM_WORKER_SECRET}
        farm = Farm(tmp_path, farm_weights, farm_video, {**web, **env})
        settings.SIGHTLINE_WORKER_SECRET = FARM_WORKER_SECRET
        settings.SIGHTLINE_WEB_URL = farm_web_url
        settings.SIGHTLINE_ALLOW_FILE_SOURCES = True
        settings.MEDIA_ROOT = Path(farm.env["MEDIA_ROOT"])
        farms.append(farm)
        return farm

    yield make
    for farm in farms:
        farm.stop()
        print(farm.logs())  # shown by pytest only when the test failed
