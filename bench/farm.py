"""Frames/s through the whole farm against a bare ultralytics predict loop, in one run.

The farm: one CPU ingest worker process, video-file cameras decoded as fast as the
worker can go (no fps cap), an untrained YOLOv8n, results on the Redis Stream. The
baseline: `YOLO.predict` frame by frame over the same frames, with the same settings,
in this process while the farm is stopped. Target: farm / baseline >= 0.9.

    .venv/bin/python bench/farm.py [--cameras 2] [--seconds 30] [--imgsz 320]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
CONFIDENCE = 1e-4  # untrained weights score about 1.5e-4: with boxes, as with real weights
UNCAPPED_FPS = 10_000.0
"""A camera's target fps far above what the worker reaches: the farm, not the cap, is measured."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--imgsz", type=int, default=320)
    args = parser.parse_args()
    # The baseline is a torch loop: the farm runs torch too (bench/backends.py --farm measures
    # the farm on the backend `auto` picks).
    os.environ.setdefault("SIGHTLINE_INFERENCE_BACKEND", "torch")
    with farm_environment("sightline-bench-farm-") as scratch:
        run(args, scratch)


@contextmanager
def farm_environment(prefix: str) -> Iterator[Path]:
    """A scratch data dir, file cameras decoded as fast as the worker goes, an embedded
    Redis, Django set up and migrated; yields the scratch dir."""
    scratch = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ.update(
        SIGHTLINE_DATA_DIR=str(scratch),
        SIGHTLINE_ALLOW_FILE_SOURCES="1",
        # Video files decoded as fast as the worker can go, not at their own pace.
        SIGHTLINE_FILE_SOURCES_REALTIME="0",
        DJANGO_SETTINGS_MODULE="cms.settings",
        LOG_LEVEL="WARNING",
    )
    os.environ.pop("DATABASE_URL", None)
    from cms.embedded_redis import EmbeddedRedis

    with EmbeddedRedis(scratch / "redis") as redis_server:
        os.environ["REDIS_URL"] = redis_server.url
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        web = start_internal_web(scratch)
        try:
            yield scratch
        finally:
            web.terminate()
            web.wait(15)


def start_internal_web(scratch: Path) -> subprocess.Popen[bytes]:
    """The web server ingest workers ask for camera and model sources (they have no
    database), on a free port; SIGHTLINE_WEB_URL and the worker secret point them at it."""
    import secrets
    import socket
    import urllib.error
    import urllib.request

    from django.conf import settings

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    secret = secrets.token_urlsafe(24)
    os.environ.update(SIGHTLINE_WEB_URL=f"http://127.0.0.1:{port}", SIGHTLINE_WORKER_SECRET=secret)
    settings.SIGHTLINE_WEB_URL, settings.SIGHTLINE_WORKER_SECRET = (
        os.environ["SIGHTLINE_WEB_URL"],
        secret,
    )
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{settings.DATABASES['default']['NAME']}"}
    web = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "cms.asgi:application", "--host", "127.0.0.1",
         "--port", str(port), "--lifespan", "off", "--no-access-log"],
        cwd=REPO, env=env, stdout=(scratch / "internal-web.log").open("wb"),
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(
                f"http://127.0.0.1:{port}/internal/v1/models/0/source", timeout=2
            )
        except urllib.error.HTTPError:
            return web  # it answers (403: no secret given)
        except OSError:
            time.sleep(0.2)
    web.terminate()
    raise RuntimeError(f"the web server did not start: {scratch / 'internal-web.log'}")


def start_ingest_worker(scratch: Path, concurrency: int) -> subprocess.Popen[bytes]:
    """One ingest worker process on this environment's Redis and web server: like an ingest
    host, it has no database (its DATABASE_URL leads nowhere)."""
    env = {**os.environ, "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"}
    log = (scratch / "ingest.log").open("wb")
    return subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "tasks", "worker", "--ingest",
            "--exclude-queues", "control", "--pool", "threads",
            "--concurrency", str(concurrency), "--hostname", "bench@%h",
            "--without-mingle", "--without-gossip", "--loglevel", "WARNING",
        ],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip


