"""The inference exception hierarchy: one base, one class per thing a caller handles differently."""

from __future__ import annotations


class InferenceError(Exception):
    """Base class of every error raised by `inference`."""


class ModelLoadError(InferenceError):
    """Weights could not be turned into a detector (empty, corrupt, not a detection model)."""


class WeightsFetchError(InferenceError):
    """Weights could not be obtained (HTTP error, timeout, sha256 mismatch, missing file)."""


class BatcherClosedError(InferenceError):
    """The micro-batcher was closed before (or while) the frame was inferred."""


class InferenceTimeoutError(InferenceError, TimeoutError):
    """A frame's results did not arrive within the caller's timeout."""


class ExportError(InferenceError):
    """A model could not be exported to a faster backend; the caller keeps running it on torch.

    `backend` is the backend that was asked for and `reason` what went wrong, both also in
    the message.
    """

    def __init__(self, backend: str, reason: str) -> None:
        super().__init__(f"{backend} export failed: {reason}")
        self.backend = backend
        self.reason = reason
