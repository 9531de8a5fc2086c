"""Reconcile at scale: 10,000 displays on 2,000 cameras, 50 workers heartbeating into Redis.

Prints the time of a full reconcile (every camera started; target <= 1 s) and of a
reconcile with nothing to change (target <= 200 ms, zero commands), split into load,
plan and apply, with the pure plan as the in-run baseline. Uses a temporary SQLite
database (or DATABASE_URL) and the embedded Redis (or REDIS_URL).

    .venv/bin/python bench/reconcile.py [--cameras 2000] [--displays-per-camera 5] [--workers 50]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=2000)
    parser.add_argument("--displays-per-camera", type=int, default=5)
    parser.add_argument("--workers", type=int, default=50)
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="sightline-bench-"))
    os.environ.setdefault("SIGHTLINE_DATA_DIR", str(scratch))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings")
    embedded = None
    if not os.environ.get("REDIS_URL"):
        from cms.embedded_redis import EmbeddedRedis

        embedded = EmbeddedRedis(scratch / "redis").start()
        os.environ["REDIS_URL"] = embedded.url
    try:
        run(args)
    finally:
        if embedded:
            embedded.stop()


def run(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from cms import redis_connection
    from cms.farm import farm_keys
    from cms.farm.heartbeats import StreamInfo, WorkerInfo
    from cms.farm.planner import plan
    from cms.farm.reconcile import (
        load_assignments,
        load_desired,
        plan_settings,
        reconcile_once,
    )
    from cms.models import Camera, DetectionModel, Display, StreamAssignment
    from streams import StreamState

    r = redis_connection.client()
    r.flushdb()
    model = DetectionModel.objects.create(name="yolov8n", hub_name="yolov8n.pt")
    cameras = Camera.objects.bulk_create(
        Camera(name=f"cam {i}", identifier=f"cam-{i}", url=f"rtsp://10.0.{i // 250}.{i % 250}/s")
        for i in range(args.cameras)
    )
    Display.objects.bulk_create(
        Display(
            name=f"display {c.id}-{j}",
            identifier=f"display-{c.id}-{j}",
            camera=c,
            model=model,
            token_hash=f"{c.id:032d}{j:032d}",
            # two crops per camera: displays sharing one share an inference
            crop_x1=0 if j % 2 else None,
            crop_y1=0 if j % 2 else None,
            crop_x2=320 if j % 2 else None,
            crop_y2=240 if j % 2 else None,
        )
        for c in cameras
        for j in range(args.displays_per_camera)
    )
    capacity = -(-args.cameras * 3 // (2 * args.workers))  # room to spare: 1.5x
    names = [f"gpu-{i}@rack" for i in range(args.workers)]
    stop = threading.Event()

    def heartbeat() -> None:
        while not stop.is_set():
            for name in names:
                farm_keys.write_worker(
                    r, WorkerInfo(name, "cuda:0", capacity, cpu_percent=30, last_seen=time.time())
                )
            stop.wait(2)

    beating = threading.Thread(target=heartbeat, daemon=True)
    beating.start()
    time.sleep(0.2)
    print(
        f"{Display.objects.count()} displays on {len(cameras)} cameras, "
        f"{len(names)} workers of capacity {capacity}"
    )

    full = timed(reconcile_once)
    starts = full.value["commands"].get("Start", 0)
    # The workers report their streams as running.
    for a in StreamAssignment.objects.exclude(worker=""):
        farm_keys.write_stream(
            r, StreamInfo(a.camera_id, a.worker, a.generation, a.spec_hash, StreamState.ONLINE)
        )
    idle = timed(reconcile_once)

    # Baseline: the pure parts alone (load from the database, plan without I/O).
    loaded = timed(lambda: (load_desired(), load_assignments()))
    desired, assignments = loaded.value
    workers = farm_keys.read_workers(r)
    streams = farm_keys.read_streams(r, sorted(assignments))
    planned = timed(
        lambda: plan(
            desired,
            assignments,
            streams,
            workers,
            now=time.time(),
            missing_since={},
            trust_worker_absence=True,
            settings=plan_settings(),
        )
    )
    stop.set()

    print()
    print(f"{'measure':<44}{'seconds':>10}{'target':>10}{'ratio':>8}")
    report("full reconcile (all cameras started)", full.seconds, 1.0)
    report("reconcile with nothing to change", idle.seconds, 0.2)
    report("  of which: load desired + assignments", loaded.seconds, None)
    report("  of which: pure plan", planned.seconds, None)
    print()
    print(f"full reconcile: {starts} start commands")
    print(f"nothing to change: {sum(idle.value['commands'].values())} commands")
    verdicts = [full.seconds <= 1.0, idle.seconds <= 0.2, not idle.value["commands"]]
    print("targets met" if all(verdicts) else "TARGETS MISSED")


class timed:
    def __init__(self, fn) -> None:  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        self.value = fn()
        self.seconds = time.perf_counter() - start


def report(label: str, seconds: float, target: float | None) -> None:
    ratio = f"{seconds / target:.2f}" if target else ""
    print(f"{label:<44}{seconds:>10.3f}{(target or ''):>10}{ratio:>8}")


if __name__ == "__main__":
    main()
