"""Export a detection `.pt` to a faster backend, once per host, into a disk cache.

The cache holds one directory per export, named by its key: (sha256, backend, input shape,
batch, dynamic, precision, and the versions of ultralytics, torch and the backend's packages;
for TensorRT also the GPU, because engines are device-specific). An export is built in a
temporary directory inside the cache and renamed into place, so a reader sees a complete
export or none. A per-key `fcntl` lock makes several processes on one host export once: the
first exports, the others wait and take its result.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from inference.backends.formats import (
    EXPORT_FORMATS,
    check_backend,
    is_installed,
    package_versions,
)
from inference.errors import ExportError
from inference.fetch import sha256_of

logger = logging.getLogger(__name__)

EXPORT_TIMEOUT_S = 1800.0
"""How long one export may take (yolov8n: seconds to OpenVINO or ONNX; a TensorRT engine of a
large model takes minutes), and so how long a process waits for another's export."""
RECORD_NAME = "export.json"
"""Next to the artifact in each cache entry: the key it was built for and how long it took."""
_PROJECT_ROOT = Path(__file__).resolve().parents[2]
_LOCK_POLL_S = 0.1
_ERROR_TAIL_CHARS = 2000


def export_model(
    weights: Path,
    *,
    backend: str,
    shape: tuple[int, int],
    batch: int,
    dynamic: bool,
    half: bool,
    device: str,
    cache_dir: Path,
    sha256: str,
    timeout_s: float = EXPORT_TIMEOUT_S,
) -> Path:
    """The export of detection weights `weights` (sha256 `sha256`) for `backend`, from the cache
    or exported now: a path `UltralyticsDetector` loads (`.onnx`, `.engine`, or an OpenVINO
    `*_openvino_model/` directory).

    `shape` (height, width) is the letterboxed input shape of the stream (`letterbox_shape`):
    a static export runs only at that shape; a dynamic one takes any shape, `shape` being the
    one it is traced at. `batch` is the static batch size (the largest one when dynamic).
    `half` exports FP16 where the backend has it. `device` is where the export will run
    ("cpu" or "cuda:N"; only TensorRT builds on the GPU). Blocks while it or another process
    exports, up to `timeout_s`. Raises ExportError naming the backend and the reason:
    a backend that is not installed, unreadable or non-detection weights, a sha256 that does
    not match, an exporter failure or a timeout. ValueError for arguments that are not valid.
    """
    check_backend(backend)
    if backend == "torch":
        raise ValueError("torch runs the .pt itself: there is nothing to export")
    _check_arguments(shape, batch)
    if not is_installed(backend):
        raise ExportError(backend, f"{EXPORT_FORMATS[backend].module} is not installed")
    key = export_key(
        backend=backend,
        shape=shape,
        batch=batch,
        dynamic=dynamic,
        half=half,
        device=device,
        sha256=sha256,
    )
    entry = cache_dir / entry_name(key)
    artifact = entry / EXPORT_FORMATS[backend].artifact
    if artifact.exists():
        return artifact
    cache_dir.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout_s
    with _locked(cache_dir / f".{entry.name}.lock", backend=backend, deadline=deadline):
        if artifact.exists():  # another process exported it while this one waited
            return artifact
        _remove_leftovers(cache_dir, entry.name)
        _export_into(entry, weights, key=key, timeout_s=max(deadline - time.monotonic(), 1.0))
    return artifact


def export_key(
    *,
    backend: str,
    shape: tuple[int, int],
    batch: int,
    dynamic: bool,
    half: bool,
    device: str,
    sha256: str,
) -> dict[str, Any]:
    """Everything an export depends on, as plain JSON data (its hash names the cache entry)."""
    versions = {
        "ultralytics": _version("ultralytics"),
        "torch": _version("torch"),
        **package_versions(backend),
    }
    key: dict[str, Any] = {
        "sha256": sha256,
        "backend": backend,
        "shape": [int(shape[0]), int(shape[1])],
        "batch": int(batch),
        "dynamic": bool(dynamic),
        "precision": "fp16" if half else "fp32",
        "versions": versions,
    }
    if backend == "tensorrt":
        key["gpu"] = _gpu_identity(device)
        if not versions["tensorrt"]:  # NVIDIA's wheels are named tensorrt-cu12 and the like
            import tensorrt

            versions["tensorrt"] = str(tensorrt.__version__)
    return key


def entry_name(key: dict[str, Any]) -> str:
    """A readable, unique directory name for `key`: its main fields and a hash of all of it."""
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]
    height, width = key["shape"]
    mode = "dynamic" if key["dynamic"] else "static"
    return (
        f"{key['sha256'][:16]}-{key['backend']}-{height}x{width}-b{key['batch']}-{mode}-"
        f"{key['precision']}-{digest}"
    )


def export_record(artifact: Path) -> dict[str, Any]:
    """What the cache recorded for `artifact`: its key and `export_s` (seconds it took)."""
    record: dict[str, Any] = json.loads((artifact.parent / RECORD_NAME).read_text())
    return record


