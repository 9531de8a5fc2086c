"""Choose the torch device a worker runs its models on.

CUDA is touched only when `select_device` is called, never at import: a worker process
forked from a parent that had initialised CUDA cannot use it, so the choice must happen
inside the worker after it started.
"""

from __future__ import annotations

import logging
import re

from inference.errors import InferenceError

logger = logging.getLogger(__name__)

_CUDA = re.compile(r"^cuda(?::(\d+))?$")


def select_device(preference: str | None = None) -> str:
    """Return "cuda:N" or "cpu" for a preference of None/"auto", "cpu", "cuda" or "cuda:N".

    "auto" takes the first GPU when there is one. An explicit CUDA preference on a machine
    without CUDA falls back to CPU with a warning (one setting serves CPU and GPU hosts);
    an index beyond the GPUs present is a configuration error and raises.
    """
    wanted = (preference or "auto").strip().lower()
    if wanted == "cpu":
        return "cpu"
    match = _CUDA.match(wanted)
    if wanted != "auto" and match is None:
        raise InferenceError(
            f"unknown device {preference!r}: use 'auto', 'cpu', 'cuda' or 'cuda:N'"
        )

    import torch

    if not torch.cuda.is_available():
        if wanted != "auto":
            logger.warning("device %r requested but CUDA is not available; using cpu", preference)
        return "cpu"
    index = int(match.group(1)) if match and match.group(1) else 0
    count = torch.cuda.device_count()
    if index >= count:
        raise InferenceError(
            f"device {preference!r} requested but only {count} CUDA device(s) exist"
        )
    return f"cuda:{index}"
