"""A `Classifier` on ultralytics YOLO classification weights (.pt, ONNX, TorchScript).

Secondary models: each tracked object's crop (`classification_crop`) in, its top-1 label out.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from inference import torch_thread
from inference.backends.formats import backend_of_weights
from inference.entities import Classification, ModelInfo
from inference.errors import ModelLoadError
from inference.ultralytics_backend import (
    CLASSIFY_TASK,
    check_export_task,
    check_frame,
    export_fixed_imgsz,
    load_yolo,
)

logger = logging.getLogger(__name__)

DEFAULT_IMGSZ = 224
"""ultralytics' classification size, for weights that do not record theirs."""


class UltralyticsClassifier:
    """One loaded YOLO classification model on one device.

    Thread-safe: calls are serialised, because ultralytics keeps per-call state on the
    model. Feed it through a `MicroBatcher` to classify many objects' crops in one pass.
    """

    def __init__(
        self,
        weights: str | Path,
        *,
        name: str,
        version: str = "",
        sha256: str = "",
        device: str = "cpu",
        imgsz: int | None = None,
    ) -> None:
        """Load `weights`, check it is a classification model and warm it up once (on the
        CPU, on the process's torch thread, as every pass: `inference.torch_thread`).

        `imgsz` defaults to the size the model was trained at (its checkpoint's arguments;
        a static export's export size always wins). Raises ModelLoadError naming the model
        for missing, empty, corrupt or non-classification weights.
        """
        self._label = f"{name} {version}".strip()
        self._device = device
        self._half = device.startswith("cuda")
        self._lock = threading.Lock()
        self._yolo = torch_thread.run_for(
            device, load_yolo, Path(weights), label=self._label, task=CLASSIFY_TASK
        )
        size = imgsz or self._trained_imgsz() or DEFAULT_IMGSZ
        torch_thread.run_for(device, self._warm_up, size)
        self._imgsz = export_fixed_imgsz(self._yolo) or size
        self.info = ModelInfo(
            name=name,
            version=version,
            sha256=sha256,
            class_names=dict(self._yolo.names),
            device=device,
            imgsz=self._imgsz,
            backend=backend_of_weights(Path(weights)),
        )

    def classify(self, images: Sequence[np.ndarray]) -> list[Classification]:
        """Run one forward pass over `images` (BGR); the top-1 class of each, in order.

        ultralytics resizes each image's shorter side to `info.imgsz` and cuts the centre
        square: give square images (`classification_crop(size=info.imgsz)`) so nothing is cut.
        """
        if not images:
            return []
        for image in images:
            check_frame(image)
        with self._lock:
            return torch_thread.run_for(self._device, self._predict, list(images))

    def _predict(self, images: list[np.ndarray]) -> list[Classification]:
        results = self._yolo.predict(images, **self._predict_args(self._imgsz))
        return [self._top1(result) for result in results]

    def _predict_args(self, imgsz: int) -> dict[str, Any]:
        return {
            "imgsz": imgsz,
            "device": self._device,
            "quantize": 16 if self._half else None,
            "verbose": False,
        }

    def _top1(self, result: Any) -> Classification:
        class_id = int(result.probs.top1)
        label = self.info.class_names.get(class_id, str(class_id))
        return Classification(class_id, label, float(result.probs.top1conf))

    def _trained_imgsz(self) -> int | None:
        args = getattr(self._yolo.model, "args", None)
        size = args.get("imgsz") if isinstance(args, dict) else None
        if isinstance(size, (list, tuple)):
            size = max(size) if size else None
        return int(size) if isinstance(size, (int, float)) and size > 0 else None

    def _warm_up(self, imgsz: int) -> None:
        """Build ultralytics' predictor and run one pass, so the first real crop is not slow."""
        import torch

        threads = torch.get_num_threads()  # ultralytics changes it; it is the worker's setting
        try:
            blank = np.zeros((imgsz, imgsz, 3), np.uint8)
            self._yolo.predict([blank], **self._predict_args(imgsz))
        except Exception as exc:
            # A detector export fails here: say what it is, not "warm-up failed".
            check_export_task(self._yolo, label=self._label, task=CLASSIFY_TASK)
            raise ModelLoadError(
                f"model {self._label!r}: warm-up inference failed: {type(exc).__name__}: {exc}"
            ) from exc
        finally:
            torch.set_num_threads(threads)
        check_export_task(self._yolo, label=self._label, task=CLASSIFY_TASK)
