"""Reconcile at scale: 10,000 displays on 2,000 cameras, 50 workers heartbeating into Redis.

Prints the time of a full reconcile (every camera started), of a reconcile with nothing
to change (zero commands; desired state as the last run read it, no change noted since), of
the same with desired state read again (after any save, and periodically: see
cms.farm.reconcile.current_desired), with the pure parts (load, plan) as the in-run
baseline, and the peak memory (RSS) of the process that ran them. ``--scale 10`` is issue
17's size: 100,000 displays on 20,000 cameras and 500 workers (targets 5 s full, 1 s with
nothing to change); the default, scale 1, is today's (targets 1 s and 0.2 s). The rows are
seeded by this process; reconcile runs in a fresh child process (the control worker's
part), so its peak RSS is reconcile's own and not the seeding's. The baseline loads after
the reconciles, with load_desired's memo warm (as in the run that reads desired state
again). Uses a temporary SQLite database (or DATABASE_URL) and the embedded Redis (or
REDIS_URL).

    .venv/bin/python bench/reconcile.py [--scale 1] [--cameras N] [--displays-per-camera 5]
        [--workers N] [--profile DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

# (full, nothing to change) in seconds, by scale: issue 17's, and today's at scale 1.
TARGETS = {1: (1.0, 0.2), 10: (5.0, 1.0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1, help="cameras and workers times this")
    parser.add_argument("--cameras", type=int, help="default 2,000 x scale")
    parser.add_argument("--displays-per-camera", type=int, default=5)
    parser.add_argument("--workers", type=int, help="default 50 x scale")
    parser.add_argument("--profile", type=Path, help="write cProfile stats of each run here")
    parser.add_argument("--control", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.cameras = args.cameras or 2000 * args.scale
    args.workers = args.workers or 50 * args.scale

    if args.control:  # the child: the database and Redis are seeded and heartbeating
        control(args)
        return
    scratch = Path(tempfile.mkdtemp(prefix="sightline-bench-"))
    os.environ.setdefault("SIGHTLINE_DATA_DIR", str(scratch))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings")
    embedded = None
    if not os.environ.get("REDIS_URL"):
        from cms.embedded_redis import EmbeddedRedis

        embedded = EmbeddedRedis(scratch / "redis").start()
        os.environ["REDIS_URL"] = embedded.url
    try:
        seed_and_run(args)
    finally:
        if embedded:
            embedded.stop()


def seed_and_run(args: argparse.Namespace) -> None:
    """Seed the rows, heartbeat the workers, and run the control child meanwhile."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    displays = seed(args)
    capacity = -(-args.cameras * 3 // (2 * args.workers))  # room to spare: 1.5x
    print(
        f"{displays} displays on {args.cameras} cameras, "
        f"{args.workers} workers of capacity {capacity}",
        flush=True,
    )
    with heartbeating(args.workers, capacity):
        run_control(args)


def seed(args: argparse.Namespace) -> int:
    """The cameras and their displays (in the empty database and Redis); returns the displays."""
    from cms import redis_connection
    from cms.models import Camera, DetectionModel, Display

    redis_connection.client().flushdb()
    model = DetectionModel.objects.create(name="yolov8n", hub_name="yolov8n.pt")
    cameras = Camera.objects.bulk_create(
        (
            Camera(name=f"cam {i}", identifier=f"cam-{i}", url=f"rtsp://10.{i // 62500}."
                   f"{i // 250 % 250}.{i % 250}/s")
            for i in range(args.cameras)
        ),
        batch_size=5000,
    )  # fmt: skip
    Display.objects.bulk_create(
        (
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
        ),
        batch_size=5000,
    )
    return Display.objects.count()


@contextlib.contextmanager
def heartbeating(workers: int, capacity: int) -> Iterator[None]:
    """Simulated ingest workers heartbeating into Redis every 2 s while in the block."""
    from cms import redis_connection
    from cms.farm import farm_keys
    from cms.farm.heartbeats import WorkerInfo

    r = redis_connection.client()
    names = [f"gpu-{i}@rack" for i in range(workers)]
    stop = threading.Event()

    def heartbeat() -> None:
        while not stop.is_set():
            for name in names:
                farm_keys.write_worker(
                    r,
                    WorkerInfo(
                        name,
                        "cuda:0",
                        capacity,
                        cpu_percent=30,
                        last_seen=time.time(),
                        start_lists=True,
                    ),
                )
            stop.wait(2)

    beating = threading.Thread(target=heartbeat, daemon=True)
    beating.start()
    time.sleep(0.2)
    try:
        yield
    finally:
        stop.set()
        beating.join(5)


def run_control(args: argparse.Namespace) -> None:
    """`control` in a fresh process (the environment names the database and Redis)."""
    child = [sys.executable, __file__, "--control", f"--scale={args.scale}"]
    child += [f"--cameras={args.cameras}", f"--workers={args.workers}"]
    if args.profile:
        child.append(f"--profile={args.profile}")
    subprocess.run(child, check=True)


def control(args: argparse.Namespace) -> None:
    """What the control worker does: a full reconcile, then one with nothing to change."""
    import django

    django.setup()
    from cms import redis_connection
    from cms.farm import farm_keys
    from cms.farm.heartbeats import StreamInfo
    from cms.farm.planner import plan
    from cms.farm.reconcile import (
        load_assignments,
        load_desired,
        plan_settings,
        reconcile_once,
    )
    from cms.models import StreamAssignment
    from streams import StreamState

    r = redis_connection.client()
    ready_rss = peak_rss_mib()
    full = timed(reconcile_once, args.profile, "full")
    starts = full.value["commands"].get("Start", 0)
    # The workers report their streams as running (they would rewrite them every second: here
    # they stay for 10 minutes, so the run with nothing to change finds them however slow).
    rows = StreamAssignment.objects.exclude(worker="").values_list(
        "camera_id", "worker", "generation", "spec_hash"
    )
    # Sent 1,000 at a time, as workers write theirs one by one: 20,000 encoded heartbeats
    # held at once would be counted in this process' peak memory.
    pipe = r.pipeline(transaction=False)
    for n, (camera_id, worker, generation, spec_hash) in enumerate(rows.iterator(chunk_size=5000)):
        info = StreamInfo(camera_id, worker, generation, spec_hash, StreamState.ONLINE)
        pipe.set(farm_keys.stream_key(camera_id), farm_keys.encode_stream(info), ex=600)
        if n % 1000 == 999:
            pipe.execute()
    pipe.execute()
    idle = timed(reconcile_once, args.profile, "idle")
    # After a noted change (any save) or the periodic read: desired state read again.
    farm_keys.note_desired_change(r)
    reread = timed(reconcile_once, args.profile, "reread")
    peak = peak_rss_mib()

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

    full_target, idle_target = TARGETS.get(args.scale, (None, None))
    print()
    print(f"{'measure':<44}{'seconds':>10}{'target':>10}{'ratio':>8}")
    report("full reconcile (all cameras started)", full.seconds, full_target)
    report("reconcile with nothing to change", idle.seconds, idle_target)
    report("  the same, desired state read again", reread.seconds, None)
    report("  of which: load desired + assignments", loaded.seconds, None)
    report("  of which: pure plan", planned.seconds, None)
    print()
    print(f"full reconcile: {starts} start commands")
    print(f"nothing to change: {sum(idle.value['commands'].values())} commands", end="")
    print(f" ({sum(reread.value['commands'].values())} with desired state read again)")
    print(f"peak RSS of the reconcile process: {peak:.0f} MiB ({ready_rss:.0f} MiB before it)")
    if full_target is None or idle_target is None:
        print(f"no targets at scale {args.scale}")
        return
    verdicts = [full.seconds <= full_target, idle.seconds <= idle_target]
    verdicts.append(not idle.value["commands"] and not reread.value["commands"])
    verdicts.append(not idle.value["desired_read"] and reread.value["desired_read"])
    print("targets met" if all(verdicts) else "TARGETS MISSED")


class timed:
    def __init__(self, fn, profile_dir=None, name="") -> None:  # type: ignore[no-untyped-def]
        profiler = None
        if profile_dir is not None:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        start = time.perf_counter()
        self.value = fn()
        self.seconds = time.perf_counter() - start
        if profiler is not None:
            profiler.disable()
            profile_dir.mkdir(parents=True, exist_ok=True)
            profiler.dump_stats(str(profile_dir / f"{name}.prof"))


def peak_rss_mib() -> float:
    """This process' peak resident set size so far, in MiB: Linux's VmHWM, which starts
    afresh at exec (getrusage's ru_maxrss would start at the parent's, the seeding's)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def report(label: str, seconds: float, target: float | None) -> None:
    ratio = f"{seconds / target:.2f}" if target else ""
    print(f"{label:<44}{seconds:>10.3f}{(target or ''):>10}{ratio:>8}")


if __name__ == "__main__":
    main()
