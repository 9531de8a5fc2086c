"""A `Detector` on ultralytics YOLO detection weights (.pt, TorchScript) and their exports
(ONNX, an OpenVINO `*_openvino_model/` directory, a TensorRT `.engine`).

Also the loading checks every ultralytics backend shares (`load_yolo`, `check_export_task`).

Every backend's boxes are in frame pixels: ultralytics letterboxes each frame into the model's
input and scales the boxes back. A static export (`ModelInfo.input_shape`) letterboxes every
frame into its fixed shape, whatever the frame's size: a frame whose rect shape
(`inference.backends.letterbox_shape`) is that shape runs exactly as torch runs it; another
frame is scaled to fit and padded, so it still gives frame-pixel boxes, but of a different
scale than torch's (boxes differ a little, and a small frame is scaled up).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from inference import torch_thread
from inference.backends.formats import OPENVINO_DIR_SUFFIX, backend_of_weights
from inference.backends.openvino_precision import compile_at_fp32, is_full_precision_export
from inference.entities import WEIGHT_SUFFIXES, DetectedObject, ModelInfo, PredictOptions
from inference.errors import ModelLoadError
from inference.ultralytics_env import yolo_class

logger = logging.getLogger(__name__)

DETECTION_TASK = "detect"
CLASSIFY_TASK = "classify"
TASK_NOUNS = {DETECTION_TASK: "a detection model", CLASSIFY_TASK: "a classification model"}
"""How errors name what a model of each task is."""
MAX_DETECTIONS = 300  # ultralytics' default max_det, kept explicit so it never drifts
LOADABLE_SUFFIXES = (*WEIGHT_SUFFIXES, ".engine")
"""What loads: uploadable weights and the exports the worker makes (`inference.backends`), a
TensorRT engine being one file and an OpenVINO export a directory."""


class UltralyticsDetector:
    """One loaded YOLO detection model on one device.

    Thread-safe: calls are serialised, because ultralytics keeps per-call state (its
    predictor's arguments) on the model. Feed it through a `MicroBatcher` to serve many
    streams with one forward pass per batch.
    """

    def __init__(
        self,
        weights: str | Path,
        *,
        name: str,
        version: str = "",
        sha256: str = "",
        device: str = "cpu",
        imgsz: int = 640,
        half: bool | None = None,
        warmup_shape: tuple[int, int] | None = None,
        exact_precision: bool = True,
    ) -> None:
        """Load `weights`, check it is a detection model and warm it up once at `imgsz`.

        On the CPU, loading and every pass run on the process's torch thread
        (`inference.torch_thread` says why).

        `warmup_shape` is the (height, width) of the frames it will see: the warm-up runs a
        blank frame of that shape, so a dynamic export or torch prepares the stream's own
        input shape (a static export runs at its fixed shape anyway); a square of `imgsz` by
        default. `half` defaults to True on CUDA and is always off on CPU. An FP32 OpenVINO export
        runs at FP32 (`compile_at_fp32`), or with `exact_precision=False` at the CPU's own
        default precision (bf16 on CPUs that have it: faster, about a pixel off). Raises
        ModelLoadError naming the model for empty, corrupt or non-detection weights.
        """
        self._label = f"{name} {version}".strip()
        self._device = device
        self._half = bool(half if half is not None else device.startswith("cuda"))
        self._half &= device.startswith("cuda")
        self._lock = threading.Lock()
        self._weights = Path(weights)
        # Around an export, ultralytics' pre- and post-processing is all torch runs: on one
        # CPU thread, because idle OpenMP workers spin while OpenVINO's or ONNX Runtime's
        # own threads run the model on the same cores (yolov8n, OpenVINO bf16, 2 cores: 4.5-5.4
        # against 8.7-9.0 ms per frame at 320, 13.3 against 16.9 at 640).
        exported = backend_of_weights(self._weights) != "torch"
        self._torch_threads = 1 if exported and not device.startswith("cuda") else None
        self._exact_precision = exact_precision
        self._yolo = torch_thread.run_for(self._device, self._load, self._weights)
        torch_thread.run_for(self._device, self._warm_up, imgsz, warmup_shape or (imgsz, imgsz))
        # Exports only know their class names once ultralytics' predictor exists (warm-up).
        self.info = ModelInfo(
            name=name,
            version=version,
            sha256=sha256,
            class_names=dict(self._yolo.names),
            device=device,
            imgsz=export_fixed_imgsz(self._yolo) or imgsz,
            backend=backend_of_weights(Path(weights)),
            input_shape=export_input_shape(self._yolo),
        )

    def detect(
        self, frames: Sequence[np.ndarray], options: PredictOptions
    ) -> list[list[DetectedObject]]:
        """Run one forward pass over `frames`; boxes are in each frame's own pixels."""
        if not frames:
            return []
        for frame in frames:
            check_frame(frame)
        with self._lock:
            return torch_thread.run_for(
                self._device, self._predict, list(frames), self._predict_args(options)
            )

    def _predict(
        self, frames: list[np.ndarray], arguments: dict[str, Any]
    ) -> list[list[DetectedObject]]:
        with torch_thread.threads(self._torch_threads):
            results = self._yolo.predict(frames, **arguments)
        return [self._objects(result) for result in results]

    def _predict_args(self, options: PredictOptions) -> dict[str, Any]:
        return {
            "conf": options.confidence,
            "iou": options.iou,
            "imgsz": options.imgsz,
            "classes": list(options.classes) if options.classes is not None else None,
            "max_det": MAX_DETECTIONS,
            "device": self._device,
            "quantize": 16 if self._half else None,
            "verbose": False,
        }

    def _objects(self, result: Any) -> list[DetectedObject]:
        names = self.info.class_names
        rows = result.boxes.data.cpu().tolist() if result.boxes is not None else []
        return [
            DetectedObject(
                class_id=int(cls),
                class_name=names.get(int(cls), str(int(cls))),
                confidence=float(conf),
                box=(float(x1), float(y1), float(x2), float(y2)),
            )
            for x1, y1, x2, y2, conf, cls in (row[:6] for row in rows)
        ]

    def _load(self, path: Path) -> Any:
        return load_yolo(path, label=self._label, task=DETECTION_TASK)

    def _warm_up(self, imgsz: int, shape: tuple[int, int]) -> None:
        """Build ultralytics' predictor and run one pass, so the first real frame is not slow."""
        # ultralytics sets torch's CPU thread count while it builds a predictor; the worker's
        # own setting is process-wide and must survive loading a model.
        import torch

        threads = torch.get_num_threads()
        try:
            blank = np.zeros((*shape, 3), np.uint8)
            arguments = self._predict_args(PredictOptions(imgsz=imgsz))
            self._yolo.predict([blank], **arguments)
            if self._needs_fp32_compile():
                compile_at_fp32(self._yolo, self._weights)
                self._yolo.predict([blank], **arguments)  # the first pass after compiling
        except Exception as exc:
            self._check_export_task()  # a classifier export fails here: say so, not "warm-up"
            raise ModelLoadError(
                f"model {self._label!r}: warm-up inference failed: {type(exc).__name__}: {exc}"
            ) from exc
        finally:
            torch.set_num_threads(threads)
        self._check_export_task()

    def _needs_fp32_compile(self) -> bool:
        return (
            self._exact_precision
            and backend_of_weights(self._weights) == "openvino"
            and is_full_precision_export(export_metadata(self._yolo))
        )

    def _check_export_task(self) -> None:
        check_export_task(self._yolo, label=self._label, task=DETECTION_TASK)


def check_frame(frame: Any) -> None:
    """Raise ValueError unless `frame` is a non-empty HxWx3 uint8 (BGR) array."""
    if not isinstance(frame, np.ndarray):
        raise ValueError(f"a frame must be a numpy array, got {type(frame).__name__}")
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.shape[0] == 0 or frame.shape[1] == 0:
        raise ValueError(f"a frame must be HxWx3 with H, W > 0, got shape {frame.shape}")
    if frame.dtype != np.uint8:
        raise ValueError(f"a frame must be uint8, got {frame.dtype}")


def load_yolo(path: Path, *, label: str, task: str) -> Any:
    """Load `path` as an ultralytics YOLO of `task`; ModelLoadError naming `label` otherwise.

    Refuses a missing, empty or unknown-format file, one that does not load, and a .pt
    whose own task is another (an export's task is checked after warm-up:
    `check_export_task`). `path` may also be an OpenVINO export directory.
    """
    if path.is_dir() and path.name.endswith(OPENVINO_DIR_SUFFIX):
        if not any(path.glob("*.xml")):
            raise ModelLoadError(f"model {label!r}: OpenVINO export {path.name} has no .xml model")
    elif not path.is_file():
        raise ModelLoadError(f"model {label!r}: weights file {path} does not exist")
    elif path.stat().st_size == 0:
        raise ModelLoadError(f"model {label!r}: weights file {path.name} is empty")
    elif path.suffix not in LOADABLE_SUFFIXES:
        raise ModelLoadError(
            f"model {label!r}: unsupported weights format {path.suffix!r} "
            f"(expected one of {', '.join(LOADABLE_SUFFIXES)} or a *{OPENVINO_DIR_SUFFIX}/ "
            "directory)"
        )
    try:
        # The task only matters for exports, whose task ultralytics otherwise guesses from
        # the file name; a .pt file always reports its own task.
        yolo = yolo_class()(str(path), task=task)
    except Exception as exc:
        raise ModelLoadError(
            f"model {label!r}: cannot load weights {path.name}: {type(exc).__name__}: {exc}"
        ) from exc
    _check_task(yolo.task, label=label, task=task)
    return yolo


def export_metadata(yolo: Any) -> dict[str, Any]:
    """An export's metadata (task, imgsz, ...), read by ultralytics' predictor; {} for .pt."""
    backend = getattr(getattr(yolo, "predictor", None), "model", None)
    metadata = getattr(backend, "metadata", None)
    return metadata if isinstance(metadata, dict) else {}


def export_fixed_imgsz(yolo: Any) -> int | None:
    """The size a static export runs at whatever it is asked for; None for .pt and dynamic."""
    metadata = export_metadata(yolo)
    size = metadata.get("imgsz")
    if metadata.get("dynamic") or not size:
        return None
    return int(max(size)) if isinstance(size, (list, tuple)) else int(size)


def export_input_shape(yolo: Any) -> tuple[int, int] | None:
    """A static export's fixed (height, width); None for .pt and dynamic exports."""
    metadata = export_metadata(yolo)
    size = metadata.get("imgsz")
    if metadata.get("dynamic") or not size:
        return None
    if isinstance(size, (list, tuple)):
        return int(size[0]), int(size[-1])
    return int(size), int(size)


def check_export_task(yolo: Any, *, label: str, task: str) -> None:
    """Exports record their task in metadata that ultralytics reads only when predicting."""
    found = export_metadata(yolo).get("task")
    if found is not None:
        _check_task(found, label=label, task=task)


def _check_task(found: Any, *, label: str, task: str) -> None:
    if found != task:
        hint = f": use it as {TASK_NOUNS[found]}" if found in TASK_NOUNS else ""
        raise ModelLoadError(f"model {label!r} is a {found!r} model, not {TASK_NOUNS[task]}{hint}")
