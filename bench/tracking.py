"""Tracking benchmark: what tracking, zones and lines cost per frame, and which tracker to use.

1. Cost (always): ms per frame of a camera's ``CameraTracker.update`` (ultralytics' BYTETracker
   behind per-camera ids), of a display's ``DisplayPresence.update`` (the implicit zone "view",
   3 zones, 2 lines) and of both, at 5, 20 and 100 objects. Objects are boxes of 40-120 px
   moving at 20-150 px/s in straight lines, bouncing off the edges of a 1280x720 frame, at 15
   fps with 2 px of box noise; the scene is generated before timing. The arms run interleaved
   round by round; each figure is the median over rounds. Target (issue 13): at most 1 ms per
   frame for tracker + presence at 20 objects on the 2-core development box.

2. Choice (``--compare``): the candidate trackers on the same scenes at 5 and 30 fps with 5% of
   detections dropped: ms per frame, id switches (for each object, the ids it got beyond its
   first, summed) and coverage (the share of an object's detections reported with an id). The
   candidates: ultralytics' BYTETracker (as ``CameraTracker`` runs it), ultralytics' BOT-SORT
   without motion compensation or ReID (no frames reach the tracker), ultralytics' OC-SORT,
   and the ``trackers`` package's ByteTrack when it can be imported (it is not a dependency:
   it needs supervision, scipy and the GUI build of opencv; give ``--trackers-path DIR`` where
   it was installed with ``pip install --no-deps --target DIR``). Each at its thresholds set
   alike (0.25 / 0.1), the lost-track buffer 1 s converted to frames at the scene's rate.

3. Farm fps with tracking on against off (target at least 0.97), in the same run: one ingest
   worker, the displays' ``tracking`` switched round by round (``farm_fps_on_vs_off``).

    .venv/bin/python bench/tracking.py [--objects 5,20,100] [--frames 300] [--rounds 5]
        [--compare] [--trackers-path /tmp/trk] [--farm-seconds 10] [--farm-rounds 3]
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    # Run as a file, this folder would come first on sys.path and `import inference`
    # would import this script instead of the package.
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import random
import statistics
import time
import types
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from inference.entities import DetectedObject
from inference.objects.geometry import Line, Zone, view_zone
from inference.objects.ids import TrackIds
from inference.objects.presence import DisplayPresence
from inference.objects.tracker import CameraTracker, Detections, TrackerParams

TARGET_MS_AT_20 = 1.0
FRAME = (1280, 720)
ZONES = [
    Zone("left", ((0, 200), (400, 200), (400, 720), (0, 720))),
    Zone("lane", ((450, 300), (850, 250), (900, 700), (420, 700))),
    Zone("right", ((900, 0), (1280, 0), (1280, 500), (1000, 450), (900, 300))),
]
LINES = [Line("door", ((100, 400), (1180, 400))), Line("gate", ((640, 50), (640, 700)))]
T0 = 1_800_000_000.0

Frame = tuple[float, list[DetectedObject], list[int]]  # time, detections, each one's object


def scene(
    objects: int, *, fps: float, frames: int, noise: float = 2.0, drop: float = 0.0, seed: int = 0
) -> list[Frame]:
    """Boxes bouncing around the frame: (time, detections, object index of each)."""
    rng = random.Random(seed)
    width, height = FRAME
    state = []
    for _ in range(objects):
        w, h = rng.uniform(40, 120), rng.uniform(40, 120)
        speed, angle = rng.uniform(20, 150), rng.uniform(0, 2 * np.pi)
        state.append(
            [
                rng.uniform(0, width - w),
                rng.uniform(0, height - h),
                w,
                h,
                speed * np.cos(angle),
                speed * np.sin(angle),
            ]
        )
    out: list[Frame] = []
    for i in range(frames):
        detections, owners = [], []
        for k, s in enumerate(state):
            x, y, w, h, vx, vy = s
            if rng.random() >= drop:
                box = tuple(float(v) + rng.uniform(-noise, noise) for v in (x, y, x + w, y + h))
                detections.append(DetectedObject(k % 3, ("car", "person", "bike")[k % 3], 0.8, box))
                owners.append(k)
            x, y = x + vx / fps, y + vy / fps
            if not 0 <= x <= width - w:
                vx, x = -vx, min(max(x, 0.0), width - w)
            if not 0 <= y <= height - h:
                vy, y = -vy, min(max(y, 0.0), height - h)
            s[:] = [x, y, w, h, vx, vy]
        out.append((T0 + i / fps, detections, owners))
    return out


# --- 1. cost -------------------------------------------------------------------------------


@dataclass
class Arm:
    name: str
    make: Callable[[], Callable[[Frame], Any]]  # a fresh runner per round
    ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)

    def measure(self, frames: list[Frame]) -> None:
        step = self.make()
        started, cpu_started = time.perf_counter(), time.process_time()
        for f in frames:
            step(f)
        self.ms.append((time.perf_counter() - started) * 1000 / len(frames))
        self.cpu_ms.append((time.process_time() - cpu_started) * 1000 / len(frames))


def presence_only(frames: list[Frame]) -> Callable[[], Callable[[Frame], Any]]:
    """Presence fed with tracked objects computed before timing (perfect ids)."""
    ids = TrackIds(1)
    tracker = CameraTracker(ids)
    tracked = {f[0]: tracker.update(f[1], f[0]) for f in frames}

    def make() -> Callable[[Frame], Any]:
        presence = DisplayPresence(ZONES, LINES, view_zone(None, FRAME))
        return lambda f: presence.update(tracked[f[0]], f[0])

    return make


def tracker_only() -> Callable[[Frame], Any]:
    tracker = CameraTracker(TrackIds(1))
    return lambda f: tracker.update(f[1], f[0])


def tracker_and_presence() -> Callable[[Frame], Any]:
    tracker = CameraTracker(TrackIds(1))
    presence = DisplayPresence(ZONES, LINES, view_zone(None, FRAME))
    return lambda f: presence.update(tracker.update(f[1], f[0]), f[0])


def cost(object_counts: list[int], n_frames: int, rounds: int) -> None:
    print(
        f"cost per frame, {n_frames} frames at 15 fps, median of {rounds} rounds: wall ms/frame"
        " (CPU ms/frame of this process, which other load on the machine inflates less)"
    )
    print(f"{'objects':>8} {'tracker':>15} {'presence':>15} {'both':>15}  target")
    for n in object_counts:
        frames = scene(n, fps=15, frames=n_frames, seed=n)
        arms = [
            Arm("tracker", lambda: tracker_only()),
            Arm("presence", presence_only(frames)),
            Arm("both", lambda: tracker_and_presence()),
        ]
        for r in range(rounds):
            for arm in arms[r % 3 :] + arms[: r % 3]:
                arm.measure(frames)
        cells = [f"{statistics.median(a.ms):.3f} ({statistics.median(a.cpu_ms):.3f})" for a in arms]
        verdict = ""
        if n == 20:
            both_cpu = statistics.median(arms[2].cpu_ms)
            met = "met" if both_cpu <= TARGET_MS_AT_20 else "MISSED"
            verdict = f"both <= {TARGET_MS_AT_20:g} ms (CPU): {met}"
        print(f"{n:>8} {cells[0]:>15} {cells[1]:>15} {cells[2]:>15}  {verdict}")


# --- 2. choice -----------------------------------------------------------------------------


def ultralytics_args(tracker_type: str, buffer: int) -> types.SimpleNamespace:
    """ultralytics' own defaults (cfg/trackers/*.yaml), the buffer set to 1 s of frames."""
    return types.SimpleNamespace(
        tracker_type=tracker_type,
        track_high_thresh=0.25,
        track_low_thresh=0.1,
        new_track_thresh=0.25,
        track_buffer=buffer,
        match_thresh=0.8,
        fuse_score=True,
        # BOT-SORT
        gmc_method="none",
        proximity_thresh=0.5,
        appearance_thresh=0.8,
        with_reid=False,
        model="auto",
        # OC-SORT (its yaml's defaults)
        delta_t=3,
        inertia=0.2,
        use_byte=False,
        asso_func="iou",
    )


