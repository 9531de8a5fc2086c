"""A camera's tracker (inference/objects/tracker.py): ultralytics' real BYTETracker behind
per-camera ids and parameters in seconds, on synthetic boxes moving on known paths."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path as FsPath

import pytest

from inference.entities import DetectedObject
from inference.objects.entities import PresenceEvent, TrackedObject
from inference.objects.geometry import Line, Zone, view_zone
from inference.objects.ids import TrackIds
from inference.objects.presence import DisplayPresence
from inference.objects.tracker import CameraTracker, TrackerParams
from tests.inference.objects.scenes import T0, Path, frames, labelled_frames

ROOT = FsPath(__file__).resolve().parents[3]
FRAME = (640, 480)
LANE = Zone("lane", ((200, 100), (400, 100), (400, 300), (200, 300)))
DOOR = Line("door", ((0, 240), (640, 240)))


def ids_by_path(
    tracker: CameraTracker, paths: list[Path], *, fps: float, duration: float, noise: float = 0
) -> dict[int, set[int]]:
    """Which track ids each path's boxes got (matched by the exact detection object)."""
    got: dict[int, set[int]] = defaultdict(set)
    for t, labelled in labelled_frames(paths, fps=fps, duration=duration, noise=noise):
        owner = {id(d): k for k, d in labelled}
        for obj in tracker.update([d for _, d in labelled], t):
            got[owner[id(obj.detection)]].add(obj.track_id)
    return dict(got)


def test_each_object_on_a_known_path_keeps_one_id() -> None:
    paths = [
        Path(a=(50, 200), b=(590, 200), start=0.0, end=6.0),
        Path(a=(590, 420), b=(50, 420), start=0.5, end=6.0),  # the other way, lower
        Path(a=(320, 150), b=(320, 470), start=1.0, end=5.0, class_id=1, class_name="person"),
    ]
    tracker = CameraTracker(TrackIds(4))
    got = ids_by_path(tracker, paths, fps=15, duration=6.0, noise=2.0)
    assert sorted(got) == [0, 1, 2]
    assert all(len(ids) == 1 for ids in got.values()), got
    assert sorted(i for ids in got.values() for i in ids) == [4000000001, 4000000002, 4000000003]


def test_an_object_reports_the_detector_s_own_box_and_first_seen() -> None:
    tracker = CameraTracker(TrackIds(1))
    car = DetectedObject(2, "car", 0.9, (100.0, 100.0, 160.0, 180.0))
    assert tracker.update([car], T0) == [TrackedObject(car, 1000000001, T0)]
    moved = DetectedObject(2, "car", 0.8, (104.0, 101.0, 164.0, 181.0))
    assert tracker.update([moved], T0 + 0.1) == [TrackedObject(moved, 1000000001, T0)]
    assert tracker.update([], T0 + 0.2) == []
    faint = DetectedObject(2, "car", 0.05, (300.0, 300.0, 360.0, 380.0))  # below low_thresh
    assert tracker.update([faint], T0 + 0.3) == []


def test_a_new_track_is_reported_from_its_second_frame_with_its_first_time() -> None:
    tracker = CameraTracker(TrackIds(1))
    a = DetectedObject(0, "car", 0.9, (100.0, 100.0, 160.0, 180.0))
    b = DetectedObject(0, "car", 0.9, (400.0, 100.0, 460.0, 180.0))
    tracker.update([a], T0)
    assert [o.track_id for o in tracker.update([a, b], T0 + 0.1)] == [1000000001]
    (_, new) = tracker.update([a, b], T0 + 0.2)
    assert (new.track_id, new.first_seen) == (1000000002, T0 + 0.1)


