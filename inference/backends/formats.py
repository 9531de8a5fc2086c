"""The backends a detector can run on, what ultralytics calls their exports, and which of them
a device can use.

Nothing here imports a backend: availability is whether its package is installed
(`importlib.util.find_spec`), so asking is cheap on a worker that has not loaded a model yet.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from dataclasses import dataclass
from pathlib import Path

BACKENDS = ("torch", "openvino", "onnxruntime", "tensorrt")
"""Every backend, by the name settings, the API and `ModelInfo.backend` use."""


@dataclass(frozen=True, slots=True)
class ExportFormat:
    """How ultralytics exports to a backend and where the result lands.

    ultralytics writes an export of `model.pt` next to it, as `artifact`; `module` is the
    package the backend needs at run time and `packages` the distributions whose versions
    change what an export contains (part of the export cache key).
    """

    backend: str
    ultralytics_format: str
    artifact: str
    module: str
    packages: tuple[str, ...]


EXPORT_FORMATS = {
    f.backend: f
    for f in (
        ExportFormat("openvino", "openvino", "model_openvino_model", "openvino", ("openvino",)),
        ExportFormat("onnxruntime", "onnx", "model.onnx", "onnxruntime", ("onnx", "onnxruntime")),
        ExportFormat("tensorrt", "engine", "model.engine", "tensorrt", ("tensorrt",)),
    )
}
"""The backends that run an export (all but torch), by backend name."""

OPENVINO_DIR_SUFFIX = "_openvino_model"
"""ultralytics names an OpenVINO export directory `<stem>_openvino_model/` and finds it by that."""


def check_backend(backend: str) -> str:
    """Return `backend` if it is one of BACKENDS; ValueError naming the choices otherwise."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}: use one of {', '.join(BACKENDS)}")
    return backend


def is_installed(backend: str) -> bool:
    """Whether `backend`'s runtime package is importable here (torch always is)."""
    check_backend(backend)
    if backend == "torch":
        return True
    return importlib.util.find_spec(EXPORT_FORMATS[backend].module) is not None


def available_backends(device: str) -> list[str]:
    """The backends worth trying on `device` ("cpu" or "cuda[:N]"), expected fastest first.

    CPU: OpenVINO, ONNX Runtime, torch. CUDA: TensorRT, torch (the CPU runtimes would leave
    the GPU idle). Only installed backends are listed; torch always is, last.
    """
    candidates = ("tensorrt",) if device.startswith("cuda") else ("openvino", "onnxruntime")
    return [b for b in candidates if is_installed(b)] + ["torch"]


def package_versions(backend: str) -> dict[str, str]:
    """The installed version of each distribution an export to `backend` depends on."""
    versions = {}
    for package in EXPORT_FORMATS[backend].packages:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = ""
    return versions


def backend_of_weights(path: Path) -> str:
    """Which backend ultralytics runs `path` on: an export's by its name, torch otherwise."""
    if path.suffix == ".onnx":
        return "onnxruntime"
    if path.suffix == ".engine":
        return "tensorrt"
    if path.name.endswith(OPENVINO_DIR_SUFFIX) or path.suffix == ".xml":
        return "openvino"
    return "torch"
