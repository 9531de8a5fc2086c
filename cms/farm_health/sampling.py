"""From heartbeats and the results path's figures to points of the health series; rollups.

Pure: no Redis, no clock. A point is ``[t, value, ...]`` with the values in the order of its
kind's fields (None where a figure is not reported: a CPU worker's GPU, a stream's latency
before its first inference), compact in JSON.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cms.farm.heartbeats import StreamInfo, WorkerInfo

Value = float | None
Point = list[Any]  # [t (int seconds), value, ...]

CAMERA = "camera"
WORKER = "worker"
RESULTS = "results"

FIELDS: dict[str, tuple[str, ...]] = {
    CAMERA: ("fps_in", "fps_out", "frame_age", "latency_ms", "reconnects"),
    WORKER: ("cpu", "memory", "gpu", "gpu_memory", "running", "capacity"),
    RESULTS: ("stored_per_s", "handled_per_s", "length", "lag", "pending", "dead"),
}
# A rollup keeps the mean of a field's samples, but the worst for these: a five-minute point
# must not hide a stall (frame age, backlog) or a count that only grows (reconnects).
ROLLUP_MAX = frozenset({"frame_age", "reconnects", "capacity", "length", "lag", "pending", "dead"})
# Counter outcomes of a result the consumers finished with (cms.results.consumer); "delivered"
# is a stored result.
HANDLED = ("delivered", "stale_dropped", "suppressed", "orphaned")


def _rounded(value: float | None) -> Value:
    return None if value is None else round(float(value), 3)


def camera_point(t: int, info: StreamInfo) -> Point:
    return [
        t,
        _rounded(info.fps_in),
        _rounded(info.fps_out),
        _rounded(info.frame_age),
        _rounded(info.latency_ms),
        info.reconnects,
    ]


def worker_point(t: int, info: WorkerInfo) -> Point:
    return [
        t,
        _rounded(info.cpu_percent),
        _rounded(info.memory_percent),
        _rounded(info.gpu_percent),
        _rounded(info.gpu_memory_percent),
        len(info.running),
        info.capacity,
    ]


@dataclass(frozen=True)
class CounterReading:
    """The results counters at a sample, to difference with the next one."""

    t: float
    stored: int
    handled: int

    @classmethod
    def of(cls, t: float, counters: Mapping[str, int]) -> CounterReading:
        return cls(t, counters.get("delivered", 0), sum(counters.get(k, 0) for k in HANDLED))


def rate(now: CounterReading, before: CounterReading | None) -> tuple[Value, Value]:
    """Stored and handled results per second since ``before``; None without a usable earlier
    reading (the first sample, or counters that went back: Redis lost them)."""
    if before is None or now.t <= before.t:
        return None, None
    elapsed = now.t - before.t
    if now.stored < before.stored or now.handled < before.handled:
        return None, None
    return (
        round((now.stored - before.stored) / elapsed, 3),
        round((now.handled - before.handled) / elapsed, 3),
    )


def results_point(
    t: int, figures: Mapping[str, Any], reading: CounterReading, before: CounterReading | None
) -> Point:
    """``figures``: cms.results.results_stream.figures()."""
    stored, handled = rate(reading, before)
    return [
        t,
        stored,
        handled,
        figures["length"],
        figures["lag"],
        figures["pending"],
        figures["dead"],
    ]


def bucket_start(t: float, step_s: int) -> int:
    return int(t // step_s * step_s)


def rollup(kind: str, t: int, points: Sequence[Point]) -> Point | None:
    """One point at ``t`` for ``points`` (one series' samples of a bucket): per field the mean
    of the reported values, or their maximum for ROLLUP_MAX fields; None without points."""
    if not points:
        return None
    rolled: Point = [t]
    for index, name in enumerate(FIELDS[kind], start=1):
        values = [p[index] for p in points if len(p) > index and p[index] is not None]
        if not values:
            rolled.append(None)
        elif name in ROLLUP_MAX:
            rolled.append(max(values))
        else:
            rolled.append(round(sum(values) / len(values), 3))
    return rolled
