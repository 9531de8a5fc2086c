"""Reconcile's pure core: (desired, actual, workers) -> commands.

Level-triggered: it looks at the whole state every time. It never acts on missing
data: a worker counts as dead only when its heartbeat expired while others still
heartbeat (``trust_worker_absence``), and a task counts as lost only after it has
been missing for ``lost_after_s``, or at once when its worker's own heartbeat proves
that it does not run it (``not_running_there``).
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass

from cms.farm.commands import Assignment, Plan, Start, Stop, UpdateSpec
from cms.farm.desired import CameraSpec
from cms.farm.heartbeats import StreamInfo, WorkerInfo


@dataclass(frozen=True)
class PlanSettings:
    # A started task may take this long (model download and load) before it heartbeats.
    start_grace_s: float = 60.0
    # An assigned camera missing from the heartbeats this long is restarted.
    lost_after_s: float = 10.0
    # A worker (re)started takes the start messages queued for it within this long.
    restart_settle_s: float = 3.0
    # Running work moves only when the busiest and idlest workers' loads differ by more.
    rebalance_threshold: float = 0.5
    # Placement weights (the reference design's) plus GPU memory and model affinity.
    load_weight: float = 0.40
    cpu_weight: float = 0.35
    memory_weight: float = 0.25
    gpu_memory_weight: float = 0.15
    model_bonus: float = 0.10


@dataclass
class _Slots:
    """A worker's placement state while one plan is being made."""

    info: WorkerInfo
    assigned: int

    @property
    def free(self) -> int:
        return self.info.capacity - self.assigned

    @property
    def load(self) -> float:
        return self.assigned / self.info.capacity if self.info.capacity else 1.0


def placement_score(slots: _Slots, spec: CameraSpec, settings: PlanSettings) -> float:
    """Lower is better: load 40 %, CPU 35 %, memory 25 %, plus GPU memory and model affinity."""
    score = _base_score(slots, settings)
    if not spec.model_keys.isdisjoint(slots.info.models):
        score -= settings.model_bonus
    return score


def _base_score(slots: _Slots, settings: PlanSettings) -> float:
    """placement_score without the model bonus (the part that does not depend on the camera)."""
    worker = slots.info
    score = (
        settings.load_weight * (slots.assigned + 1) / max(worker.capacity, 1)
        + settings.cpu_weight * worker.cpu_percent / 100
        + settings.memory_weight * worker.memory_percent / 100
    )
    if worker.gpu_memory_percent is not None:
        score += settings.gpu_memory_weight * worker.gpu_memory_percent / 100
    return score


class _Placer:
    """Finds the worker with room that placement_score ranks first (then by name), in
    O(log workers) per camera instead of scoring every worker for every camera: 20,000
    cameras on 500 workers would be ten million scores.

    A worker's score is its base score, less the model bonus for a camera that needs one of
    the models it holds. So one heap holds every worker by base score, and one heap per
    model the workers that hold it; the best for a camera is the least of the first heap's
    top and, bonus taken off, the tops of its models' heaps. Entries are not updated in
    place: one made before a worker took a camera (its count then is kept in it) is stale
    and dropped when it comes up.
    """

    def __init__(self, slots: Mapping[str, _Slots], settings: PlanSettings) -> None:
        self._slots = slots
        self._settings = settings
        self._any: list[tuple[float, str, int]] = []
        self._by_model: dict[str, list[tuple[float, str, int]]] = {}
        for worker in slots.values():
            self._push(worker)

    def take(self, spec: CameraSpec) -> _Slots | None:
        """The best worker with room for ``spec``, counted as taking it; None when full."""
        best = self._top(self._any)
        for key in spec.model_keys:
            top = self._top(self._by_model.get(key))
            if top is not None:
                held = (top[0] - self._settings.model_bonus, top[1])
                best = held if best is None or held < best else best
        if best is None:
            return None
        worker = self._slots[best[1]]
        worker.assigned += 1
        self._push(worker)
        return worker

    def _push(self, worker: _Slots) -> None:
        if worker.free <= 0:
            return
        entry = (_base_score(worker, self._settings), worker.info.name, worker.assigned)
        heapq.heappush(self._any, entry)
        for key in set(worker.info.models):
            heapq.heappush(self._by_model.setdefault(key, []), entry)

    def _top(self, heap: list[tuple[float, str, int]] | None) -> tuple[float, str] | None:
        while heap:
            score, name, assigned = heap[0]
            worker = self._slots[name]
            if worker.assigned == assigned and worker.free > 0:
                return score, name
            heapq.heappop(heap)
        return None


