"""The child process that runs ultralytics' exporter: `python -m inference.backends.export_child
REQUEST.json`.

Why a child process, not a thread of the worker: ultralytics' exporter changes process-wide
state (its `select_device` sets torch's CPU thread count for the whole process, and
`torch.cuda.set_device` on a GPU), traces the model with torch's JIT/ONNX exporter while the
worker's cameras keep predicting on torch, holds the exporter's peak memory (TensorRT's
builder takes gigabytes) until exit, and a crash in a native builder would take the worker
down with it. A child gives all of that back when it exits, and runs at a lower priority so
the frame path keeps the CPU.

The request is JSON: weights, format, imgsz [h, w], batch, dynamic, half, device, result.
The child writes `result` as {"artifact": path} or {"error": reason} and exits 0 or 1.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from inference.ultralytics_env import yolo_class

NICENESS = 10
"""How much lower than the worker the export runs: cameras first, the export in the gaps."""


def run_export(request: dict[str, Any]) -> Path:
    """Export `request["weights"]` as asked; the artifact ultralytics wrote. Raises on failure."""
    yolo = yolo_class()(str(request["weights"]))
    if yolo.task != "detect":
        raise ValueError(f"{Path(request['weights']).name} is a {yolo.task!r} model, not detect")
    stride = int(max(yolo.model.stride))
    height, width = request["imgsz"]
    if height % stride or width % stride:
        raise ValueError(f"shape {height}x{width} is not a multiple of the model's stride {stride}")
    arguments: dict[str, Any] = {
        "format": request["format"],
        "imgsz": (height, width),
        "batch": request["batch"],
        "dynamic": request["dynamic"],
        "device": request["device"],
        "verbose": False,
    }
    if request["half"]:
        arguments["quantize"] = 16  # ultralytics 8.4's name for half=True (deprecated there)
    exported = yolo.export(**arguments)
    if not exported or not Path(exported).exists():
        raise RuntimeError(f"ultralytics reported {exported!r}, which does not exist")
    return Path(exported).resolve()


def main(argv: list[str]) -> int:
    """Run the request in `argv[1]`; write its result file; 0 on success."""
    request = json.loads(Path(argv[1]).read_text())
    os.nice(NICENESS)
    try:
        result: dict[str, str] = {"artifact": str(run_export(request))}
    except Exception as exc:
        result = {"error": f"{type(exc).__name__}: {exc}".strip()}
    Path(request["result"]).write_text(json.dumps(result))
    return 0 if "artifact" in result else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
