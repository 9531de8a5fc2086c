"""Load a weights file and say what model it is: run as a child process, never in a server.

``python -m inference.weights_probe PATH`` prints one JSON line, either
``{"task": "detect", "class_names": {"0": "person", ...}, "input_size": 640}`` or
``{"error": "..."}`` (exit status 1). Loading a ``.pt`` unpickles it, and a pickle runs
code: whoever calls this runs it in a process of its own, with a timeout and without
secrets in its environment (cms.model_validation does).
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path
from typing import Any

from inference.ultralytics_env import yolo_class


def probe(path: Path) -> dict[str, Any]:
    """The model's task, class names (id as a string -> name) and input size (pixels).

    Raises whatever loading the file raises.
    """
    if path.suffix == ".pt":
        return _probe_checkpoint(path)
    if path.suffix == ".onnx":
        return _probe_onnx(path)
    if path.suffix == ".torchscript":
        return _probe_torchscript(path)
    raise ValueError(f"unsupported weights format {path.suffix!r}")


def _probe_checkpoint(path: Path) -> dict[str, Any]:
    yolo = yolo_class()(str(path))
    args = getattr(yolo.model, "args", None) or {}
    return _info(yolo.task, yolo.names, args.get("imgsz") if isinstance(args, dict) else None)


def _probe_onnx(path: Path) -> dict[str, Any]:
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    onnx.checker.check_model(model)
    return _from_export_metadata({p.key: p.value for p in model.metadata_props})


def _probe_torchscript(path: Path) -> dict[str, Any]:
    import torch

    extra = {"config.txt": ""}
    torch.jit.load(str(path), map_location="cpu", _extra_files=extra)
    metadata = json.loads(extra["config.txt"] or "{}")
    return _from_export_metadata(metadata)


def _from_export_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """ultralytics writes task, names and imgsz into its exports (ONNX: as Python literals)."""
    if "task" not in metadata or "names" not in metadata:
        raise ValueError("no ultralytics metadata (task, names): not an ultralytics YOLO export")
    names = metadata["names"]
    imgsz = metadata.get("imgsz")
    return _info(
        metadata["task"],
        ast.literal_eval(names) if isinstance(names, str) else names,
        ast.literal_eval(imgsz) if isinstance(imgsz, str) else imgsz,
    )


def _info(task: Any, names: Any, imgsz: Any) -> dict[str, Any]:
    if isinstance(imgsz, list | tuple):  # [height, width] of an export: the larger side
        imgsz = max(imgsz) if imgsz else None
    return {
        "task": str(task),
        "class_names": {str(k): str(v) for k, v in dict(names or {}).items()},
        "input_size": int(imgsz) if isinstance(imgsz, int | float) and imgsz > 0 else None,
    }


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        _answer({"error": "usage: python -m inference.weights_probe PATH"})
        return 2
    try:
        info = probe(Path(argv[0]))
    except Exception as exc:  # any failure to load is the answer, not a crash
        _answer({"error": f"{type(exc).__name__}: {exc}"[:1000]})
        return 1
    _answer(info)
    return 0


def _answer(answer: dict[str, Any]) -> None:
    """The last line of stdout (ultralytics may print before it)."""
    sys.stdout.write("\n" + json.dumps(answer) + "\n")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
