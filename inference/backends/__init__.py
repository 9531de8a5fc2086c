"""Faster backends for detection models: which a device has, exporting a `.pt` to them once
per host, the input shape to export at, and whether an export agrees with torch.

Importing this package imports no backend and no ultralytics; exports run in a child
process (`export_child`).
"""

from inference.backends.agreement import REQUIRED_AGREEMENT, agreement
from inference.backends.export import EXPORT_TIMEOUT_S, export_key, export_model, export_record
from inference.backends.formats import (
    BACKENDS,
    EXPORT_FORMATS,
    available_backends,
    backend_of_weights,
    check_backend,
    is_installed,
)
from inference.backends.openvino_precision import device_precision, has_amx
from inference.backends.shapes import letterbox_shape

__all__ = [
    "BACKENDS",
    "EXPORT_FORMATS",
    "EXPORT_TIMEOUT_S",
    "REQUIRED_AGREEMENT",
    "agreement",
    "available_backends",
    "backend_of_weights",
    "check_backend",
    "device_precision",
    "export_key",
    "export_model",
    "export_record",
    "has_amx",
    "is_installed",
    "letterbox_shape",
]
