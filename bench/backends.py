"""Backends against torch: bare ultralytics predict loops on the same frame, in one run.

Prints, per imgsz (default 640 and 320) on a 640x480 frame, frames/s of
  - torch at ultralytics' default thread count (what a bare `YOLO.predict` sets: cores - 1),
  - torch at the farm's thread count (SIGHTLINE_TORCH_THREADS, else every core: tasks/worker.py),
  - ONNX Runtime and OpenVINO, exported by `inference.backends.export_model` at the frame's
    letterboxed rect shape (480x640 at 640), OpenVINO both as ultralytics compiles it (the
    CPU's default precision: bfloat16 where the CPU has it) and at FP32 (what
    UltralyticsDetector runs an FP32 export at, see inference/backends/openvino_precision.py),
  - with --device cuda: torch FP32, torch FP16 and TensorRT FP16 (the engine built here),
and each arm's ratio to torch at its defaults, its export time and model memory (RSS of a
child process that loads only that model, minus the same child before loading it).

The arms run in one process, interleaved round by round with a rotating order, so a change
of machine load hits them alike; a ratio is the median of per-round ratios. Without
--weights the model is an untrained yolov8n built from its config (no download) at
confidence 1e-4, so NMS has boxes to work on as with real weights (DESIGN.md).

    .venv/bin/python bench/backends.py [--imgsz 640 320] [--rounds 8] [--frames 24] [--device cpu]

The issue's farm-level figures (farm fps with `auto` against these loops, 1 and 4 cameras)
are not measured yet (issue 15 stays open for them).
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    # Run as a file, this folder would come first on sys.path and `import inference`
    # would import this script instead of the package.
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from inference import ExportError
from inference.backends import export_model, export_record, letterbox_shape
from inference.backends.openvino_precision import compile_at_fp32
from inference.fetch import sha256_of
from inference.ultralytics_env import configure_ultralytics, yolo_class

REPO = Path(__file__).resolve().parents[1]
UNTRAINED_CONFIDENCE = 1e-4


@dataclass
class Arm:
    """One bare predict loop: a model, its torch thread count and its predict arguments."""

    name: str
    model: Any
    threads: int
    kwargs: dict[str, Any]
    backend: str = "torch"
    artifact: Path | None = None
    export_s: float | None = None
    fps: list[float] = field(default_factory=list)

    def measure(self, frame: np.ndarray, frames: int) -> float:
        import torch

        # Each arm runs at its own count; ultralytics' pre- and post-processing use torch
        # also for the exported backends, whose own runtimes keep their own thread pools.
        torch.set_num_threads(self.threads)
        started = time.perf_counter()
        for _ in range(frames):
            self.model.predict(frame, **self.kwargs)
        fps = frames / (time.perf_counter() - started)
        self.fps.append(fps)
        return fps


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo), or what platform knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    return platform.processor() or platform.machine()


def farm_threads() -> int:
    """The torch thread count an ingest worker sets (tasks/worker.py, SIGHTLINE_TORCH_THREADS)."""
    configured = os.environ.get("SIGHTLINE_TORCH_THREADS", "")
    return int(configured) if configured.strip() else (os.cpu_count() or 1)


def build_weights(directory: Path) -> Path:
    import torch

    torch.manual_seed(0)
    model = yolo_class()("yolov8n.yaml")
    path = directory / "yolov8n-untrained.pt"
    model.save(str(path))
    return path


def load_frame(name: str, width: int, height: int) -> np.ndarray:
    """An ultralytics asset (or an image file) resized to width x height."""
    import cv2

    configure_ultralytics()
    from ultralytics.utils import ASSETS

    path = Path(name) if Path(name).is_file() else ASSETS / name
    frame = cv2.imread(str(path))
    if frame is None:
        raise SystemExit(f"cannot read frame {path}")
    return cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)


def exported(
    weights: Path, backend: str, shape: tuple[int, int], cache: Path, *, half: bool, device: str
) -> tuple[Path, float]:
    """An export in a fresh cache (so it is really exported) and how long it took."""
    artifact = export_model(
        weights,
        backend=backend,
        shape=shape,
        batch=1,
        dynamic=False,
        half=half,
        device=device,
        cache_dir=cache,
        sha256=sha256_of(weights),
    )
    return artifact, float(export_record(artifact)["export_s"])


def build_arms(
    weights: Path, frame: np.ndarray, imgsz: int, args: argparse.Namespace, cache: Path
) -> list[Arm]:
    """The arms for one imgsz; the first is the baseline every ratio is taken to."""
    configure_ultralytics()
    from ultralytics.utils import NUM_THREADS

    conf = args.conf if args.conf is not None else UNTRAINED_CONFIDENCE
    shape = letterbox_shape(frame.shape[:2], imgsz)
    rect = f"{shape[0]}x{shape[1]}"
    YOLO = yolo_class()

    def export_arm(name: str, backend: str, threads: int, base: dict[str, Any], **how: Any) -> Arm:
        artifact, seconds = exported(weights, backend, shape, cache, **how)
        model = YOLO(str(artifact), task="detect")
        return Arm(name, model, threads, base, backend, artifact, seconds)

    if args.device == "cuda":
        base = {"conf": conf, "imgsz": imgsz, "device": "cuda:0", "verbose": False}
        arms = [
            Arm("torch fp32", YOLO(str(weights)), NUM_THREADS, base),
            Arm("torch fp16", YOLO(str(weights)), NUM_THREADS, {**base, "quantize": 16}),
        ]
        engine = ("tensorrt fp16 " + rect, "tensorrt", {"half": True, "device": "cuda:0"})
        return arms + try_arms([engine], export_arm, NUM_THREADS, base)
    base = {"conf": conf, "imgsz": imgsz, "device": "cpu", "verbose": False}
    threads = farm_threads()
    arms = [
        Arm(f"torch, {NUM_THREADS} threads (default)", YOLO(str(weights)), NUM_THREADS, base),
        Arm(f"torch, {threads} threads (farm)", YOLO(str(weights)), threads, base),
    ]
    cpu = {"half": False, "device": "cpu"}
    exports = [
        (f"onnxruntime {rect}", "onnxruntime", cpu),
        (f"openvino {rect} ultralytics' default precision", "openvino", cpu),
        (f"openvino {rect} fp32", "openvino", cpu),  # compile_at_fp32 in prepare()
    ]
    return arms + try_arms(exports, export_arm, threads, base)


def try_arms(
    exports: list[tuple[str, str, dict[str, Any]]],
    export_arm: Any,
    threads: int,
    base: dict[str, Any],
) -> list[Arm]:
    """The export arms that export; one that fails is reported and left out."""
    arms = []
    for name, backend, how in exports:
        try:
            arms.append(export_arm(name, backend, threads, base, **how))
        except ExportError as exc:
            print(f"{name}: left out: {exc}")
    return arms


def prepare(arms: list[Arm], frame: np.ndarray) -> dict[str, str]:
    """First predict of each arm (builds ultralytics' predictor); the FP32 OpenVINO arm is
    recompiled at f32. Returns each OpenVINO arm's inference precision."""
    precisions = {}
    for arm in arms:
        arm.model.predict(frame, **arm.kwargs)
        if arm.backend == "openvino" and arm.name.endswith("fp32") and arm.artifact is not None:
            compile_at_fp32(arm.model, arm.artifact)
        if arm.backend == "openvino":
            compiled = arm.model.predictor.model.backend.ov_compiled_model
            hint = compiled.get_property("INFERENCE_PRECISION_HINT")
            precisions[arm.name] = hint.get_type_name()  # "bf16", "f32"
        for _ in range(3):
            arm.measure(frame, 2)  # warm-up passes at the arm's own thread count
        arm.fps.clear()
    return precisions


RSS_CHILD = """
import json, sys, psutil, numpy as np
sys.path.insert(0, sys.argv[1])
from inference.ultralytics_env import yolo_class
YOLO = yolo_class()
import torch, ultralytics.nn.autobackend  # the imports every arm has, before the baseline
backend, path = sys.argv[2], sys.argv[3]
imgsz, height, width = (int(v) for v in sys.argv[4:7])
if backend == "openvino":
    import openvino
elif backend == "onnxruntime":
    import onnxruntime
before = psutil.Process().memory_info().rss
model = YOLO(path, task="detect")
frame = np.zeros((height, width, 3), np.uint8)
for _ in range(3):
    model.predict(frame, imgsz=imgsz, conf=1e-4, verbose=False)
after = psutil.Process().memory_info().rss
print(json.dumps({"model_mib": (after - before) / 2**20, "total_mib": after / 2**20}))
"""


def model_rss(arm: Arm, weights: Path, imgsz: int, frame: np.ndarray) -> dict[str, float]:
    """RSS of a child process that loads only `arm`'s model and predicts a few frames."""
    path = arm.artifact or weights
    height, width = frame.shape[:2]
    command = [sys.executable, "-c", RSS_CHILD, str(REPO), arm.backend, str(path), str(imgsz)]
    completed = subprocess.run(
        [*command, str(height), str(width)], capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        return {"model_mib": float("nan"), "total_mib": float("nan")}
    result: dict[str, float] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def run_imgsz(
    weights: Path, frame: np.ndarray, imgsz: int, args: argparse.Namespace
) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="sightline-bench-exports-") as cache:
        arms = build_arms(weights, frame, imgsz, args, Path(cache))
        precisions = prepare(arms, frame)
        ratios: dict[str, list[float]] = {arm.name: [] for arm in arms[1:]}
        for round_index in range(args.rounds):
            shift = round_index % len(arms)
            order = arms[shift:] + arms[:shift]
            fps = {arm.name: arm.measure(frame, args.frames) for arm in order}
            for arm in arms[1:]:
                ratios[arm.name].append(fps[arm.name] / fps[arms[0].name])
            shown = ", ".join(f"{fps[arm.name]:.1f}" for arm in arms)
            print(f"imgsz {imgsz} round {round_index + 1}/{args.rounds} fps: {shown}", flush=True)
        rows = []
        for arm in arms:
            memory = model_rss(arm, weights, imgsz, frame) if not args.no_rss else {}
            rows.append(
                {
                    "arm": arm.name,
                    "fps": statistics.median(arm.fps),
                    "best": max(arm.fps),
                    "ratio": statistics.median(ratios[arm.name]) if arm.name in ratios else 1.0,
                    "threads": arm.threads,
                    "export_s": arm.export_s,
                    "precision": precisions.get(arm.name, ""),
                    **memory,
                }
            )
        return rows


def report(imgsz: int, rows: list[dict[str, Any]]) -> None:
    print()
    print(
        f"imgsz {imgsz}: {'arm':52} {'fps':>7} {'best':>7} {'ratio':>6} {'threads':>7} "
        f"{'export s':>8} {'model MiB':>9} {'RSS MiB':>8}"
    )
    for row in rows:
        export_s = f"{row['export_s']:8.1f}" if row["export_s"] is not None else f"{'-':>8}"
        name = row["arm"] + (f" [{row['precision']}]" if row["precision"] else "")
        print(
            f"{'':11}{name:52} {row['fps']:7.1f} {row['best']:7.1f} {row['ratio']:6.2f} "
            f"{row['threads']:7d} {export_s} {row.get('model_mib', float('nan')):9.0f} "
            f"{row.get('total_mib', float('nan')):8.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", help="a detection .pt (default: untrained yolov8n)")
    parser.add_argument("--frame", default="zidane.jpg", help="image file or ultralytics asset")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--imgsz", type=int, nargs="+", default=[640, 320])
    parser.add_argument("--conf", type=float, default=None, help="default 1e-4 (untrained)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--frames", type=int, default=24, help="frames per arm per round")
    parser.add_argument("--no-rss", action="store_true", help="skip the memory children")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    configure_ultralytics()  # before ultralytics' first import, which reads it
    import torch
    import ultralytics
    from ultralytics.utils import NUM_THREADS

    print(f"CPU: {cpu_model()}, {os.cpu_count()} logical cores")
    print(
        f"torch {torch.__version__}: ultralytics' default {NUM_THREADS} threads, "
        f"the farm's {farm_threads()}; ultralytics {ultralytics.__version__}"
    )
    if args.device == "cuda":
        print(f"GPU: {torch.cuda.get_device_name(0)}")
    frame = load_frame(args.frame, args.width, args.height)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        weights = Path(args.weights) if args.weights else build_weights(Path(tmp))
        print(f"model {args.weights or 'yolov8n untrained'}, frame {args.width}x{args.height}")
        for imgsz in args.imgsz:
            results[imgsz] = run_imgsz(weights, frame, imgsz, args)
    for imgsz, rows in results.items():
        report(imgsz, rows)
    print(
        "\nfps: median over rounds; best: the fastest round; ratio: median of the per-round\n"
        "ratios to the first arm (arms run back to back). model MiB: RSS a child gains by\n"
        "loading the model and predicting 3 frames; RSS MiB: that child's whole RSS.\n"
        "Farm-level figures (farm fps with auto): not measured by this script yet."
    )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
