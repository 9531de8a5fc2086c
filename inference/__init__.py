"""Frames in, detections out: models shared by every stream of a worker process.

Knows nothing of Django or Celery. Importing this package is cheap and touches neither
CUDA nor ultralytics; both are loaded when a model is.
"""

from inference.batcher import BatcherStats, MicroBatcher, SplitPolicy
from inference.crops import Crop
from inference.device import select_device
from inference.entities import (
    DetectedObject,
    Detector,
    ModelInfo,
    ModelSource,
    PredictOptions,
)
from inference.errors import (
    BatcherClosedError,
    InferenceError,
    InferenceTimeoutError,
    ModelLoadError,
    WeightsFetchError,
)
from inference.fetch import LocalWeights, fetch_weights, sha256_of
from inference.store import ModelStore
from inference.ultralytics_backend import UltralyticsDetector
from inference.ultralytics_env import configure_ultralytics

__all__ = [
    "BatcherClosedError",
    "BatcherStats",
    "Crop",
    "DetectedObject",
    "Detector",
    "InferenceError",
    "InferenceTimeoutError",
    "LocalWeights",
    "MicroBatcher",
    "ModelInfo",
    "ModelLoadError",
    "ModelSource",
    "ModelStore",
    "PredictOptions",
    "SplitPolicy",
    "UltralyticsDetector",
    "WeightsFetchError",
    "configure_ultralytics",
    "fetch_weights",
    "select_device",
    "sha256_of",
]
