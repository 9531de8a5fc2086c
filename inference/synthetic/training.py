"""The shapes detector: a small YOLO trained on generated images, cached on disk by what made it.

`trained_detector(cache_root)` returns the path of the trained .pt, training it first (minutes
on a CPU) when the cache has none for the current generator, settings and library versions;
`cached_training` says how (a child process, a temporary directory, a file lock, an atomic
write).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inference.synthetic import cached_training
from inference.synthetic.images import DatasetSpec, write_yolo_dataset
from inference.synthetic.shapes import CLASS_NAMES

CACHE_SUBDIR = "shapes-detector"
# What decides the trained weights besides the settings and versions: the code that draws the
# images, this module and how it is trained. (video.py and accuracy.py do not change the model.)
_HERE = Path(__file__).parent
_SOURCES = (
    _HERE / "shapes.py",
    _HERE / "images.py",
    Path(__file__),
    cached_training.SOURCE,
)
_MODULE = "inference.synthetic.training"
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
    return cached_training.cache_contents(spec, _SOURCES)


def cache_key(spec: TrainSpec = DEFAULT_SPEC) -> str:
    """The sha256 of `cache_key_contents(spec)` as canonical JSON."""
    return cached_training.cache_key(cache_key_contents(spec))


def cached_detector_path(cache_root: Path, spec: TrainSpec = DEFAULT_SPEC) -> Path:
    """Where the detector trained from `spec` lives under `cache_root` (it may not exist yet)."""
    return cache_root / CACHE_SUBDIR / f"shapes-{cache_key(spec)[:16]}.pt"


def trained_detector(cache_root: Path, spec: TrainSpec = DEFAULT_SPEC) -> Path:
    """The .pt of the detector trained from `spec`, training it (minutes) on a cache miss.

    Next to it, a .json file records the cache key's contents and the training time.
    Raises RuntimeError when training fails.
    """
    return cached_training.train_cached(
        cached_detector_path(cache_root, spec),
        spec=spec,
        contents=cache_key_contents(spec),
        module=_MODULE,
        what="shapes detector",
        timeout=TRAINING_TIMEOUT_S,
    )


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
    return cached_training.architecture(
        "v8/yolov8.yaml",
        classes=len(CLASS_NAMES),
        depth=spec.depth_multiple,
        width=spec.width_multiple,
    )


def train(spec: TrainSpec, weights: Path, work: Path) -> None:
    """Generate the dataset and train on it in this process; write the weights to `weights`
    (everything ultralytics writes goes under `work`)."""
    cached_training.train_yolo(
        model_config(spec),
        data=write_yolo_dataset(work / "dataset", spec.dataset),
        imgsz=spec.imgsz,
        epochs=spec.epochs,
        batch=spec.batch,
        seed=spec.seed,
        train_args=spec.train_args,
        weights=weights,
        work=work,
    )


def main(argv: list[str] | None = None) -> None:
    """`python -m inference.synthetic.training SPEC.json OUT.pt`: train, as the child process."""
    cached_training.child_main(argv, spec_from_dict=spec_from_dict, train=train)


if __name__ == "__main__":
    main()
