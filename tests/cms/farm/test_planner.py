"""Reconcile's pure core, tested without Redis or Celery."""

from __future__ import annotations

import random
from collections import Counter

from cms.farm.commands import Assignment, Start, Stop, UpdateSpec
from cms.farm.desired import CameraRow, CameraSpec, DisplayRow, ModelSpec, desired_state
from cms.farm.heartbeats import StreamInfo, WorkerInfo
from cms.farm.planner import PlanSettings, _Slots, placement_score, plan
from streams import StreamState

NOW = 1_000_000.0
SETTINGS = PlanSettings()
MODEL = ModelSpec(1, "yolo", "1", "abc", 0.25, 0.7, 640, None)


def spec(camera_id: int, *displays: int) -> CameraSpec:
    rows = [DisplayRow(d, camera_id, MODEL, None, "every", 1000) for d in displays or (1,)]
    camera = CameraRow(camera_id, f"rtsp://h/{camera_id}", "", "", "", 1.0, 5.0)
    return desired_state([camera], rows, key=b"k")[camera_id]


def worker(name: str, capacity: int = 4, **fields) -> WorkerInfo:
    return WorkerInfo(name=name, device="cpu", capacity=capacity, last_seen=NOW, **fields)


def run(desired, assignments=(), streams=(), workers=(), *, missing=None, trust=True, **kw):
    return plan(
        {s.camera_id: s for s in desired},
        {a.camera_id: a for a in assignments},
        {s.camera_id: s for s in streams},
        {w.name: w for w in workers},
        now=kw.pop("now", NOW),
        missing_since=missing or {},
        trust_worker_absence=trust,
        settings=PlanSettings(**kw) if kw else SETTINGS,
    )


def running(camera_id: int, on: str, generation: int = 1, spec_hash: str = "") -> tuple:
    assignment = Assignment(camera_id, on, generation, spec_hash, NOW - 300)
    stream = StreamInfo(camera_id, on, generation, spec_hash, StreamState.ONLINE)
    return assignment, stream


def starts(result) -> Counter:
    return Counter(c.worker for c in result.commands if isinstance(c, Start))


def test_desired_state_is_every_camera_with_a_display():
    cameras = [
        CameraRow(1, "rtsp://h/1", "", "", "", 1.0, 5.0),
        CameraRow(2, "rtsp://h/2", "", "", "", 1.0, 5.0),  # no display
    ]
    displays = [
        DisplayRow(10, 1, MODEL, None, "every", 1000),
        DisplayRow(11, 1, MODEL, (0, 0, 5, 5), "every", 1000),
    ]
    desired = desired_state(cameras, displays, key=b"k")
    assert set(desired) == {1}
    assert [d.id for d in desired[1].displays] == [10, 11]


def test_spec_hash_changes_with_crop_and_credentials_but_source_only_with_source():
    camera = CameraRow(1, "rtsp://h/1", "u", "p", "", 1.0, 5.0)
    row = DisplayRow(10, 1, MODEL, None, "every", 1000)
    base = desired_state([camera], [row], key=b"k")[1]
    cropped = desired_state(
        [camera], [DisplayRow(10, 1, MODEL, (0, 0, 5, 5), "every", 1000)], key=b"k"
    )[1]
    assert cropped.spec_hash != base.spec_hash
    assert cropped.source_hash == base.source_hash
    new_password = CameraRow(1, "rtsp://h/1", "u", "p2", "", 1.0, 5.0)
    changed = desired_state([new_password], [row], key=b"k")[1]
    assert changed.source_hash != base.source_hash
    assert "p2" not in changed.source_hash


def test_new_cameras_spread_over_workers_and_respect_capacity():
    result = run([spec(i) for i in range(1, 7)], workers=[worker("a", 3), worker("b", 3)])
    assert starts(result) == {"a": 3, "b": 3}
    assert not result.pending


def test_work_beyond_capacity_stays_pending_with_a_reason():
    result = run([spec(i) for i in range(1, 4)], workers=[worker("a", 2)])
    assert starts(result) == {"a": 2}
    assert list(result.pending.values()) == ["every ingest worker is at capacity"]