def test_two_cameras_interleaved_keep_their_ids_when_the_other_resets_or_starts() -> None:
    from ultralytics.trackers.basetrack import BaseTrack

    path = [Path(a=(50, 200), b=(590, 200), start=0.0, end=4.0)]
    cam_a = CameraTracker(TrackIds(10))
    cam_b = CameraTracker(TrackIds(20))
    seen_a: set[int] = set()
    seen_b: set[int] = set()
    for i, ((t, dets_a), (_, dets_b)) in enumerate(
        zip(
            frames(path, fps=10, duration=4.0),
            frames(path, fps=10, duration=4.0, seed=1),
            strict=True,
        )
    ):
        seen_a |= {o.track_id for o in cam_a.update(dets_a, t)}
        seen_b |= {o.track_id for o in cam_b.update(dets_b, t)}
        if i == 10:
            cam_b.reset()  # camera b restarts its tracking
        if i == 15:
            CameraTracker(TrackIds(30)).update(dets_a, t)  # a third camera starts
            BaseTrack.reset_id()  # what older ultralytics did to a class-level counter
        if i == 20:
            cam_b = CameraTracker(cam_b.ids)  # b's runner recreates its tracker
    assert seen_a == {10000000001}
    # b's tracks after its reset and its new tracker have new ids, never a's nor reused ones.
    assert seen_b == {20000000001, 20000000002, 20000000003}


def test_trackers_of_one_camera_share_its_id_allocator() -> None:
    ids = TrackIds(2)
    group_1, group_2 = CameraTracker(ids), CameraTracker(ids)
    car = [DetectedObject(0, "car", 0.9, (100.0, 100.0, 160.0, 180.0))]
    person = [DetectedObject(1, "person", 0.9, (100.0, 100.0, 160.0, 180.0))]
    for k in range(3):
        out_1 = group_1.update(car, T0 + k / 10)
        out_2 = group_2.update(person, T0 + k / 10)
    assert {o.track_id for o in out_1} | {o.track_id for o in out_2} == {2000000001, 2000000002}


def test_reset_ends_every_track_and_never_reuses_an_id() -> None:
    tracker = CameraTracker(TrackIds(3))
    car = [DetectedObject(0, "car", 0.9, (100.0, 100.0, 160.0, 180.0))]
    assert [o.track_id for o in tracker.update(car, T0)] == [3000000001]
    tracker.reset()
    tracker.update(car, T0 + 0.1)
    assert [o.track_id for o in tracker.update(car, T0 + 0.2)] == [3000000002]


@pytest.mark.parametrize("fps", [5, 30])
def test_the_lost_track_buffer_is_in_seconds_at_any_frame_rate(fps: int) -> None:
    params = TrackerParams(max_lost_s=1.0)
    hidden_short = [
        Path(a=(300, 200), b=(300, 200), start=0.0, end=2.0),
        Path(a=(300, 200), b=(300, 200), start=2.6, end=5.0),  # hidden for 0.6 s
    ]
    hidden_long = [
        Path(a=(300, 200), b=(300, 200), start=0.0, end=2.0),
        Path(a=(300, 200), b=(300, 200), start=3.5, end=5.0),  # hidden for 1.5 s
    ]
    short = CameraTracker(TrackIds(1), params=params)
    got = ids_by_path(short, hidden_short, fps=fps, duration=5.0)
    assert got[0] == got[1] and len(got[0]) == 1  # found again: same id
    assert short.fps == pytest.approx(fps)
    assert short._tracker.max_frames_lost == fps  # 1 s in frames at this rate
    # ultralytics' own default (track_buffer: 30 frames) would keep this one at 5 fps (6 s).
    long = CameraTracker(TrackIds(1), params=params)
    got = ids_by_path(long, hidden_long, fps=fps, duration=5.0)
    assert got[0].isdisjoint(got[1])


def test_a_stalled_stream_ends_every_track() -> None:
    tracker = CameraTracker(TrackIds(5), params=TrackerParams(max_lost_s=1.0))
    car = [DetectedObject(0, "car", 0.9, (100.0, 100.0, 160.0, 180.0))]
    for k in range(10):
        before = tracker.update(car, T0 + k / 10)
    tracker.update(car, T0 + 5.0)  # the same place, 4 s later: another object as far as we know
    after = tracker.update(car, T0 + 5.1)
    assert [o.track_id for o in before] == [5000000001]
    assert [o.track_id for o in after] == [5000000002]
    assert tracker.fps == pytest.approx(10, rel=0.01)  # a stall is not the frame rate


