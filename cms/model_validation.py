"""Check each uploaded weights file once, off the web process: does it load, and as what.

A save with new weights sends ``tasks.control.validate_model`` after commit. The control
worker loads the file in a child process (``python -m inference.weights_probe``) with a
timeout and an environment without secrets, because loading a ``.pt`` unpickles it and
a pickle runs code. The row then records the model's task, class names and input size,
or that it is invalid and why; a display on an invalid or non-detection model is left
out of desired state with that reason (DetectionModel.unusable_reason).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import redis
from django.conf import settings
from django.db import transaction
from kombu.exceptions import OperationalError

from cms.farm.task_sender import VALIDATE_MODEL, sender
from cms.models import DetectionModel

log = logging.getLogger(__name__)

# What the child may see of the parent's environment: enough to run Python and ultralytics.
_CHILD_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV")
_CHILD_ENV_PREFIXES = ("YOLO_", "OMP_", "MKL_", "TORCH_")
_REPO = Path(__file__).resolve().parents[1]


def request_validation(model_id: int) -> None:
    """Send the model's check to the control worker (after the save committed)."""
    try:
        sender.send_task(VALIDATE_MODEL, args=[model_id])
    except (redis.RedisError, OperationalError, OSError) as exc:
        # The upload is stored; its model stays "pending" until checked again
        # (`manage.py validate_models`) or a worker loads it.
        log.warning("could not send the check of model %s: %s", model_id, exc)


def validate_model(model_id: int, *, timeout: float | None = None) -> str:
    """Load the model's weights in a child process and record what it is.

    Returns the validation state recorded ("" when the row or its file is gone, or it
    has no file: a hub model is read by the first worker that loads it).
    """
    model = DetectionModel.objects.filter(pk=model_id).first()
    if model is None or not model.weights:
        return ""
    try:
        path = Path(model.weights.path)
    except NotImplementedError:  # a storage without local paths: read by the workers
        return ""
    sha256 = model.sha256
    if timeout is None:
        timeout = settings.SIGHTLINE_MODEL_VALIDATION_TIMEOUT_S
    info = probe_in_child(path, timeout=timeout)
    values: dict[str, Any]
    if "error" in info:
        values = {
            "validation_state": DetectionModel.Validation.INVALID,
            "invalid_reason": str(info["error"])[:1000],
        }
    else:
        values = {
            "validation_state": DetectionModel.Validation.VALID,
            "invalid_reason": "",
            "task": str(info["task"])[:20],
            "class_names": info["class_names"],
            "input_size": info["input_size"],
        }
    # Only if the weights are still the ones checked (a new upload is checked anew).
    updated = DetectionModel.objects.filter(pk=model_id, sha256=sha256).update(**values)
    if updated != 1:
        return ""
    log.info("model %s: %s", model_id, values.get("invalid_reason") or values.get("task"))
    from cms.farm.reconcile import request_reconcile

    # A queryset update sends no post_save: desired state may have changed.
    transaction.on_commit(lambda: request_reconcile(f"model {model_id} checked"))
    return str(values["validation_state"])


def record_worker_read(model_id: int, class_names: Any, *, task: str) -> None:
    """Fill in what a worker's load of the weights showed, where nothing was read yet: the
    class names, the task it loaded them as (the loader refuses any other) and that they
    load. This is how a hub model, which no upload check reads, gets checked."""
    names = {str(k): v for k, v in dict(class_names).items()}
    row = (
        DetectionModel.objects.filter(pk=model_id)
        .only("class_names", "task", "validation_state")
        .first()
    )
    if row is None:
        return
    values: dict[str, Any] = {}
    if not row.class_names and names:
        values["class_names"] = names
    if not row.task:
        values["task"] = task
    if row.validation_state == DetectionModel.Validation.PENDING:
        values["validation_state"] = DetectionModel.Validation.VALID
    if not values:
        return
    # A queryset update sends no post_save. Class names and "it loads" are bookkeeping, but
    # the task decides whether the model can run as a display's model or secondary one.
    DetectionModel.objects.filter(pk=model_id).update(**values)
    if "task" in values:
        from cms.farm.reconcile import request_reconcile

        transaction.on_commit(lambda: request_reconcile(f"model {model_id} read as {task}"))


def probe_in_child(path: Path, *, timeout: float) -> dict[str, Any]:
    """What ``inference.weights_probe`` says about ``path``: its dict, or {"error": ...}."""
    command = [sys.executable, "-m", "inference.weights_probe", str(path)]
    try:
        done = subprocess.run(  # noqa: S603  (our interpreter, our module, a stored path)
            command,
            cwd=_REPO,
            env=_child_env(),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"loading the weights took more than {timeout:g} s"}
    lines = done.stdout.decode(errors="replace").strip().splitlines()
    try:
        info = json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        info = None
    if not isinstance(info, dict):
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        return {"error": f"the weights check exited with status {done.returncode}: {tail[0]}"}
    if "error" not in info and not isinstance(info.get("class_names"), dict):
        return {"error": "the weights check gave no class names"}
    return info


def _child_env() -> dict[str, str]:
    return {
        name: value
        for name, value in os.environ.items()
        if name in _CHILD_ENV or name.startswith(_CHILD_ENV_PREFIXES)
    }