def run(args: argparse.Namespace, scratch: Path) -> None:
    from django.conf import settings
    from django.core.files import File

    from cms import redis_connection
    from cms.demo import untrained_weights, write_demo_clip
    from cms.farm import farm_keys
    from cms.farm.reconcile import run_reconcile
    from cms.models import Camera, DetectionModel, Display

    clip = write_demo_clip(scratch / "clip.mp4")
    weights = untrained_weights(scratch / "yolov8n.pt")
    model = DetectionModel(name="yolov8n", confidence=CONFIDENCE, imgsz=args.imgsz)
    with weights.open("rb") as handle:
        model.weights.save("yolov8n.pt", File(handle), save=False)
    model.save()
    for i in range(args.cameras):
        camera = Camera.objects.create(
            name=f"c{i}", identifier=f"c{i}", url=str(clip), fps=UNCAPPED_FPS
        )
        Display.objects.create(name=f"d{i}", identifier=f"d{i}", camera=camera, model=model)

    # --- the farm ---------------------------------------------------------------------
    worker = start_ingest_worker(scratch, args.cameras)
    client = redis_connection.client()
    try:
        wait(lambda: farm_keys.read_workers(client), 60, "the ingest worker")
        run_reconcile()
        stream = settings.SIGHTLINE_RESULTS_STREAM
        wait(lambda: client.xlen(stream) >= 20 * args.cameras, 120, "results to flow (warm-up)")
        start_count, started = client.xlen(stream), time.perf_counter()
        time.sleep(args.seconds)
        farm_fps = (client.xlen(stream) - start_count) / (time.perf_counter() - started)
    finally:
        worker.terminate()
        worker.wait(60)

    # --- the baseline: bare predict over the same frames ------------------------------------
    import cv2

    from inference.ultralytics_env import yolo_class

    capture = cv2.VideoCapture(str(clip))
    frames = []
    while (ok_frame := capture.read())[0]:
        frames.append(ok_frame[1])
    yolo = yolo_class()(str(weights))
    predict = {"imgsz": args.imgsz, "conf": CONFIDENCE, "verbose": False}
    for frame in frames[:5]:
        yolo.predict(frame, **predict)  # warm-up, as the farm had
    # The same torch threads as the ingest worker (building the predictor set cores - 1).
    import torch

    torch.set_num_threads(settings.SIGHTLINE_TORCH_THREADS or os.cpu_count() or 1)
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < args.seconds:
        yolo.predict(frames[done % len(frames)], **predict)
        done += 1
    bare_fps = done / (time.perf_counter() - started)

    print(
        f"{args.cameras} video-file cameras (640x480), imgsz {args.imgsz}, CPU, one ingest worker"
    )
    print(f"torch threads: {torch.get_num_threads()} in the baseline and in the ingest worker")
    print(f"{'bare ultralytics predict loop':<36}{bare_fps:>8.1f} frames/s")
    print(f"{'through the farm (results/s)':<36}{farm_fps:>8.1f} frames/s")
    ratio = farm_fps / bare_fps
    print(f"ratio farm / bare: {ratio:.2f} (target >= 0.9) {'ok' if ratio >= 0.9 else 'MISSED'}")


SETTLE_S = 1.5
"""How long a phase waits after its switch before it counts (specs apply within a second)."""


def rates_on_and_off(
    client: Any,
    stream: str,
    switch: Callable[[bool], None],
    *,
    rounds: int,
    seconds: float,
    check: Callable[[list[bytes]], None] = lambda results: None,
) -> dict[bool, list[float]]:
    """Results per second on the results stream with something off, then on, round by round.

    ``switch(on)`` changes the rows and runs reconcile (the running tasks apply the spec in
    place); each phase then settles for SETTLE_S and counts the results (object events left
    out) written in ``seconds``. ``check`` sees each "on" phase's raw results.
    """
    rates: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(rounds):
        for on in (False, True):
            switch(on)
            time.sleep(SETTLE_S)
            results, elapsed = results_written(client, stream, seconds)
            rates[on].append(len(results) / elapsed)
            if on:
                check(results)
    return rates


def results_written(client: Any, stream: str, seconds: float) -> tuple[list[bytes], float]:
    """The raw results (object events left out) written to the stream in the next
    ``seconds``, and the seconds it really took."""
    first, started = _newest_id(client, stream), time.perf_counter()
    time.sleep(seconds)
    last, elapsed = _newest_id(client, stream), time.perf_counter() - started
    entries = client.xrange(stream, min=f"({first}", max=last)
    return [fields[b"r"] for _, fields in entries if b"r" in fields], elapsed


def _newest_id(client: Any, stream: str) -> str:
    [(entry_id, _)] = client.xrevrange(stream, count=1)
    return str(entry_id.decode())


def wait(condition, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.2)
    raise TimeoutError(f"no {what} within {timeout} s")


if __name__ == "__main__":
    main()
