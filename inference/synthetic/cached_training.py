"""Train once, cache on disk: what the shapes detector and the shades classifier share.

A model the suite trains itself is cached under a path named by a hash of what made it: its
spec, the source of the code that generates its data and trains it, and the library versions
(`cache_contents`, `cache_key`). `train_cached` trains on a cache miss in a child process
(ultralytics' trainer changes process-wide torch settings), in a temporary directory
(ultralytics writes runs/ there, never in the working directory), under a file lock (two
processes asking at once train once), and its result appears in the cache atomically, with a
.json record of the key's contents and the training time next to it.

The child runs the training module itself (`python -m MODULE SPEC.json OUT.pt`, see
`child_main`), whose `train` calls `train_yolo`.
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
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

from inference.ultralytics_env import configure_ultralytics, yolo_class

logger = logging.getLogger(__name__)

SOURCE = Path(__file__)
"""This module: part of every cached model's key (it decides how they are trained)."""

Spec = TypeVar("Spec")


def cache_contents(spec: Any, sources: Iterable[Path]) -> dict[str, Any]:
    """What a cache key hashes: the spec (a dataclass), its sources' sha256 and the versions."""
    import cv2
    import numpy
    import torch

    configure_ultralytics()  # before its first import, which reads where its settings live
    import ultralytics

    return {
        "spec": asdict(spec),
        "sources": {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sources},
        "versions": {
            "python": platform.python_version(),
            "ultralytics": ultralytics.__version__,
            "torch": torch.__version__,
            "numpy": numpy.__version__,
            "opencv": cv2.__version__,
        },
    }


def cache_key(contents: dict[str, Any]) -> str:
    """The sha256 of `contents` as canonical JSON."""
    encoded = json.dumps(contents, sort_keys=True, default=list)
    return hashlib.sha256(encoded.encode()).hexdigest()


def train_cached(
    path: Path, *, spec: Any, contents: dict[str, Any], module: str, what: str, timeout: float
) -> Path:
    """`path`, training it first by `module`'s child process when it is not there yet.

    `contents` is the key's contents (recorded next to the weights); `what` names the model in
    logs and errors. Raises RuntimeError when training fails.
    """
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path.with_suffix(".lock")):
        if path.is_file():  # another process trained it while this one waited
            return path
        logger.info("training the %s into %s", what, path)
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="sightline-train-") as work:
            weights = Path(work) / "weights.pt"
            _train_in_child(module, spec, weights, Path(work), what=what, timeout=timeout)
            seconds = time.monotonic() - started
            record = {"key": cache_key(contents), **contents, "train_s": seconds}
            _write_atomically(path.with_suffix(".json"), json.dumps(record, indent=2).encode())
            _write_atomically(path, weights.read_bytes())
        logger.info("trained the %s in %.0f s", what, seconds)
    return path


def train_yolo(
    architecture: dict[str, Any],
    *,
    data: Path,
    imgsz: int,
    epochs: int,
    batch: int,
    seed: int,
    train_args: Iterable[tuple[str, Any]],
    weights: Path,
    work: Path,
) -> None:
    """Train the YOLO `architecture` (a model yaml's dict) on `data` in this process, on the
    CPU, deterministically; write the last weights to `weights` (the class names travel inside).

    Everything ultralytics writes goes under `work`. Plots are off (they would fetch a font),
    so is AMP (its check fetches a model); workers=0 keeps data loading in order.
    """
    import torch

    configure_ultralytics()
    from ultralytics.utils import YAML

    model_yaml = work / "sightline-model.yaml"
    YAML.save(model_yaml, architecture)
    torch.manual_seed(seed)
    model = yolo_class()(str(model_yaml))
    model.train(
        data=str(data),
        epochs=epochs,
        imgsz=imgsz,
        batch=batch,
        seed=seed,
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
        **dict(train_args),
    )
    weights.write_bytes((work / "runs" / "train" / "weights" / "last.pt").read_bytes())


def architecture(config_name: str, *, classes: int, depth: float, width: float) -> dict[str, Any]:
    """ultralytics' model yaml `config_name` (under cfg/models/) for `classes` classes at the
    given depth and width multiples instead of its named scales."""
    configure_ultralytics()
    from ultralytics.utils import ROOT, YAML

    config: dict[str, Any] = YAML.load(ROOT / "cfg/models" / config_name)
    config.pop("scales")
    config.update(nc=classes, depth_multiple=depth, width_multiple=width)
    return config


def child_main(
    argv: list[str] | None,
    *,
    spec_from_dict: Callable[[dict[str, Any]], Spec],
    train: Callable[[Spec, Path, Path], None],
    description: str | None = None,
) -> None:
    """The child process's entry point: `python -m MODULE SPEC.json OUT.pt` trains the spec
    in the JSON file and writes the weights to OUT.pt (its folder is the work folder)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("spec", type=Path)
    parser.add_argument("weights", type=Path)
    args = parser.parse_args(argv)
    spec = spec_from_dict(json.loads(args.spec.read_text()))
    train(spec, args.weights, args.weights.parent)


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


def _train_in_child(
    module: str, spec: Any, weights: Path, work: Path, *, what: str, timeout: float
) -> None:
    spec_file = work / "spec.json"
    spec_file.write_text(json.dumps(asdict(spec)))
    project_root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(project_root), *sys.path])}
    command = [sys.executable, "-m", module, str(spec_file), str(weights)]
    done = subprocess.run(  # noqa: S603 (our own interpreter and module, no shell)
        command, cwd=work, env=env, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0 or not weights.is_file():
        tail = (done.stderr or done.stdout)[-2000:]
        raise RuntimeError(f"training the {what} failed ({done.returncode}): {tail}")