def camera_tracker(
    params: TrackerParams,
) -> Callable[[float], Callable[[Frame], list[tuple[int, int]]]]:
    def factory(fps: float) -> Callable[[Frame], list[tuple[int, int]]]:
        tracker = CameraTracker(TrackIds(1), params=params)

        def step(f: Frame) -> list[tuple[int, int]]:
            owner = {id(d): k for d, k in zip(f[1], f[2], strict=True)}
            return [(owner[id(o.detection)], o.track_id) for o in tracker.update(f[1], f[0])]

        return step

    return factory


def raw_ultralytics(cls_path: str) -> Callable[[float], Callable[[Frame], list[tuple[int, int]]]]:
    def factory(fps: float) -> Callable[[Frame], list[tuple[int, int]]]:
        module, _, name = cls_path.rpartition(".")
        cls = getattr(__import__(module, fromlist=[name]), name)
        kind = {"BOTSORT": "botsort", "OCSORT": "ocsort"}[name]
        tracker = cls(ultralytics_args(kind, max(1, round(fps))))

        def step(f: Frame) -> list[tuple[int, int]]:
            rows = tracker.update(Detections.of(f[1]))
            return [(f[2][int(r[-1])], int(r[4])) for r in rows]

        return step

    return factory


def trackers_bytetrack(fps: float) -> Callable[[Frame], list[tuple[int, int]]]:
    import supervision as sv
    from trackers import ByteTrackTracker

    tracker = ByteTrackTracker(
        lost_track_buffer=30,  # "30 fps frames": 1 s, turned into time with the timestamps
        frame_rate=fps,
        track_activation_threshold=0.25,
        high_conf_det_threshold=0.25,
    )

    def step(f: Frame) -> list[tuple[int, int]]:
        n = len(f[1])
        dets = sv.Detections(
            xyxy=np.array([d.box for d in f[1]], dtype=np.float32).reshape(n, 4),
            confidence=np.array([d.confidence for d in f[1]], dtype=np.float32),
            class_id=np.array([d.class_id for d in f[1]], dtype=int),
            data={"owner": np.array(f[2], dtype=int)},
        )
        out = tracker.update(dets, timestamp=f[0])
        return [
            (int(k), int(t))
            for k, t in zip(out.data["owner"], out.tracker_id, strict=True)
            if t >= 0
        ]

    return step