def test_no_worker_means_pending():
    result = run([spec(1)])
    assert result.pending == {1: "no ingest worker online"}


def test_placement_prefers_idle_machines():
    result = run([spec(1)], workers=[worker("busy", cpu_percent=95), worker("idle", cpu_percent=5)])
    assert starts(result) == {"idle": 1}


def test_placement_prefers_a_worker_that_holds_the_model():
    result = run([spec(1)], workers=[worker("a"), worker("b", models=("1:abc",))])
    assert starts(result) == {"b": 1}


def test_running_work_is_left_alone():
    s = spec(1)
    a, st = running(1, "a", spec_hash=s.spec_hash)
    assert run([s], [a], [st], [worker("a")]).commands == []


def test_spec_change_is_applied_in_place():
    s = spec(1, 1, 2)
    a, st = running(1, "a", spec_hash="old")
    assert run([s], [a], [st], [worker("a")]).commands == [UpdateSpec(1, 1, s.spec_hash)]


def test_camera_no_longer_wanted_is_stopped():
    a, st = running(1, "a")
    assert run([], [a], [st], [worker("a")]).commands == [Stop(1, 1, "no longer wanted")]


def test_stopped_assignment_is_not_stopped_again():
    assert run([], [Assignment(1, "", 2)], [], [worker("a")]).commands == []


def test_cameras_of_a_dead_worker_move():
    s = spec(1)
    a, _ = running(1, "dead", spec_hash=s.spec_hash)
    result = run([s], [a], [], [worker("alive")])
    assert result.commands == [Start(1, "alive", 1, s.spec_hash, "worker offline")]


def test_missing_heartbeats_after_a_redis_restart_move_nothing():
    s = spec(1)
    a, _ = running(1, "w", spec_hash=s.spec_hash)
    assert run([s], [a], [], [], trust=False).commands == []


def test_a_just_started_task_gets_its_grace_period():
    s = spec(1)
    a = Assignment(1, "a", 1, s.spec_hash, NOW - 5)
    result = run([s], [a], [], [worker("a", started_at=NOW - 1000)])
    assert result.commands == []
    assert result.pending == {}


def test_a_lost_task_is_restarted_only_after_missing_long_enough():
    s = spec(1)
    a = Assignment(1, "a", 1, s.spec_hash, NOW - 300)
    # its worker says it runs it, but the stream heartbeat is missing
    first = run([s], [a], [], [worker("a", running=(1,))])
    assert first.commands == []
    assert first.missing_since == {1: NOW}
    later = run([s], [a], [], [worker("a", running=(1,))], missing={1: NOW - 11})
    assert later.commands == [Start(1, "a", 1, s.spec_hash, "task lost")]


def test_a_camera_missing_from_its_workers_heartbeat_is_restarted_at_once():
    s = spec(1)
    a = Assignment(1, "a", 1, s.spec_hash, NOW - 300)  # every start message has expired
    result = run([s], [a], [], [worker("a", started_at=NOW - 1000)])
    assert result.commands == [Start(1, "a", 1, s.spec_hash, "not running on its worker")]


def test_a_worker_restarted_after_the_assignment_proves_it_lost_once_settled():
    s = spec(1)
    a = Assignment(1, "a", 1, s.spec_hash, NOW - 20)  # within the start grace
    restarted = worker("a", started_at=NOW - 10)  # a queued start would be running by now
    result = run([s], [a], [], [restarted])
    assert result.commands == [Start(1, "a", 1, s.spec_hash, "not running on its worker")]


def test_a_just_restarted_worker_gets_the_settle_time_and_the_camera_shows_pending():
    s = spec(1)
    a = Assignment(1, "a", 1, s.spec_hash, NOW - 20)
    result = run([s], [a], [], [worker("a", started_at=NOW - 1)])
    assert result.commands == []
    assert "which restarted" in result.pending[1]
    assert result.recheck_at == NOW - 1 + SETTINGS.restart_settle_s


def test_a_restarted_worker_that_took_the_queued_start_keeps_it():
    s = spec(1)
    a = Assignment(1, "a", 1, s.spec_hash, NOW - 20)
    result = run([s], [a], [], [worker("a", started_at=NOW - 10, running=(1,))])
    assert result.commands == []
    assert result.pending == {}
    assert result.recheck_at is None


