"""The health series as charts for the page: one chart per figure, a line per camera or worker.

Pure: series points and camera names in, plain JSON-able data out. Every chart has its own x
(sample times, seconds) and, per line, the values at those times (None where the series has
no point: a camera that started later, a worker that left), which is what uPlot draws.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cms.farm_health.sampling import CAMERA, FIELDS, RESULTS, WORKER, Point
from cms.farm_health.series import split_member


@dataclass(frozen=True)
class ChartSpec:
    id: str
    group: str  # the kind of series it draws
    title: str
    unit: str
    lines: tuple[tuple[str, str], ...]  # (field, suffix of the line's label)


CHARTS = (
    ChartSpec("fps", CAMERA, "Frames per second, in (decoded) and out (inferred)", "fps",
              (("fps_in", "in"), ("fps_out", "out"))),
    ChartSpec("frame_age", CAMERA, "Frame age", "s", (("frame_age", ""),)),
    ChartSpec("latency", CAMERA, "Inference latency per frame", "ms", (("latency_ms", ""),)),
    ChartSpec("reconnects", CAMERA, "Reconnects (since the task started)", "reconnects",
              (("reconnects", ""),)),
    ChartSpec("cpu", WORKER, "Worker CPU", "%", (("cpu", ""),)),
    ChartSpec("memory", WORKER, "Worker memory", "%", (("memory", ""),)),
    ChartSpec("gpu", WORKER, "Worker GPU", "%", (("gpu", ""),)),
    ChartSpec("gpu_memory", WORKER, "Worker GPU memory", "%", (("gpu_memory", ""),)),
    ChartSpec("load", WORKER, "Worker load against capacity", "streams",
              (("running", "running"), ("capacity", "capacity"))),
    ChartSpec("throughput", RESULTS, "Results throughput", "entries/s",
              (("stored_per_s", "stored"), ("handled_per_s", "handled"))),
    ChartSpec("backlog", RESULTS, "Results backlog", "entries",
              (("lag", "unread"), ("pending", "read, not acknowledged"))),
    ChartSpec("stream_length", RESULTS, "Results stream length (acknowledged entries included)",
              "entries", (("length", "entries kept"),)),
    ChartSpec("dead", RESULTS, "Dead letters", "entries", (("dead", "dead letters"),)),
)  # fmt: skip
GPU_FIELDS = frozenset({"gpu", "gpu_memory"})


@dataclass(frozen=True)
class Entity:
    """One camera, worker or the results path: its series' name, label and points."""

    name: str
    label: str
    points: list[Point]


def entities(
    kind: str, data: Mapping[str, list[Point]], camera_names: Mapping[int, str]
) -> list[Entity]:
    """The kind's series, cameras by name (a deleted one by id), workers by name."""
    found = []
    for name, points in data.items():
        series_kind, ident = split_member(name)
        if series_kind != kind:
            continue
        if kind == CAMERA:
            camera_id = int(ident) if ident.isdigit() else -1
            label = camera_names.get(camera_id) or f"camera {ident} (deleted)"
        else:
            label = ident
        found.append(Entity(name, label, points))
    return sorted(found, key=lambda e: (e.label.casefold(), e.name))


def _has(entity: Entity, index: int) -> bool:
    return any(len(p) > index and p[index] is not None for p in entity.points)


def chart(spec: ChartSpec, shown: list[Entity]) -> dict[str, Any]:
    """The spec's chart of these entities: a shared x and a line per (entity, field)."""
    xs = sorted({p[0] for e in shown for p in e.points})
    series = []
    for number, entity in enumerate(shown):
        by_t = {p[0]: p for p in entity.points}
        for line, (field, suffix) in enumerate(spec.lines):
            index = FIELDS[spec.group].index(field) + 1
            label = " ".join(filter(None, [entity.label if spec.group != RESULTS else "", suffix]))
            values = [by_t[x][index] if x in by_t and len(by_t[x]) > index else None for x in xs]
            series.append({"label": label, "entity": number, "line": line, "values": values})
    return {
        "id": spec.id,
        "group": spec.group,
        "title": spec.title,
        "unit": spec.unit,
        "x": xs,
        "series": series,
    }


def charts(data: Mapping[str, list[Point]], camera_names: Mapping[int, str]) -> dict[str, Any]:
    """Every chart, and notes for what is left out (workers without a GPU)."""
    by_kind = {kind: entities(kind, data, camera_names) for kind in (CAMERA, WORKER, RESULTS)}
    gpu_index = FIELDS[WORKER].index("gpu") + 1
    without_gpu = [w for w in by_kind[WORKER] if not _has(w, gpu_index)]
    notes = [
        f"{w.label} reports no GPU (a CPU worker): not in the GPU charts." for w in without_gpu
    ]
    drawn = []
    for spec in CHARTS:
        shown = by_kind[spec.group]
        if spec.id in GPU_FIELDS:
            shown = [w for w in shown if w not in without_gpu]
        drawn.append(chart(spec, shown))
        if spec.id in GPU_FIELDS and by_kind[WORKER] and not shown:
            drawn[-1]["empty"] = "No worker reports a GPU."
    return {"charts": drawn, "notes": notes}
