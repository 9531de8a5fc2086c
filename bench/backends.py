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

With --farm, the farm-level figures instead, per imgsz and camera count (default 1 and 4):
one real ingest worker (`celery worker --ingest`, threads pool, concurrency = cameras,
SIGHTLINE_INFERENCE_BACKEND=auto, its model cache in a scratch dir) on an embedded Redis and
SQLite (bench/farm.py), video-file cameras of a 640x480 clip decoded as fast as they are
consumed, one display each. Once the worker's heartbeat reports the model's backend choice
(with each candidate's ms) and results flow, each round counts the farm's results per second
for --seconds, then stops the worker (SIGSTOP) and runs, in this process, bare predict loops
over the clip's decoded frames for --seconds each: (a) torch at ultralytics' default threads,
(b) torch at the farm's threads, (c) the backend auto chose, from the very export in the
worker's cache, at the precision the worker runs it (an FP32 OpenVINO export recompiled at
FP32, as UltralyticsDetector does; a variant such as "openvino bf16" at the device's
default) and, as a plain `YOLO(export).predict` loop does, with torch (pre- and
post-processing) at ultralytics' default threads, and (d) that model again in a loop that
decodes the clip itself, each frame just before its predict, as a plain loop over a video
does (the farm's camera decodes its frames too; (c) gets them decoded in advance), and
where auto chose a dynamic export for the model's batches, (e) the same backend's static
export, faster on single frames; then resumes the worker. It prints the choice as reported,
the fps and the ratios farm / (a) >= 2.5, farm / (b) >= 1.6, farm / (c), (d) and (e) >= 0.95
(issue 15's targets), with the CPU model and the thread counts.

    .venv/bin/python bench/backends.py --farm [--imgsz 640 320] [--cameras 1 4] [--rounds 8] \
        [--seconds 8]
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
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from inference import ExportError
from inference.backend_choice import Candidate
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
    at_fp32: bool = False  # an OpenVINO export recompiled at FP32 (as UltralyticsDetector does)
    # A video this loop decodes itself, frame by frame before each predict, instead of cycling
    # through frames decoded in advance: the work the farm's camera does too.
    clip: Path | None = None
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

    def measure_window(self, frames: list[np.ndarray], seconds: float) -> float:
        """Frames/s over `seconds` of predicts, one frame per call, cycling through `frames`
        (or through the frames of `clip`, decoded in the loop)."""
        import torch

        torch.set_num_threads(self.threads)
        source = decoding(self.clip) if self.clip else cycling(frames)
        done, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            self.model.predict(next(source), **self.kwargs)
            done += 1
        fps = done / (time.perf_counter() - started)
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
        return Arm(name, model, threads, base, backend, artifact, seconds, name.endswith("fp32"))

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
        if arm.at_fp32 and arm.artifact is not None:
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


# --- the farm-level figures (--farm) -----------------------------------------------------

CHOICE_TIMEOUT_S = 900.0
"""How long the worker may take to export and time its candidates before the bench gives up."""
FARM_TARGETS = (
    ("farm / torch at ultralytics' defaults", 2.5),
    ("farm / torch at the farm's threads", 1.6),
    ("farm / the backend auto chose", 0.95),
    ("farm / the backend auto chose, decoding the clip", 0.95),
    ("farm / that backend's static export", 0.95),
)
"""Issue 15's targets, against the farm arms in their order (farm_arms; the last arm only
where auto chose a dynamic export)."""
REPORTED = ("key", "backend", "reason", "candidates")
"""The heartbeat report's fields this script knows; any other one is printed as it is."""


def run_farm(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Every (imgsz, cameras) case on one embedded Redis + SQLite, a fresh worker each."""
    from bench.farm import farm_environment

    os.environ["SIGHTLINE_INFERENCE_BACKEND"] = "auto"
    os.environ.pop("SIGHTLINE_MODEL_CACHE_DIR", None)  # the worker's cache: the scratch dir's
    with farm_environment("sightline-bench-backends-") as scratch:
        from cms.demo import untrained_weights, write_demo_clip

        clip = write_demo_clip(scratch / "clip.mp4")
        weights = Path(args.weights) if args.weights else untrained_weights(scratch / "yolov8n.pt")
        frames = decoded(clip)
        print(f"farm scratch dir {scratch}: {len(frames)} frames of {clip.name} (640x480)")
        return [
            farm_case(scratch, clip, weights, frames, imgsz, cameras, args)
            for imgsz in args.imgsz
            for cameras in args.cameras
        ]


def cycling(frames: list[np.ndarray]) -> Iterator[np.ndarray]:
    while True:
        yield from frames


def decoding(clip: Path) -> Iterator[np.ndarray]:
    """The clip's frames decoded one at a time, from the start again at its end."""
    import cv2

    while True:
        capture = cv2.VideoCapture(str(clip))
        while (ok_frame := capture.read())[0]:
            yield ok_frame[1]
        capture.release()


def decoded(clip: Path) -> list[np.ndarray]:
    import cv2

    capture = cv2.VideoCapture(str(clip))
    frames = []
    while (ok_frame := capture.read())[0]:
        frames.append(ok_frame[1])
    return frames


def farm_case(
    scratch: Path,
    clip: Path,
    weights: Path,
    frames: list[np.ndarray],
    imgsz: int,
    cameras: int,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """One ingest worker on `cameras` file cameras at `imgsz`, its backend chosen by `auto`,
    interleaved round by round with bare loops in this process while it is stopped."""
    import signal

    from django.conf import settings
    from django.core.files import File

    from bench.farm import (
        SETTLE_S,
        UNCAPPED_FPS,
        results_written,
        start_ingest_worker,
        wait,
    )
    from cms import redis_connection
    from cms.farm import farm_keys
    from cms.farm.reconcile import run_reconcile
    from cms.models import Camera, DetectionModel, Display

    conf = args.conf if args.conf is not None else UNTRAINED_CONFIDENCE
    Camera.objects.all().delete()  # the previous case's cameras and displays
    model = DetectionModel(name=f"yolov8n-{imgsz}-{cameras}", confidence=conf, imgsz=imgsz)
    with weights.open("rb") as handle:
        model.weights.save(weights.name, File(handle), save=False)
    model.save()
    for i in range(cameras):
        name = f"c{imgsz}-{cameras}-{i}"
        camera = Camera.objects.create(name=name, identifier=name, url=str(clip), fps=UNCAPPED_FPS)
        Display.objects.create(name=name, identifier=name, camera=camera, model=model)
    client = redis_connection.client()
    stream = settings.SIGHTLINE_RESULTS_STREAM
    case = f"imgsz {imgsz}, {cameras} camera{'s' if cameras > 1 else ''}"
    worker = start_ingest_worker(scratch, cameras)
    try:
        wait(lambda: farm_keys.read_workers(client), 60, "the ingest worker")
        run_reconcile()
        key = f"{model.pk}:{model.sha256}"
        choice = wait(lambda: backend_report(client, key), CHOICE_TIMEOUT_S, "backend choice")
        warm = client.xlen(stream) + 20 * cameras
        wait(lambda: client.xlen(stream) >= warm, 120, "results to flow (warm-up)")
        exports = Path(settings.SIGHTLINE_MODEL_CACHE_DIR) / "exports"
        arms, export = farm_arms(weights, clip, frames, imgsz, choice, exports, conf)
        precisions = prepare(arms, frames[0])
        farm_fps: list[float] = []
        for round_index in range(args.rounds):
            results, elapsed = results_written(client, stream, args.seconds)
            farm_fps.append(len(results) / elapsed)
            worker.send_signal(signal.SIGSTOP)  # the bare loops get the CPU to themselves
            try:
                shift = round_index % len(arms)
                for arm in arms[shift:] + arms[:shift]:
                    arm.measure_window(frames, args.seconds)
            finally:
                worker.send_signal(signal.SIGCONT)
            shown = ", ".join(f"{arm.fps[-1]:.1f}" for arm in arms)
            print(
                f"{case} round {round_index + 1}/{args.rounds}: farm {farm_fps[-1]:.1f}, "
                f"bare {shown} fps",
                flush=True,
            )
            time.sleep(SETTLE_S)  # back to full speed before the next farm window
    except TimeoutError:
        log = (scratch / "ingest.log").read_text(errors="replace").splitlines()
        print("\n".join(["the ingest worker's log ends:", *log[-30:]]))
        raise
    finally:
        worker.send_signal(signal.SIGCONT)
        worker.terminate()
        worker.wait(60)
    return {
        "case": case,
        "imgsz": imgsz,
        "cameras": cameras,
        "choice": choice,
        "export": export,
        "farm": statistics.median(farm_fps),
        "farm_rounds": farm_fps,
        "arms": [
            {
                "arm": arm.name,
                "threads": arm.threads,
                "fps": statistics.median(arm.fps),
                "rounds": arm.fps,
                "precision": precisions.get(arm.name, ""),
            }
            for arm in arms
        ],
        "ratios": [
            statistics.median(farm / bare for farm, bare in zip(farm_fps, arm.fps, strict=True))
            for arm in arms
        ],
    }


def backend_report(client: Any, key: str) -> dict[str, Any] | None:
    """The worker's report of model `key`'s backend once chosen (None while it measures),
    from the raw heartbeat JSON, so fields this script does not know come along."""
    from cms.farm import farm_keys
    from inference.backend_switch import MEASURING

    for name in client.zrange(farm_keys.WORKER_INDEX, 0, -1):
        raw = client.get(farm_keys.worker_key(name.decode()))
        for report in json.loads(raw).get("backends", ()) if raw else ():
            if report.get("key") == key and report.get("reason") != MEASURING:
                return dict(report)
    return None


def chosen_label(choice: dict[str, Any]) -> Candidate:
    """The candidate the worker runs: its report's `variant` label ("openvino bf16")."""
    backend, _, variant = str(choice.get("variant") or choice["backend"]).partition(" ")
    return Candidate(backend, variant)


def farm_arms(
    weights: Path,
    clip: Path,
    frames: list[np.ndarray],
    imgsz: int,
    choice: dict[str, Any],
    exports: Path,
    conf: float,
) -> tuple[list[Arm], str]:
    """The bare loops (a) torch at ultralytics' defaults, (b) torch at the farm's threads,
    (c) the backend auto chose, from the very export the worker runs, at ultralytics' default
    torch threads (torch chosen: the farm's), (d) the same model decoding `clip` in its loop,
    and where that export is a dynamic one, (e) the same backend's static export, which runs
    single frames faster than the dynamic one; and the chosen export's description."""
    configure_ultralytics()
    from ultralytics.utils import NUM_THREADS

    YOLO = yolo_class()
    base = {"conf": conf, "imgsz": imgsz, "device": "cpu", "verbose": False}
    threads = farm_threads()
    arms = [
        Arm(f"torch, {NUM_THREADS} threads (default)", YOLO(str(weights)), NUM_THREADS, base),
        Arm(f"torch, {threads} threads (farm)", YOLO(str(weights)), threads, base),
    ]
    candidate = chosen_label(choice)
    backend = candidate.backend
    if backend == "torch":
        chosen = Arm(f"torch, {threads} threads (chosen)", YOLO(str(weights)), threads, base)
        return [*arms, chosen, decoding_too(chosen, clip)], "the .pt itself"
    shape = letterbox_shape(frames[0].shape[:2], imgsz)
    artifact, record = cached_export(exports, candidate, shape, sha256_of(weights))
    key = record["key"]
    # As UltralyticsDetector runs it: an FP32 OpenVINO export at FP32 unless the variant is
    # the device's own precision ("openvino bf16").
    at_fp32 = backend == "openvino" and key["precision"] == "fp32" and candidate.exact_precision
    # A plain `YOLO(export).predict` loop: torch (pre- and post-processing) at ultralytics'
    # default count, which leaves the export's runtime its own threads.
    name = f"{candidate.label} {shape[0]}x{shape[1]}, {NUM_THREADS} threads (chosen)"
    model = YOLO(str(artifact), task="detect")
    chosen = Arm(name, model, NUM_THREADS, base, backend, artifact, record["export_s"], at_fp32)
    mode = "dynamic" if key["dynamic"] else "static"
    run_at = ", recompiled at fp32" if at_fp32 else ""
    export = (
        f"{artifact.parent.name}: {key['precision']} export, {mode}, batch {key['batch']}, "
        f"exported in {record['export_s']:.1f} s{run_at}"
    )
    arms += [chosen, decoding_too(chosen, clip)]
    if candidate.dynamic:
        static, _ = cached_export(exports, Candidate(backend), shape, sha256_of(weights))
        name = f"{backend} static {shape[0]}x{shape[1]}, {NUM_THREADS} threads"
        model = YOLO(str(static), task="detect")  # at the dynamic variant's precision
        arms.append(Arm(name, model, NUM_THREADS, base, backend, static, at_fp32=at_fp32))
    return arms, export


def decoding_too(chosen: Arm, clip: Path) -> Arm:
    """The chosen arm's model in a loop that decodes each frame of `clip` before predicting it,
    one after the other on one thread, as a plain loop over a video does."""
    return replace(chosen, name=f"{chosen.name}, decoding", clip=clip, at_fp32=False, fps=[])


def cached_export(
    exports: Path, candidate: Candidate, shape: tuple[int, int], sha256: str
) -> tuple[Path, dict[str, Any]]:
    """The worker's export for `candidate` at `shape` in its cache, and its record (a
    dynamic variant runs the dynamic export, any other the static one)."""
    from inference.backends import EXPORT_FORMATS
    from inference.backends.export import RECORD_NAME

    wanted = (candidate.backend, sha256, shape, candidate.dynamic)
    for record_file in exports.glob(f"*/{RECORD_NAME}"):
        record = json.loads(record_file.read_text())
        key = record["key"]
        if (key["backend"], key["sha256"], tuple(key["shape"]), key["dynamic"]) == wanted:
            return record_file.parent / EXPORT_FORMATS[candidate.backend].artifact, record
    raise SystemExit(f"no {candidate.label} export at {shape} in {exports}: what runs there?")


def farm_report(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        choice = row["choice"]
        candidates = ", ".join(f"{b} {ms} ms" for b, ms in choice.get("candidates", {}).items())
        print(f"\n{row['case']}: auto chose {choice['backend']}: {choice['reason']}")
        print(f"  candidates per frame (as the worker measured): {candidates or '-'}")
        extra = {k: v for k, v in choice.items() if k not in REPORTED}
        if extra:
            print(f"  other fields of the report: {json.dumps(extra)}")
        print(f"  the bare loop of the chosen backend runs {row['export']}")
        rounds = " ".join(f"{fps:.1f}" for fps in row["farm_rounds"])
        print(f"  {'farm (results/s)':56} {row['farm']:7.1f}   rounds {rounds}")
        for arm in row["arms"]:
            name = arm["arm"] + (f" [{arm['precision']}]" if arm["precision"] else "")
            rounds = " ".join(f"{fps:.1f}" for fps in arm["rounds"])
            print(f"  {'bare ' + name:56} {arm['fps']:7.1f}   rounds {rounds}")
        for (what, target), ratio in zip(FARM_TARGETS, row["ratios"], strict=False):
            verdict = "ok" if ratio >= target else "MISSED"
            print(f"  {what:56} {ratio:7.2f}   target >= {target} {verdict}")
    print(
        "\nfps: median over rounds; a ratio is the median of the per-round ratios. Each round\n"
        "counts the farm's results for --seconds, then stops the worker (SIGSTOP) and runs each\n"
        "bare loop for --seconds in this process, one frame per predict, then resumes it."
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
    parser.add_argument("--farm", action="store_true", help="the farm-level figures instead")
    parser.add_argument("--cameras", type=int, nargs="+", default=[1, 4], help="with --farm")
    parser.add_argument("--seconds", type=float, default=8, help="each window, with --farm")
    parser.add_argument("--no-rss", action="store_true", help="skip the memory children")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    if args.farm and args.device != "cpu":
        parser.error("--farm measures a CPU ingest worker")

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
    if args.farm:
        rows = run_farm(args)
        farm_report(rows)
        if args.json:
            Path(args.json).write_text(json.dumps(rows, indent=2))
        return
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
        "The farm-level figures: --farm."
    )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
