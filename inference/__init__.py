"""Frames in, detections out (and objects' crops in, classifications out): models shared by
every stream of a worker process.

Knows nothing of Django or Celery. Importing this package is cheap and touches neither
CUDA nor ultralytics; both are loaded when a model is.
"""

from inference.batcher import BatcherStats, MicroBatcher, SplitPolicy
from inference.crops import Crop, classification_crop
from inference.device import select_device
from inference.entities import (
    MODEL_TASKS,
    Classification,
    Classifier,
    DetectedObject,
    Detector,
    ModelInfo,
    ModelSource,
    PredictOptions,
)
from inference.errors import (
    BatcherClosedError,
    ExportError,
    InferenceError,
    InferenceTimeoutError,
    ModelLoadError,
    WeightsFetchError,
)
from inference.fetch import LocalWeights, fetch_weights, sha256_of
from inference.store import Model, ModelStore
from inference.ultralytics_backend import UltralyticsDetector
from inference.ultralytics_classifier import UltralyticsClassifier
from inference.ultralytics_env import configure_ultralytics

__all__ = [
    "MODEL_TASKS",
    "BatcherClosedError",
    "BatcherStats",
    "Classification",
    "Classifier",
    "Crop",
    "DetectedObject",
    "Detector",
    "ExportError",
    "InferenceError",
    "InferenceTimeoutError",
    "LocalWeights",
    "MicroBatcher",
    "Model",
    "ModelInfo",
    "ModelLoadError",
    "ModelSource",
    "ModelStore",
    "PredictOptions",
    "SplitPolicy",
    "UltralyticsClassifier",
    "UltralyticsDetector",
    "WeightsFetchError",
    "classification_crop",
    "configure_ultralytics",
    "fetch_weights",
    "select_device",
    "sha256_of",
]