def plan(
    desired: Mapping[int, CameraSpec],
    assignments: Mapping[int, Assignment],
    streams: Mapping[int, StreamInfo],
    workers: Mapping[str, WorkerInfo],
    *,
    now: float,
    missing_since: Mapping[int, float],
    trust_worker_absence: bool,
    settings: PlanSettings,
) -> Plan:
    result = Plan()
    slots = {name: _Slots(info, 0) for name, info in sorted(workers.items()) if not info.draining}
    # Cameras assigned to workers we cannot see, while that absence is not trustworthy,
    # keep their assignment and count against nothing.
    to_place: list[tuple[CameraSpec, int, str]] = []

    for camera_id, assigned in sorted(assignments.items()):
        if assigned.worker and camera_id not in desired:
            result.commands.append(Stop(camera_id, assigned.generation, "no longer wanted"))

    for camera_id, spec in sorted(desired.items()):
        assignment = assignments.get(camera_id)
        generation = assignment.generation if assignment else 0
        if assignment is None or not assignment.worker:
            to_place.append((spec, generation, "new"))
            continue
        verdict = _assigned_verdict(
            assignment,
            streams.get(camera_id),
            workers,
            now=now,
            missing_since=missing_since,
            trust_worker_absence=trust_worker_absence,
            settings=settings,
            result=result,
        )
        if verdict == "keep":
            if assignment.worker in slots:
                slots[assignment.worker].assigned += 1
            if assignment.spec_hash != spec.spec_hash:
                result.commands.append(UpdateSpec(camera_id, generation, spec.spec_hash))
        else:
            to_place.append((spec, generation, verdict))

    placer = _Placer(slots, settings)
    for spec, generation, reason in to_place:
        _place(spec, generation, reason, placer, not slots, result)

    _rebalance(desired, assignments, slots, result, settings)
    return result


def _assigned_verdict(
    assignment: Assignment,
    stream: StreamInfo | None,
    workers: Mapping[str, WorkerInfo],
    *,
    now: float,
    missing_since: Mapping[int, float],
    trust_worker_absence: bool,
    settings: PlanSettings,
    result: Plan,
) -> str:
    """'keep', or the reason the camera must be started again."""
    worker = workers.get(assignment.worker)
    if worker is None:
        return "worker offline" if trust_worker_absence else "keep"
    if worker.draining:
        return "worker shutting down"
    # A stream heartbeat written before the worker's process started is a dead one's.
    running = (
        stream is not None
        and stream.generation == assignment.generation
        and stream.updated >= worker.started_at
    )
    if running:
        return "keep"
    if not_running_there(assignment, worker, settings):
        return "not running on its worker"
    restarted = worker.started_at > assignment.assigned_at
    if restarted and assignment.camera_id not in worker.running:
        # It runs the camera only if a start is still queued for it: look again when
        # the worker has had the time to take it.
        result.pending[assignment.camera_id] = (
            f"not running on {worker.name}, which restarted; starting it again shortly"
        )
        recheck = max(now, worker.started_at + settings.restart_settle_s)
        result.recheck_at = min(result.recheck_at or recheck, recheck)
    if now - assignment.assigned_at < settings.start_grace_s:
        return "keep"
    first_missing = missing_since.get(assignment.camera_id, now)
    if now - first_missing >= settings.lost_after_s:
        return "task lost"
    result.missing_since[assignment.camera_id] = first_missing
    return "keep"


def not_running_there(assignment: Assignment, worker: WorkerInfo, settings: PlanSettings) -> bool:
    """Whether the worker's heartbeat proves that it does not run the assigned camera.

    A heartbeat lists what runs at the time it was taken, and a task is listed from its
    first second. So a camera missing from it is not running there once no start message
    for it can still be on its way: every start has expired (a heartbeat taken the start
    grace after the assignment), or the worker's process started after the assignment and
    has had the settle time to take what was queued for it.
    """
    if assignment.camera_id in worker.running:
        return False
    if worker.last_seen - assignment.assigned_at >= settings.start_grace_s:
        return True
    return bool(
        worker.started_at
        and worker.started_at > assignment.assigned_at
        and worker.last_seen - worker.started_at >= settings.restart_settle_s
    )


def _place(
    spec: CameraSpec,
    generation: int,
    reason: str,
    placer: _Placer,
    no_workers: bool,
    result: Plan,
) -> None:
    best = placer.take(spec)
    if best is None:
        result.pending[spec.camera_id] = (
            "no ingest worker online" if no_workers else "every ingest worker is at capacity"
        )
        return
    result.commands.append(
        Start(spec.camera_id, best.info.name, generation, spec.spec_hash, reason)
    )


def _rebalance(
    desired: Mapping[int, CameraSpec],
    assignments: Mapping[int, Assignment],
    slots: Mapping[str, _Slots],
    result: Plan,
    settings: PlanSettings,
) -> None:
    """Move running cameras off the busiest worker only while the imbalance passes the threshold."""
    touched = {c.camera_id for c in result.commands}
    movable: dict[str, list[int]] = {}
    for camera_id, assignment in sorted(assignments.items()):
        if camera_id in desired and camera_id not in touched and assignment.worker in slots:
            movable.setdefault(assignment.worker, []).append(camera_id)
    for _ in range(sum(len(ids) for ids in movable.values())):
        open_slots = [s for s in slots.values() if s.free > 0]
        if len(slots) < 2 or not open_slots:
            return
        busiest = max(slots.values(), key=lambda s: (s.load, s.info.name))
        idlest = min(open_slots, key=lambda s: (s.load, s.info.name))
        moved_load = (busiest.assigned - 1) / busiest.info.capacity
        if (
            busiest.load - idlest.load <= settings.rebalance_threshold
            or not movable.get(busiest.info.name)
            or (idlest.assigned + 1) / idlest.info.capacity > moved_load
        ):
            return
        camera_id = movable[busiest.info.name].pop()
        assignment = assignments[camera_id]
        busiest.assigned -= 1
        idlest.assigned += 1
        result.commands.append(
            Start(
                camera_id,
                idlest.info.name,
                assignment.generation,
                desired[camera_id].spec_hash,
                "rebalance",
            )
        )
