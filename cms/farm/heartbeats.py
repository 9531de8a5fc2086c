"""What the ingest workers report: worker and stream heartbeats, as plain data.

Both ends import these: the ingest worker writes them, reconcile, the admin, the API
and the metrics read them. Their Redis encoding lives in cms.farm.farm_keys.
"""

from __future__ import annotations

from dataclasses import dataclass

from streams.entities import StreamReason, StreamState


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
    # When the worker's process became ready to take tasks (0: not reported).
    started_at: float = 0.0


@dataclass(frozen=True)
class StreamInfo:
    """An ingest task's latest stream heartbeat."""

    camera_id: int
    worker: str
    generation: int
    spec_hash: str
    state: StreamState = StreamState.CONNECTING
    reason: StreamReason | None = None
    fps_in: float = 0.0
    fps_out: float = 0.0
    frame_age: float | None = None
    latency_ms: float | None = None
    reconnects: int = 0
    last_error: str = ""
    updated: float = 0.0
    # (display id, why it gets no results: its model failed to load), JSON lists once read
    display_errors: tuple[tuple[int, str], ...] = ()

    @property
    def condition(self) -> str:
        """The state with its reason, for people: "recovering (timeout)"."""
        state = self.state.value
        return state if self.reason is None else f"{state} ({self.reason.value})"