def test_a_stream_heartbeat_older_than_the_workers_process_does_not_count():
    s = spec(1)
    a = Assignment(1, "a", 1, s.spec_hash, NOW - 300)
    leftover = StreamInfo(
        1, "a", 1, s.spec_hash, StreamState.ONLINE, updated=NOW - 8
    )  # the dead one's
    result = run([s], [a], [leftover], [worker("a", started_at=NOW - 4)])
    assert result.commands == [Start(1, "a", 1, s.spec_hash, "not running on its worker")]


def test_a_stale_generation_heartbeat_does_not_count_as_running():
    s = spec(1)
    a = Assignment(1, "a", 2, s.spec_hash, NOW - 300)
    stale = StreamInfo(1, "a", 1, s.spec_hash, StreamState.ONLINE)
    assert run([s], [a], [stale], [worker("a")], missing={1: NOW - 60}).commands


def test_a_draining_worker_hands_its_cameras_over():
    s = spec(1)
    a, st = running(1, "leaving", spec_hash=s.spec_hash)
    result = run([s], [a], [st], [worker("leaving", draining=True), worker("b")])
    assert starts(result) == {"b": 1}


def test_a_new_worker_does_not_take_running_work_below_the_threshold():
    specs = [spec(i) for i in range(1, 7)]
    pairs = [
        running(i, "a" if i <= 3 else "b", spec_hash=specs[i - 1].spec_hash) for i in range(1, 7)
    ]
    assignments, streams = zip(*pairs, strict=True)
    workers = [worker("a", 8), worker("b", 8), worker("c", 8)]
    assert run(specs, assignments, streams, workers).commands == []


def test_imbalance_above_the_threshold_moves_work_until_below_it():
    specs = [spec(i) for i in range(1, 5)]
    pairs = [running(i, "a", spec_hash=specs[i - 1].spec_hash) for i in range(1, 5)]
    assignments, streams = zip(*pairs, strict=True)
    workers = [worker("a", 4), worker("b", 4)]
    result = run(specs, assignments, streams, workers, rebalance_threshold=0.3)
    assert starts(result) == {"b": 2}  # 1.0/0.0 -> 0.75/0.25 -> 0.5/0.5
    assert all(c.reason == "rebalance" for c in result.commands)


def test_placement_takes_the_worker_that_scoring_every_worker_would():
    """The heaps behind placement give what scoring every worker with room for every camera
    gives (placement_score, ties by name), with model bonuses, GPU memory and full workers."""
    rng = random.Random(17)
    models = [ModelSpec(m, f"m{m}", "1", f"sha{m}", 0.25, 0.7, 640, None) for m in (1, 2, 3)]
    for _ in range(200):
        workers = [
            worker(
                f"w{i}",
                rng.randint(0, 4),
                cpu_percent=rng.choice([0.0, 30.0, 30.0, 95.0]),
                memory_percent=rng.choice([0.0, 50.0]),
                gpu_memory_percent=rng.choice([None, 20.0]),
                models=tuple(rng.sample([m.key for m in models], rng.randint(0, 2))),
                draining=rng.random() < 0.1,
            )
            for i in range(rng.randint(1, 8))
        ]
        desired = []
        for camera_id in range(1, rng.randint(2, 30)):
            model = rng.choice(models)
            row = DisplayRow(camera_id, camera_id, model, None, "every", 1000)
            camera = CameraRow(camera_id, f"rtsp://h/{camera_id}", "", "", "", 1.0, 5.0)
            desired.append(desired_state([camera], [row], key=b"k")[camera_id])
        result = run(desired, workers=workers)

        slots = {w.name: _Slots(w, 0) for w in workers if not w.draining}
        expected, pending = [], []
        for s in desired:
            room = [w for w in slots.values() if w.free > 0]
            if not room:
                pending.append(s.camera_id)
                continue
            best = min(room, key=lambda w: (placement_score(w, s, SETTINGS), w.info.name))
            best.assigned += 1
            expected.append((s.camera_id, best.info.name))
        assert [(c.camera_id, c.worker) for c in result.commands] == expected
        assert sorted(result.pending) == pending
