"""The shapes detector: a small YOLO trained on generated images, cached on disk by what made it.

`trained_detector(cache_root)` returns the path of the trained .pt, training it first when the
cache has none for the current generator, settings and library versions. Training runs in a
child process (ultralytics' trainer changes process-wide torch settings), in a temporary
directory (ultralytics writes runs/ there, never in the working directory), under a file lock
(two processes asking at once train once), and its result appears in the cache atomically.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from inference.synthetic.images import DatasetSpec, write_yolo_dataset
from inference.synthetic.shapes import CLASS_NAMES
from inference.ultralytics_env import configure_ultralytics, yolo_class

logger = logging.getLogger(__name__)

CACHE_SUBDIR = "shapes-detector"
# What decides the trained weights besides the settings and versions: the code that draws the
# images and this module. (video.py and accuracy.py do not change the model.)
_SOURCES = ("shapes.py", "images.py", "training.py")
TRAINING_TIMEOUT_S = 3600.0


@dataclass(frozen=True, slots=True)
class TrainSpec:
    """Everything that decides the shapes detector: its dataset, architecture and training.

    The architecture is ultralytics' YOLOv8 at a width below the "n" scale's (0.25): the
    shapes need little capacity and training time scales with it. imgsz 320 is the generated
    frames' own width, so nothing is scaled at training or at inference.
    """

    dataset: DatasetSpec = field(default_factory=DatasetSpec)
    depth_multiple: float = 0.33
    width_multiple: float = 0.125
    imgsz: int = 320
    epochs: int = 9
    batch: int = 16
    seed: int = 0
    # ultralytics train() arguments beyond its defaults (hsv, flips, scale stay on): a short
    # warm-up for a short run, and mosaic for the first two epochs only (measured: best
    # accuracy for the time against none or all).
    train_args: tuple[tuple[str, Any], ...] = (
        ("warmup_epochs", 1.0),
        ("close_mosaic", 7),
    )


DEFAULT_SPEC = TrainSpec()


def cache_key_contents(spec: TrainSpec = DEFAULT_SPEC) -> dict[str, Any]:
    """What the cache key hashes: the spec, the generator's source and the library versions."""
    import cv2
    import numpy
    import torch

    configure_ultralytics()  # before its first import, which reads where its settings live
    import ultralytics

    here = Path(__file__).parent
    sources = {name: hashlib.sha256((here / name).read_bytes()).hexdigest() for name in _SOURCES}
    return {
        "spec": asdict(spec),
        "sources": sources,
        "versions": {
            "python": platform.python_version(),
            "ultralytics": ultralytics.__version__,
            "torch": torch.__version__,
            "numpy": numpy.__version__,
            "opencv": cv2.__version__,
        },
    }


def cache_key(spec: TrainSpec = DEFAULT_SPEC) -> str:
    """The sha256 of `cache_key_contents(spec)` as canonical JSON."""
    contents = json.dumps(cache_key_contents(spec), sort_keys=True, default=list)
    return hashlib.sha256(contents.encode()).hexdigest()


def cached_detector_path(cache_root: Path, spec: TrainSpec = DEFAULT_SPEC) -> Path:
    """Where the detector trained from `spec` lives under `cache_root` (it may not exist yet)."""
    return cache_root / CACHE_SUBDIR / f"shapes-{cache_key(spec)[:16]}.pt"


def trained_detector(cache_root: Path, spec: TrainSpec = DEFAULT_SPEC) -> Path:
    """The .pt of the detector trained from `spec`, training it (minutes) on a cache miss.

    Next to it, a .json file records the cache key's contents and the training time.
    Raises RuntimeError when training fails.
    """
    path = cached_detector_path(cache_root, spec)
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path.with_suffix(".lock")):
        if path.is_file():  # another process trained it while this one waited
            return path
        logger.info("training the shapes detector into %s (takes minutes on a CPU)", path)
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="sightline-train-") as work:
            weights = Path(work) / "shapes.pt"
            _train_in_child(spec, weights, Path(work))
            seconds = time.monotonic() - started
            record = {"key": cache_key(spec), **cache_key_contents(spec), "train_s": seconds}
            _write_atomically(path.with_suffix(".json"), json.dumps(record, indent=2).encode())
            _write_atomically(path, weights.read_bytes())
        logger.info("trained the shapes detector in %.0f s", seconds)
    return path


@contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    with open(lock_path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _train_in_child(spec: TrainSpec, weights: Path, work: Path) -> None:
    spec_file = work / "spec.json"
    spec_file.write_text(json.dumps(asdict(spec)))
    project_root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(project_root), *sys.path])}
    command = [sys.executable, "-m", "inference.synthetic.training", str(spec_file), str(weights)]
    done = subprocess.run(  # noqa: S603 (our own interpreter and module, no shell)
        command, cwd=work, env=env, capture_output=True, text=True, timeout=TRAINING_TIMEOUT_S
    )
    if done.returncode != 0 or not weights.is_file():
        tail = (done.stderr or done.stdout)[-2000:]
        raise RuntimeError(f"training the shapes detector failed ({done.returncode}): {tail}")


def spec_from_dict(data: dict[str, Any]) -> TrainSpec:
    """The TrainSpec that `dataclasses.asdict` turned into `data` (JSON lists back to tuples)."""
    dataset = data["dataset"]
    return TrainSpec(
        **{
            **data,
            "dataset": DatasetSpec(**{**dataset, "size_range": tuple(dataset["size_range"])}),
            "train_args": tuple((str(k), v) for k, v in data["train_args"]),
        }
    )


def model_config(spec: TrainSpec) -> dict[str, Any]:
    """ultralytics' YOLOv8 architecture for the shape classes at the spec's depth and width."""
    configure_ultralytics()
    from ultralytics.utils import ROOT, YAML

    config: dict[str, Any] = YAML.load(ROOT / "cfg/models/v8/yolov8.yaml")
    config.pop("scales")
    config.update(
        nc=len(CLASS_NAMES),
        depth_multiple=spec.depth_multiple,
        width_multiple=spec.width_multiple,
    )
    return config


def train(spec: TrainSpec, weights: Path, work: Path) -> None:
    """Generate the dataset and train on it in this process; write the weights to `weights`.

    Everything ultralytics writes goes under `work`. Plots are off (they would fetch a
    font), so is AMP (its check fetches a model); workers=0 keeps data loading in order.
    """
    import torch

    configure_ultralytics()
    from ultralytics.utils import YAML

    data_yaml = write_yolo_dataset(work / "dataset", spec.dataset)
    architecture = work / "sightline-shapes.yaml"
    YAML.save(architecture, model_config(spec))
    torch.manual_seed(spec.seed)
    model = yolo_class()(str(architecture))
    model.train(
        data=str(data_yaml),
        epochs=spec.epochs,
        imgsz=spec.imgsz,
        batch=spec.batch,
        seed=spec.seed,
        deterministic=True,
        workers=0,
        device="cpu",
        project=str(work / "runs"),
        name="train",
        exist_ok=True,
        plots=False,
        amp=False,
        val=False,
        verbose=False,
        **dict(spec.train_args),
    )
    last = work / "runs" / "train" / "weights" / "last.pt"
    # The class names travel inside the checkpoint, so the detector reports "square", not "0".
    weights.write_bytes(last.read_bytes())


def main(argv: list[str] | None = None) -> None:
    """`python -m inference.synthetic.training SPEC.json OUT.pt`: train, as the child process."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("spec", type=Path)
    parser.add_argument("weights", type=Path)
    args = parser.parse_args(argv)
    spec = spec_from_dict(json.loads(args.spec.read_text()))
    train(spec, args.weights, args.weights.parent)


if __name__ == "__main__":
    main()