def test_no_package_is_installed_at_run_time() -> None:
    # In a fresh interpreter: ultralytics' matching module pip-installs `lap` when it cannot import
    # it; check_requirements is the door to that, so it must never be called.
    script = """
import sys
import ultralytics.utils.checks as checks
calls = []
checks.check_requirements = lambda *a, **k: calls.append(a)
from inference.entities import DetectedObject
from inference.objects.ids import TrackIds
from inference.objects.tracker import CameraTracker
from ultralytics.trackers.utils import matching
tracker = CameraTracker(TrackIds(1))
for k in range(3):
    tracker.update([DetectedObject(0, "car", 0.9, (10.0, 10.0, 50.0, 90.0))], 100.0 + k / 10)
assert calls == [], calls
assert matching.lap.__name__ == "lap" and matching.lap.__version__
print("ok", matching.lap.__version__)
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("ok ")
    pinned = (ROOT / "requirements.txt").read_text()
    assert f"lap=={done.stdout.split()[1]}" in pinned


# --- tracker and presence together ---------------------------------------------------------


def pipeline(
    paths: list[Path], *, fps: float, duration: float, noise: float = 0.0
) -> tuple[list[PresenceEvent], set[int]]:
    tracker = CameraTracker(TrackIds(9))
    presence = DisplayPresence([LANE], [DOOR], view_zone(None, FRAME))
    events: list[PresenceEvent] = []
    ids: set[int] = set()
    for t, detections in frames(paths, fps=fps, duration=duration, noise=noise):
        objects = tracker.update(detections, t)
        ids |= {o.track_id for o in objects}
        events += presence.update(objects, t).events
    return events + presence.close(), ids


def test_a_stationary_noisy_box_through_the_tracker_is_one_track_and_one_enter() -> None:
    parked = [Path(a=(300, 200), b=(300, 200), start=0.0, end=60.0)]
    events, ids = pipeline(parked, fps=15, duration=30.0, noise=3.0)
    assert len(ids) == 1
    assert sorted((e.type, e.zone) for e in events) == [
        ("enter", "lane"),
        ("enter", "view"),
        ("leave", "lane"),  # from close() at the end, not from the jitter
        ("leave", "view"),
    ]


def test_the_same_scene_through_the_tracker_at_5_and_30_fps_gives_the_same_events() -> None:
    paths = [
        Path(a=(100, 200), b=(540, 200), start=0.0, end=4.4),  # through the lane
        Path(a=(100, 140), b=(100, 440), start=1.0, end=4.0),  # across the door, "in"
        Path(a=(560, 440), b=(560, 140), start=2.0, end=5.0),  # across the door, "out"
    ]

    def signature(events: list[PresenceEvent]) -> list[tuple[str, str | None, str | None]]:
        return sorted((e.type, e.zone or e.line, e.direction) for e in events)

    slow, slow_ids = pipeline(paths, fps=5, duration=8.0, noise=1.5)
    fast, fast_ids = pipeline(paths, fps=30, duration=8.0, noise=1.5)
    assert len(slow_ids) == len(fast_ids) == 3
    assert signature(slow) == signature(fast)
    assert signature(fast) == sorted(
        [
            *[("enter", "view", None)] * 3,
            *[("leave", "view", None)] * 3,
            ("enter", "lane", None),
            ("leave", "lane", None),
            ("cross", "door", "in"),
            ("cross", "door", "out"),
        ]
    )
    key = lambda e: (e.type, e.zone or e.line or "", e.direction or "", e.time)  # noqa: E731
    for a, b in zip(sorted(slow, key=key), sorted(fast, key=key), strict=True):
        # A track is reported from its second frame: 0.2 s at 5 fps.
        assert a.time == pytest.approx(b.time, abs=0.25), (a, b)


def test_batched_kalman_updates_keep_ultralytics_own_tracks() -> None:
    # CameraTracker runs BYTETracker with the matched tracks' Kalman step batched; on the same
    # detections the stock tracker must form the same tracks with the same states.
    from ultralytics.trackers.byte_tracker import BYTETracker

    from inference.objects.tracker import Detections

    rng_paths = [
        Path(a=(50 + 40 * k, 100 + 25 * k), b=(600 - 30 * k, 460 - 20 * k), start=0.3 * k, end=6)
        for k in range(12)
    ]
    ours = CameraTracker(TrackIds(1))
    stock = BYTETracker(ours._args)
    stock.max_frames_lost = 15
    for t, detections in frames(rng_paths, fps=15, duration=6.0, noise=2.0):
        ours.update(detections, t)  # its lost-track buffer: 1 s at 15 fps, 15 frames
        stock.update(Detections.of(detections))
        mine = sorted(ours._tracker.tracked_stracks, key=lambda s: s.track_id)
        theirs = sorted(stock.tracked_stracks, key=lambda s: s.track_id)
        assert [(s.track_id, s.idx, s.is_activated) for s in mine] == [
            (s.track_id, s.idx, s.is_activated) for s in theirs
        ]
        for a, b in zip(mine, theirs, strict=True):
            assert a.mean == pytest.approx(b.mean, rel=1e-9, abs=1e-6)
            assert a.covariance == pytest.approx(b.covariance, rel=1e-9, abs=1e-6)
    assert len(mine) == 12


def test_every_pool_matches_the_stock_tracker_through_losses_low_scores_and_removals() -> None:
    # CameraTracker replaces BYTETracker.update's steps (track creation, Kalman predict, pool
    # bookkeeping) with batched ones; with detections dropped, low-confidence ones (the second
    # association), crossing paths and tracks running out of their buffer, its tracked, lost
    # and removed pools must stay the stock tracker's, track for track.
    import dataclasses
    import random
    from typing import Any

    from ultralytics.trackers.byte_tracker import BYTETracker

    from inference.objects.tracker import Detections

    paths = [
        Path(a=(40 + 45 * k, 80 + 30 * k), b=(600 - 40 * k, 470 - 25 * k), start=0.2 * k, end=4)
        for k in range(14)
    ]
    rng = random.Random(7)
    ours = CameraTracker(TrackIds(1))
    stock = BYTETracker(ours._args)
    scores = (0.05, 0.15, 0.2, 0.3, 0.6, 0.9)

    def pool(tracks: list[Any]) -> list[tuple[Any, ...]]:
        return [
            (s.track_id, int(s.idx), s.is_activated, s.state, s.frame_id, s.start_frame)
            for s in tracks
        ]

    removed = 0
    for t, detections in frames(paths, fps=15, duration=6.0, noise=2.0):
        kept = [
            dataclasses.replace(d, confidence=rng.choice(scores))
            for d in detections
            if rng.random() > 0.15
        ]
        ours.update(kept, t)
        stock.max_frames_lost = ours._tracker.max_frames_lost
        stock.update(Detections.of(kept))
        for mine, theirs in (
            (ours._tracker.tracked_stracks, stock.tracked_stracks),
            (ours._tracker.lost_stracks, stock.lost_stracks),
            (ours._tracker.removed_stracks, stock.removed_stracks),
        ):
            assert pool(mine) == pool(theirs), t
            for a, b in zip(mine, theirs, strict=True):
                assert a.mean == pytest.approx(b.mean, rel=1e-9, abs=1e-6)
                assert a.covariance == pytest.approx(b.covariance, rel=1e-9, abs=1e-6)
        removed = len(stock.removed_stracks)
    assert removed > 10  # the removal bookkeeping was exercised
