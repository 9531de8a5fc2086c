"""What each camera is actually doing, for the admin and the API: assignment + heartbeat."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

import redis

from cms import redis_connection
from cms.farm import farm_keys
from cms.farm.heartbeats import StreamInfo
from cms.models import StreamAssignment
from streams.entities import StreamState


class FarmState(enum.StrEnum):
    """A camera's state as the farm sees it (its stream's state is one input)."""

    RUNNING = "running"  # assigned, and its stream delivers frames
    STARTING = "starting"  # assigned, no heartbeat of this generation yet
    RECOVERING = "recovering"  # its stream is connecting or reconnecting
    FAILING = "failing"  # its stream gave up (refused URL, file ended)
    PENDING = "pending"  # wanted, but no worker can take it (the reason says why)
    STOPPED = "stopped"  # not assigned to a worker
    UNKNOWN = "unknown"  # Redis did not answer


@dataclass(frozen=True)
class CameraStatus:
    state: FarmState
    worker: str = ""
    generation: int = 0
    reason: str = ""
    fps: float | None = None
    frame_age: float | None = None

    def __str__(self) -> str:
        if self.state is FarmState.RUNNING:
            age = f", frame age {self.frame_age:.1f} s" if self.frame_age is not None else ""
            error = f"; error: {self.reason}" if self.reason else ""
            return f"running on {self.worker} (gen {self.generation}, {self.fps:g} fps{age}){error}"
        if self.state in (FarmState.STARTING, FarmState.RECOVERING, FarmState.FAILING):
            why = f": {self.reason}" if self.reason else ""
            return f"{self.state} on {self.worker} (gen {self.generation}){why}"
        if self.state in (FarmState.PENDING, FarmState.UNKNOWN):
            return f"{self.state}: {self.reason}"
        return str(FarmState.STOPPED)


def camera_statuses(camera_ids: Iterable[int]) -> dict[int, CameraStatus]:
    ids = list(camera_ids)
    assignments = StreamAssignment.objects.in_bulk(ids)
    try:
        streams = farm_keys.read_streams(redis_connection.client(), ids)
    except redis.RedisError as exc:
        return {
            i: CameraStatus(FarmState.UNKNOWN, reason=f"Redis unreachable ({exc})") for i in ids
        }
    return {i: status_of(assignments.get(i), streams.get(i)) for i in ids}


def status_of(assignment: StreamAssignment | None, stream: StreamInfo | None) -> CameraStatus:
    if assignment is None or not assignment.worker:
        if assignment is not None and assignment.pending_reason:
            return CameraStatus(FarmState.PENDING, reason=assignment.pending_reason)
        return CameraStatus(FarmState.STOPPED)
    worker, generation = assignment.worker, assignment.generation
    if stream is None or stream.generation != generation:
        return CameraStatus(FarmState.STARTING, worker=worker, generation=generation)
    if stream.state is StreamState.ONLINE:
        return CameraStatus(
            FarmState.RUNNING,
            fps=stream.fps_out,
            frame_age=stream.frame_age,
            reason=stream.last_error,
            worker=worker,
            generation=generation,
        )
    state = FarmState.FAILING if stream.state is StreamState.FAILED else FarmState.RECOVERING
    why = stream.reason.value if stream.reason is not None else ""
    reason = " ".join(filter(None, [why, stream.last_error]))
    return CameraStatus(state, worker=worker, generation=generation, reason=reason)
