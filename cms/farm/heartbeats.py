"""What the ingest workers report: worker and stream heartbeats, as plain data.

Both ends import these: the ingest worker writes them, reconcile, the admin, the API
and the metrics read them. Their Redis encoding lives in cms.farm.farm_keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from streams.entities import StreamReason, StreamState

# A display's secondary model that fails (to load or to run) is reported among the stream's
# display_errors with this prefix: unlike a primary model's error, the display still gets
# results (without that model's attributes), so it is shown but the display is not pending.
SECONDARY_ERROR_PREFIX = "secondary model "


def secondary_error(model: str, error: str) -> str:
    """The display_errors message for a failing secondary model (``model``: name and version)."""
    return f"{SECONDARY_ERROR_PREFIX}{model}: {error}"


def is_secondary_error(message: str) -> bool:
    """Whether a display_errors message is a secondary model's (see secondary_error)."""
    return message.startswith(SECONDARY_ERROR_PREFIX)


@dataclass(frozen=True)
class ModelBackend:
    """What a worker runs one of its loaded models on ("model id:sha256" `key`): the backend
    and the candidate's label (`variant`, e.g. "openvino bf16"), why, and each candidate's
    measured ms per frame by label, at one frame per call (`candidates`) and with four frames
    per call (`batched`) (docs/backends.md)."""

    key: str
    backend: str
    reason: str = ""
    candidates: dict[str, float] = field(default_factory=dict)
    variant: str = ""
    batched: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelBackend:
        candidates = data.get("candidates") or {}
        batched = data.get("batched") or {}
        backend = str(data.get("backend", ""))
        return cls(
            key=str(data.get("key", "")),
            backend=backend,
            reason=str(data.get("reason", "")),
            candidates={str(k): float(v) for k, v in candidates.items()},
            # A heartbeat from before variants names only the backend.
            variant=str(data.get("variant") or backend),
            batched={str(k): float(v) for k, v in batched.items()},
        )


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
    # The backend of each loaded model (none in heartbeats from before backends existed).
    backends: tuple[ModelBackend, ...] = ()
    # Takes one start_cameras message listing its cameras; a worker from before that
    # (upgraded after the control worker) is sent one ingest_camera message per camera.
    start_lists: bool = False


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
    # (display id, why it gets no results: its model failed to load), JSON lists once read;
    # also (display id, secondary_error(...)) for each of its secondary models that fails.
    display_errors: tuple[tuple[int, str], ...] = ()
    # When ``last_error`` was first reported as it reads now (Unix time; 0: no error, or a
    # heartbeat from before this field): a reconnect loop repeats one error, so "since".
    last_error_at: float = 0.0

    def primary_error(self, display_id: int) -> str | None:
        """Why the display gets no results from this stream (its model's error), if it does not."""
        for shown, message in self.display_errors:
            if shown == display_id and not is_secondary_error(message):
                return message
        return None

    def secondary_errors(self, display_id: int) -> list[str]:
        """The display's failing secondary models' errors (the display still gets results)."""
        return [
            message
            for shown, message in self.display_errors
            if shown == display_id and is_secondary_error(message)
        ]

    @property
    def condition(self) -> str:
        """The state with its reason, for people: "recovering (timeout)"."""
        state = self.state.value
        return state if self.reason is None else f"{state} ({self.reason.value})"


def error_since(previous: tuple[str, float], error: str, now: float) -> tuple[str, float]:
    """(error, since when) after a heartbeat reporting ``error``: the time it was first
    reported while it stays the same text, ``now`` once it changes, 0 while there is none."""
    if not error:
        return "", 0.0
    return previous if previous[0] == error else (error, now)
