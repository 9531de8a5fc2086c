"""What an event thumbnail costs: bytes on disk (and in Redis until the consumer takes it) and
the worker's time to draw and encode one, at SIGHTLINE_THUMBNAIL_WIDTH (640 by default).

Frames: the suite's generated scenes (shapes on a textured background with sensor noise) at
320x240 (kept at their size: never enlarged) and at 1280x720, a 1920x1080 frame of heavy
noise (the worst case for JPEG), and ultralytics' bus.jpg (a real photo, 810x1080).

    .venv/bin/python bench/thumbnails.py [--width 640] [--repeat 50]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from inference.synthetic.video import Scene, render_scene, stationary_path  # noqa: E402
from tasks.thumbnail_image import Drawn, FrameThumbnails  # noqa: E402


def scene_frame(width: int, height: int) -> np.ndarray:
    scene = Scene(
        paths=(
            stationary_path(1, "square", at=(width // 4, height // 2), t0=0.0, t1=2.0),
            stationary_path(2, "circle", at=(3 * width // 4, height // 2), t0=0.0, t1=2.0),
        ),
        duration_s=1.0,
        width=width,
        height=height,
        seed=3,
    )
    image, _ = next(render_scene(scene))
    return image


def frames() -> dict[str, np.ndarray]:
    # Found, not imported: importing ultralytics would write its settings under ~/.config.
    spec = importlib.util.find_spec("ultralytics")
    assert spec is not None and spec.origin is not None, "ultralytics is not installed"
    bus = Path(spec.origin).parent / "assets" / "bus.jpg"
    rng = np.random.default_rng(0)
    noise = np.clip(rng.normal(128, 60, (1080, 1920, 3)), 0, 255).astype(np.uint8)
    return {
        "generated scene 320x240": scene_frame(320, 240),
        "generated scene 1280x720": scene_frame(1280, 720),
        "noise 1920x1080": noise,
        "bus.jpg 810x1080": cv2.imread(str(bus)),
    }


def measure(image: np.ndarray, width: int, repeat: int) -> tuple[int, float, tuple[int, int]]:
    height, full_width = image.shape[:2]
    box = (full_width * 0.3, height * 0.3, full_width * 0.6, height * 0.7)
    sizes, times = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        jpeg = FrameThumbnails(image, max_width=width).jpeg([Drawn(box, "person", 0)])
        times.append(time.perf_counter() - started)
        sizes.append(len(jpeg))
    shape = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR).shape[:2]
    return int(statistics.mean(sizes)), statistics.median(times) * 1000, (shape[1], shape[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    cv2.setNumThreads(1)  # as on a busy worker: one core per encode
    print("| frame | thumbnail | bytes | draw + encode (ms) |")
    print("| --- | --- | ---: | ---: |")
    for name, image in frames().items():
        size, ms, (w, h) = measure(image, args.width, args.repeat)
        print(f"| {name} | {w}x{h} | {size:,} | {ms:.1f} |")


if __name__ == "__main__":
    main()
