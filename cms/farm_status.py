"""What each camera is actually doing, for the admin and the API: assignment + heartbeat."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import redis

from cms import redis_connection
from cms.farm import farm_keys
from cms.farm.heartbeats import StreamInfo
from cms.models import StreamAssignment


@dataclass(frozen=True)
class CameraStatus:
    state: str  # running, starting, recovering, failing, pending, stopped, unknown
    worker: str = ""
    generation: int = 0
    reason: str = ""
    fps: float | None = None
    frame_age: float | None = None

    def __str__(self) -> str:
        if self.state == "running":
            age = f", frame age {self.frame_age:.1f} s" if self.frame_age is not None else ""
            error = f"; error: {self.reason}" if self.reason else ""
            return f"running on {self.worker} (gen {self.generation}, {self.fps:g} fps{age}){error}"
        if self.state in ("starting", "recovering", "failing"):
            why = f": {self.reason}" if self.reason else ""
            return f"{self.state} on {self.worker} (gen {self.generation}){why}"
        if self.state == "pending":
            return f"pending: {self.reason}"
        if self.state == "unknown":
            return f"unknown: {self.reason}"
        return "stopped"


def camera_statuses(camera_ids: Iterable[int]) -> dict[int, CameraStatus]:
    ids = list(camera_ids)
    assignments = StreamAssignment.objects.in_bulk(ids)
    try:
        streams = farm_keys.read_streams(redis_connection.client(), ids)
    except redis.RedisError as exc:
        return {i: CameraStatus("unknown", reason=f"Redis unreachable ({exc})") for i in ids}
    return {i: status_of(assignments.get(i), streams.get(i)) for i in ids}


def status_of(assignment: StreamAssignment | None, stream: StreamInfo | None) -> CameraStatus:
    if assignment is None or not assignment.worker:
        if assignment is not None and assignment.pending_reason:
            return CameraStatus("pending", reason=assignment.pending_reason)
        return CameraStatus("stopped")
    worker, generation = assignment.worker, assignment.generation
    if stream is None or stream.generation != generation:
        return CameraStatus("starting", worker=worker, generation=generation)
    if stream.state == "online":
        return CameraStatus(
            "running",
            fps=stream.fps_out,
            frame_age=stream.frame_age,
            reason=stream.last_error,
            worker=worker,
            generation=generation,
        )
    state = "failing" if stream.state == "failed" else "recovering"
    reason = " ".join(filter(None, [stream.reason, stream.last_error]))
    return CameraStatus(state, worker=worker, generation=generation, reason=reason)
