"""Inference throughput: bare ultralytics vs the detector vs the micro-batcher.

Prints, in one run, frames/s and per-frame latency of
  (a) a bare ultralytics predict loop, one frame per call,
  (b) UltralyticsDetector at batch 1,
  (c) MicroBatcher fed by 4 and by 8 stream threads,
and the ratios b/a and c/a (target: at least 0.97 on CPU).

All arms run in the same process on the same model, interleaved round by round (the
order rotates), so a change in machine load hits them alike; each ratio is the median
of per-round ratios. Without --weights the model is an untrained yolov8n built from its
config (no download), with a confidence threshold low enough that it produces boxes,
so NMS costs what it costs with a trained model.

    .venv/bin/python bench/inference.py [--imgsz 640] [--rounds 12] [--frames 32] [--device auto]
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    # Run as a file, this folder would come first on sys.path and `import inference`
    # would import this script instead of the package.
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from inference import (
    MicroBatcher,
    PredictOptions,
    UltralyticsDetector,
    select_device,
)
from inference.ultralytics_env import configure_ultralytics, yolo_class

TARGET = 0.97


@dataclass
class Arm:
    """One way of running inference, measured over several rounds."""

    name: str
    short: str
    run: Callable[[int], list[float]]  # frames -> per-frame latencies (s); returns when done
    fps: list[float] = field(default_factory=list)
    cpu_per_frame: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)

    def measure(self, frames: int) -> float:
        started, cpu_started = time.perf_counter(), time.process_time()
        latencies = self.run(frames)
        fps = frames / (time.perf_counter() - started)
        self.cpu_per_frame.append((time.process_time() - cpu_started) / frames)
        self.fps.append(fps)
        self.latencies.extend(latencies)
        return fps


def bare_loop(model, frame: np.ndarray, kwargs: dict) -> Callable[[int], list[float]]:
    def run(frames: int) -> list[float]:
        latencies = []
        for _ in range(frames):
            started = time.perf_counter()
            model.predict(frame, **kwargs)
            latencies.append(time.perf_counter() - started)
        return latencies

    return run


def detector_loop(
    detector: UltralyticsDetector, frame: np.ndarray, options: PredictOptions
) -> Callable[[int], list[float]]:
    def run(frames: int) -> list[float]:
        latencies = []
        for _ in range(frames):
            started = time.perf_counter()
            detector.detect([frame], options)
            latencies.append(time.perf_counter() - started)
        return latencies

    return run


def streams_loop(
    batcher: MicroBatcher, frame: np.ndarray, options: PredictOptions, streams: int
) -> Callable[[int], list[float]]:
    """`streams` threads, each a camera submitting its next frame as soon as it has a result."""
    cameras = [frame.copy() for _ in range(streams)]

    def run(frames: int) -> list[float]:
        latencies: list[list[float]] = [[] for _ in range(streams)]

        def camera(index: int, count: int) -> None:
            for _ in range(count):
                started = time.perf_counter()
                batcher.detect(cameras[index], options, timeout=120)
                latencies[index].append(time.perf_counter() - started)

        share = [frames // streams + (i < frames % streams) for i in range(streams)]
        threads = [threading.Thread(target=camera, args=(i, share[i])) for i in range(streams)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return [x for per_camera in latencies for x in per_camera]

    return run


def build_weights(directory: Path) -> Path:
    import torch

    torch.manual_seed(0)
    model = yolo_class()("yolov8n.yaml")
    path = directory / "yolov8n-untrained.pt"
    model.save(str(path))
    return path


def load_frame(name: str) -> np.ndarray:
    import cv2

    configure_ultralytics()
    from ultralytics.utils import ASSETS

    path = Path(name) if Path(name).is_file() else ASSETS / name
    frame = cv2.imread(str(path))
    if frame is None:
        raise SystemExit(f"cannot read frame {path}")
    return frame


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--weights", help="a .pt/.onnx/.torchscript file (default: untrained yolov8n)"
    )
    parser.add_argument("--frame", default="zidane.jpg", help="image file or ultralytics asset")
    parser.add_argument("--imgsz", type=int, default=640)
    parser.add_argument(
        "--conf", type=float, default=None, help="default 1e-4 untrained, else 0.25"
    )
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--frames", type=int, default=32, help="frames per arm per round")
    parser.add_argument("--max-batch", type=int, default=8)
    parser.add_argument("--max-wait-ms", type=float, default=5.0)
    parser.add_argument(
        "--threads", type=int, default=0, help="torch CPU threads (0: what ultralytics picks)"
    )
    args = parser.parse_args()

    import torch

    configure_ultralytics()
    from ultralytics.utils import NUM_THREADS

    device = select_device(args.device)
    # A bare ultralytics predictor sets cpu_count - 1 threads (at most 8): the baseline.
    threads = args.threads or NUM_THREADS
    frame = load_frame(args.frame)
    with tempfile.TemporaryDirectory() as tmp:
        weights = Path(args.weights) if args.weights else build_weights(Path(tmp))
        conf = args.conf if args.conf is not None else (0.25 if args.weights else 1e-4)
        options = PredictOptions(confidence=conf, imgsz=args.imgsz)
        half = device.startswith("cuda")

        bare = yolo_class()(str(weights))
        kwargs = {
            "conf": conf,
            "imgsz": args.imgsz,
            "device": device,
            "quantize": 16 if half else None,
            "verbose": False,
        }
        bare.predict(frame, **kwargs)  # ultralytics builds its predictor on the first call
        detector = UltralyticsDetector(weights, name="bench", device=device, imgsz=args.imgsz)
        batchers = {
            n: MicroBatcher(detector, max_batch=args.max_batch, max_wait_ms=args.max_wait_ms)
            for n in (4, 8)
        }
        # ultralytics sets torch's thread count when it builds a predictor; every arm must
        # run with the same one.
        torch.set_num_threads(threads)
        arms = [
            Arm("(a) ultralytics predict loop", "a", bare_loop(bare, frame, kwargs)),
            Arm("(b) detector, batch 1", "b", detector_loop(detector, frame, options)),
            Arm("(c) batcher, 4 streams", "c4", streams_loop(batchers[4], frame, options, 4)),
            Arm("(c) batcher, 8 streams", "c8", streams_loop(batchers[8], frame, options, 8)),
        ]
        for arm in arms:  # warm-up, and the batchers' split policy learns its costs
            arm.run(max(16, args.frames // 2))

        ratios: dict[str, list[float]] = {arm.name: [] for arm in arms[1:]}
        for round_index in range(args.rounds):
            order = arms[round_index % len(arms) :] + arms[: round_index % len(arms)]
            fps = {arm.name: arm.measure(args.frames) for arm in order}
            for arm in arms[1:]:
                ratios[arm.name].append(fps[arm.name] / fps[arms[0].name])
            shown = ", ".join(f"{arm.short} {fps[arm.name]:.1f}" for arm in arms)
            print(f"round {round_index + 1}/{args.rounds} frames/s: {shown}", flush=True)

        report(args, device, threads, conf, frame, arms, ratios, batchers)
        for batcher in batchers.values():
            batcher.close()


def report(args, device, threads, conf, frame, arms, ratios, batchers) -> None:
    import torch
    import ultralytics

    height, width = frame.shape[:2]
    print()
    print(
        f"device {device}, torch {torch.__version__} ({threads} CPU threads), "
        f"ultralytics {ultralytics.__version__}"
    )
    print(
        f"model {args.weights or 'yolov8n untrained'}, frame {width}x{height}, imgsz {args.imgsz}, "
        f"conf {conf:g}, {args.rounds} rounds x {args.frames} frames per arm, "
        f"max_batch {args.max_batch}, max_wait {args.max_wait_ms:g} ms"
    )
    print()
    print(
        f"{'arm':30} {'frames/s':>9} {'best':>7} {'p50 ms':>7} {'p95 ms':>7} {'cpu ms/f':>9} "
        f"{'ratio med':>10} {'ratio best':>11}"
    )
    best_a = max(arms[0].fps)
    for arm in arms:
        if arm.name in ratios:
            paired = statistics.median(ratios[arm.name])
            best = max(arm.fps) / best_a
            ratio_text = f"{paired:10.3f} {best:11.3f}"
            ratio_text += "  ok" if min(paired, best) >= TARGET else f"  MISS (< {TARGET})"
        else:
            ratio_text = ""
        print(
            f"{arm.name:30} {statistics.median(arm.fps):9.2f} {max(arm.fps):7.2f} "
            f"{percentile(arm.latencies, 50) * 1e3:7.1f} "
            f"{percentile(arm.latencies, 95) * 1e3:7.1f} "
            f"{statistics.median(arm.cpu_per_frame) * 1e3:9.1f} {ratio_text}"
        )
    print(
        "frames/s: median over rounds; best: the fastest round. ratio med: median of the\n"
        "per-round ratios to (a) (arms run back to back); ratio best: best round to best\n"
        "round (other processes only ever slow a round down). cpu ms/f: process CPU time."
    )
    print()
    key_shape = (args.imgsz, height, width)
    for streams, batcher in batchers.items():
        stats = batcher.stats()
        costs = batcher.policy.cost(key_shape)
        per_pass = stats.frames / max(1, stats.forward_passes)
        shown = ", ".join(
            f"{k} {v * 1e3:.1f} ms/frame" if v is not None else f"{k} not measured"
            for k, v in costs.items()
        )
        print(
            f"batcher {streams} streams: {stats.frames} frames in {stats.forward_passes} passes "
            f"({per_pass:.2f} frames/pass), {stats.gather_timeouts} gather timeouts; "
            f"split policy: {shown}"
        )


if __name__ == "__main__":
    main()