def id_quality(
    frames: list[Frame], step: Callable[[Frame], list[tuple[int, int]]]
) -> tuple[float, int, float]:
    """(CPU ms per frame, id switches, coverage) of one tracker over one scene."""
    ids: dict[int, list[int]] = defaultdict(list)
    reported = 0
    started = time.process_time()
    for f in frames:
        for owner, track_id in step(f):
            ids[owner].append(track_id)
            reported += 1
    ms = (time.process_time() - started) * 1000 / len(frames)
    switches = sum(len(set(v)) - 1 for v in ids.values())
    # An id taken over from another object is a switch for both: count ids shared by objects.
    owners_of: dict[int, set[int]] = defaultdict(set)
    for owner, v in ids.items():
        for track_id in set(v):
            owners_of[track_id].add(owner)
    switches += sum(len(o) - 1 for o in owners_of.values())
    detections = sum(len(f[1]) for f in frames)
    return ms, switches, reported / detections


def compare(objects: int, seconds: float, trackers_path: str | None) -> None:
    candidates: dict[str, Callable[[float], Callable[[Frame], list[tuple[int, int]]]]] = {
        "CameraTracker (BYTETracker), defaults": camera_tracker(TrackerParams()),
        "CameraTracker, ultralytics' thresholds": camera_tracker(
            TrackerParams(match_thresh=0.8, fuse_score=True)
        ),
        "ultralytics BOT-SORT (no GMC, no ReID)": raw_ultralytics(
            "ultralytics.trackers.bot_sort.BOTSORT"
        ),
        "ultralytics OC-SORT": raw_ultralytics("ultralytics.trackers.oc_sort.OCSORT"),
    }
    if trackers_path:
        sys.path.append(trackers_path)
    try:
        import trackers  # noqa: F401

        candidates["trackers ByteTrack"] = trackers_bytetrack
    except ImportError:
        print("(the trackers package is not importable; pass --trackers-path to include it)")
    print(
        f"\ntracker choice: {objects} objects for {seconds:g} s, 2 px noise, 5% of detections"
        " dropped; id switches summed over objects; coverage = detections reported with an id"
    )
    print(f"{'tracker':<42} {'fps':>4} {'CPU ms/f':>9} {'switches':>9} {'coverage':>9}")
    for fps in (5, 30):
        frames = scene(objects, fps=fps, frames=round(seconds * fps), drop=0.05, seed=7)
        for name, factory in candidates.items():
            ms, switches, coverage = id_quality(frames, factory(fps))
            print(f"{name:<42} {fps:>4} {ms:>9.3f} {switches:>9} {coverage:>9.3f}")