def _check_arguments(shape: tuple[int, int], batch: int) -> None:
    if len(shape) != 2 or any(not isinstance(s, int) or s <= 0 for s in shape):
        raise ValueError(f"shape must be (height, width) in positive pixels, got {shape!r}")
    if not isinstance(batch, int) or batch < 1:
        raise ValueError(f"batch must be a positive integer, got {batch!r}")


def _export_into(entry: Path, weights: Path, *, key: dict[str, Any], timeout_s: float) -> None:
    """Export in a temporary directory next to `entry`, then rename it to `entry` (atomic)."""
    backend = key["backend"]
    temporary = Path(tempfile.mkdtemp(dir=entry.parent, prefix=f".{entry.name}-"))
    try:
        work = temporary / "work"
        work.mkdir()
        # ultralytics writes an export next to its weights: give it a copy of its own to write by.
        model = work / "model.pt"
        _copy_weights(weights, model, backend=backend, sha256=key["sha256"])
        started = time.monotonic()
        exported = _run_child(model, key=key, timeout_s=timeout_s)
        built = temporary / "entry"
        built.mkdir()
        artifact_name = EXPORT_FORMATS[backend].artifact
        if exported.name != artifact_name:
            raise ExportError(backend, f"ultralytics wrote {exported.name}, not {artifact_name}")
        exported.rename(built / artifact_name)
        record = {"key": key, "export_s": round(time.monotonic() - started, 3)}
        (built / RECORD_NAME).write_text(json.dumps(record, indent=2, sort_keys=True))
        built.rename(entry)
        logger.info("exported %s to %s in %.1f s", weights.name, entry, record["export_s"])
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


def _copy_weights(source: Path, target: Path, *, backend: str, sha256: str) -> None:
    if not source.is_file():
        raise ExportError(backend, f"weights file {source} does not exist")
    if source.stat().st_size == 0:
        raise ExportError(backend, f"weights file {source.name} is empty")
    if source.suffix != ".pt":
        raise ExportError(backend, f"only .pt weights are exported, not {source.suffix!r}")
    shutil.copyfile(source, target)
    found = sha256_of(target)
    if found != sha256:  # a wrong key would serve this export for other weights
        raise ExportError(backend, f"{source.name} has sha256 {found}, expected {sha256}")


def _run_child(model: Path, *, key: dict[str, Any], timeout_s: float) -> Path:
    """Run ultralytics' exporter on `model` in a child process (export_child says why)."""
    backend = key["backend"]
    result = model.parent / "result.json"
    request = {
        "weights": str(model),
        "format": EXPORT_FORMATS[backend].ultralytics_format,
        "imgsz": key["shape"],
        "batch": key["batch"],
        "dynamic": key["dynamic"],
        "half": key["precision"] == "fp16",
        "device": key.get("gpu", {}).get("device", "cpu"),
        "result": str(result),
    }
    request_path = model.parent / "request.json"
    request_path.write_text(json.dumps(request))
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(_PROJECT_ROOT), environment.get("PYTHONPATH", "")) if p
    )
    command = [sys.executable, "-m", "inference.backends.export_child", str(request_path)]
    try:
        completed = subprocess.run(  # noqa: S603 (our own interpreter and module)
            command,
            cwd=model.parent,
            env=environment,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ExportError(backend, f"did not finish within {timeout_s:.0f} s") from exc
    if result.is_file():
        outcome = json.loads(result.read_text())
        if "artifact" in outcome:
            return Path(outcome["artifact"])
        raise ExportError(backend, outcome.get("error", "unknown error"))
    output = (completed.stderr or completed.stdout or "").strip()[-_ERROR_TAIL_CHARS:]
    raise ExportError(backend, f"the exporter exited with status {completed.returncode}: {output}")


@contextmanager
def _locked(path: Path, *, backend: str, deadline: float) -> Iterator[None]:
    """Hold an exclusive `fcntl` lock on `path`, polling until `deadline` (monotonic)."""
    with path.open("a") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise ExportError(
                        backend, "timed out waiting for another process's export"
                    ) from None
                time.sleep(_LOCK_POLL_S)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remove_leftovers(cache_dir: Path, name: str) -> None:
    """Temporary directories of this key left by a process that died mid-export (the lock is
    held, so none of them is in use)."""
    for leftover in cache_dir.glob(f".{name}-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return ""


def _gpu_identity(device: str) -> dict[str, str]:
    """The GPU a TensorRT engine is built for (an engine runs only on that model of GPU)."""
    import torch

    if not device.startswith("cuda") or not torch.cuda.is_available():
        raise ExportError("tensorrt", f"TensorRT needs a CUDA device, not {device!r}")
    index = int(device.partition(":")[2] or 0)
    major, minor = torch.cuda.get_device_capability(index)
    return {
        "device": f"cuda:{index}",
        "name": torch.cuda.get_device_name(index),
        "capability": f"{major}.{minor}",
    }
