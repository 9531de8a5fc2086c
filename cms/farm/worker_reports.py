"""What an ingest worker learns for the database, sent through Redis (it has no database).

A worker pushes a report to ``farm_keys.WORKER_REPORTS``; the control worker drains the
list (cms.farm.report_sink) and records each through the same services as before. Two
kinds: the class names and task a model's weights loaded with (``ModelRead``) and the size
of a camera's frames (``FrameSize``). Recording is idempotent, so a report delivered twice
does no harm. Django-free: both ends import it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class ModelRead:
    model_id: int
    class_names: dict[str, str]
    task: str


@dataclass(frozen=True)
class FrameSize:
    camera_id: int
    width: int
    height: int


Report = ModelRead | FrameSize
_KINDS: dict[str, type[ModelRead] | type[FrameSize]] = {
    "model_read": ModelRead,
    "frame_size": FrameSize,
}


def to_bytes(report: Report) -> bytes:
    kind = "model_read" if isinstance(report, ModelRead) else "frame_size"
    return json.dumps({"kind": kind, **asdict(report)}, separators=(",", ":")).encode()


def from_bytes(raw: bytes | str) -> Report:
    """The report of `to_bytes`; ValueError for anything else."""
    try:
        data: Any = json.loads(raw)
        kind = _KINDS[data.pop("kind")]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a worker report: {exc!r}") from None
    if kind is ModelRead:
        names = data.get("class_names")
        if (
            not isinstance(data.get("model_id"), int)
            or not isinstance(data.get("task"), str)
            or not isinstance(names, dict)
            or not all(isinstance(v, str) for v in names.values())
        ):
            raise ValueError("not a model read: model_id, class_names and task")
        return ModelRead(data["model_id"], {str(k): v for k, v in names.items()}, data["task"])
    values = [data.get(name) for name in ("camera_id", "width", "height")]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise ValueError("not a frame size: camera_id, width and height are integers")
    return FrameSize(*values)
