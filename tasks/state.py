"""Actual state as plain data: worker and stream heartbeats, and the assignment records.

Encoding to and from Redis lives in tasks.redis_state; these are what the pure
planner reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class WorkerInfo:
    """An ingest worker's latest heartbeat."""

    name: str
    device: str
    capacity: int
    running: tuple[int, ...] = ()
    cpu_percent: float = 0.0
    memory_percent: float = 0.0
    gpu_percent: float | None = None
    gpu_memory_percent: float | None = None
    models: tuple[str, ...] = ()
    last_seen: float = 0.0
    draining: bool = False


@dataclass(frozen=True)
class StreamInfo:
    """An ingest task's latest stream heartbeat."""

    camera_id: int
    worker: str
    generation: int
    spec_hash: str
    state: str = "connecting"
    reason: str = ""
    fps_in: float = 0.0
    fps_out: float = 0.0
    frame_age: float | None = None
    latency_ms: float | None = None
    reconnects: int = 0
    last_error: str = ""
    updated: float = 0.0


@dataclass(frozen=True)
class Assignment:
    """What reconcile last commanded for a camera (the database's record)."""

    camera_id: int
    worker: str  # "" when stopped
    generation: int
    spec_hash: str = ""
    assigned_at: float = 0.0


@dataclass(frozen=True)
class Start:
    camera_id: int
    worker: str
    previous_generation: int
    spec_hash: str
    reason: str


@dataclass(frozen=True)
class Stop:
    camera_id: int
    previous_generation: int
    reason: str


@dataclass(frozen=True)
class UpdateSpec:
    camera_id: int
    generation: int
    spec_hash: str


Command = Start | Stop | UpdateSpec


@dataclass
class Plan:
    commands: list[Command] = field(default_factory=list)
    # camera id -> why it is not running (no worker, no capacity, ...)
    pending: dict[int, str] = field(default_factory=dict)
    # camera id -> since when it has been assigned but not seen running
    missing_since: dict[int, float] = field(default_factory=dict)