# --- 3. farm fps, tracking on vs off ---------------------------------------------------------


def farm_fps_on_vs_off(seconds: float, rounds: int, cameras: int) -> None:
    """Farm results/s with tracking on against off, alternating in one worker (target >= 0.97).

    One CPU ingest worker process, ``cameras`` video-file cameras decoded as fast as it goes
    (the offline demo's scene: shapes crossing a zone and a line), the suite's trained
    shapes detector (trained on first use, cached like the tests' copy), results on the Redis
    Stream. The displays' ``tracking`` is switched on and off round by round (a spec change
    applied in place, same worker, same warm model); each phase's rate is results per second
    after a settling second.
    """
    import os

    from bench.farm import farm_environment, rates_on_and_off, start_ingest_worker, wait

    with farm_environment("sightline-bench-tracking-") as scratch:
        from django.conf import settings

        from cms import redis_connection
        from cms.demo import DEMO_LINES, DEMO_ZONES, shapes_model, write_shapes_clip
        from cms.farm import farm_keys
        from cms.farm.reconcile import run_reconcile
        from cms.models import Camera, Display
        from inference.synthetic.training import trained_detector

        cache = Path(os.environ.get("SIGHTLINE_TEST_CACHE", Path.home() / ".cache/sightline"))
        model = shapes_model(trained_detector(cache))
        clip = write_shapes_clip(scratch / "shapes.mp4")
        for i in range(cameras):
            camera = Camera.objects.create(name=f"c{i}", identifier=f"c{i}", url=str(clip), fps=120)
            Display.objects.create(
                name=f"d{i}", identifier=f"d{i}", camera=camera, model=model,
                zones=DEMO_ZONES, lines=DEMO_LINES,
            )  # fmt: skip
        worker = start_ingest_worker(scratch, cameras)
        client = redis_connection.client()
        stream = settings.SIGHTLINE_RESULTS_STREAM

        def switch(tracking: bool) -> None:
            for display in Display.objects.all():
                display.tracking = tracking
                display.save()
            run_reconcile()

        try:
            wait(lambda: farm_keys.read_workers(client), 60, "the ingest worker")
            run_reconcile()
            wait(lambda: client.xlen(stream) >= 20 * cameras, 180, "results to flow (warm-up)")
            rates = rates_on_and_off(client, stream, switch, rounds=rounds, seconds=seconds)
        finally:
            worker.terminate()
            worker.wait(60)
    on, off = statistics.median(rates[True]), statistics.median(rates[False])
    print(f"\nfarm, {cameras} video-file cameras (320x240), shapes detector imgsz 320, CPU")
    print(f"{'tracking off (results/s)':<36}{off:>8.1f}   rounds {rates[False]}")
    print(f"{'tracking on':<36}{on:>8.1f}   rounds {rates[True]}")
    ratio = on / off
    print(f"ratio on / off: {ratio:.3f} (target >= 0.97) {'ok' if ratio >= 0.97 else 'MISSED'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", default="5,20,100")
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--compare", action="store_true")
    parser.add_argument("--compare-objects", type=int, default=20)
    parser.add_argument("--compare-seconds", type=float, default=60.0)
    parser.add_argument("--trackers-path")
    parser.add_argument("--farm-seconds", type=float, default=10.0, help="0: skip the farm")
    parser.add_argument("--farm-rounds", type=int, default=3)
    parser.add_argument("--farm-cameras", type=int, default=2)
    args = parser.parse_args()
    cost([int(n) for n in args.objects.split(",")], args.frames, args.rounds)
    if args.compare:
        compare(args.compare_objects, args.compare_seconds, args.trackers_path)
    if args.farm_seconds > 0:
        farm_fps_on_vs_off(args.farm_seconds, args.farm_rounds, args.farm_cameras)


if __name__ == "__main__":
    main()
