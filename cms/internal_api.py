"""The web server's internal endpoints for ingest workers, which have no database.

``/internal/v1/...``, authenticated with ``Authorization: Worker <SIGHTLINE_WORKER_SECRET>``
(cms.worker_secret). Plain Django views, not DRF: they are not part of the public API or
its OpenAPI schema. Every answer is ``no-store``; a camera's source (its credentials) is
given only to the worker it is assigned to, at that generation, and is never logged.

- ``cameras/<id>/source?generation=<n>&worker=<name>``: 200 the stream source; 403 not a
  worker; 404 unknown camera; 409 not assigned to that worker at that generation
- ``cameras/<id>/assignment``: the current generation, worker and spec hash (the fencing
  record) for a worker whose Redis lost it; 404 when the camera has none
- ``models/<id>/source``: what loads the model, with a freshly signed weights path
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from cms.farm.reconcile import model_spec
from cms.models import Camera, DetectionModel, StreamAssignment
from cms.weights import signed_weights_url
from cms.worker_secret import is_worker

View = Callable[..., HttpResponse]


def _error(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


def worker_only(view: View) -> View:
    """GET only, never cached, 403 without the worker secret."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_worker(request.headers.get("Authorization", "")):
            return _error(403, "This endpoint is for Sightline ingest workers.")
        return view(request, *args, **kwargs)

    return never_cache(require_GET(wrapped))


@worker_only
def camera_source_view(request: HttpRequest, camera_id: int) -> HttpResponse:
    generation = request.GET.get("generation", "")
    worker = request.GET.get("worker", "")
    if not generation.isdigit() or not worker:
        return _error(400, "generation (an integer) and worker are required.")
    camera = Camera.objects.filter(pk=camera_id).first()
    if camera is None:
        return _error(404, "No such camera.")
    assigned = StreamAssignment.objects.filter(
        camera_id=camera_id, generation=int(generation), worker=worker
    ).exists()
    if not assigned:
        return _error(409, "This camera is not assigned to that worker at that generation.")
    return JsonResponse(
        {
            "url": camera.url,
            "username": camera.username,
            "password": camera.password,
            "fps": camera.fps,
            "snapshot_url": camera.snapshot_url,
            "snapshot_interval": camera.snapshot_interval,
        }
    )


@worker_only
def camera_assignment_view(request: HttpRequest, camera_id: int) -> HttpResponse:
    row = StreamAssignment.objects.filter(camera_id=camera_id).first()
    if row is None:
        return _error(404, "This camera has no assignment.")
    return JsonResponse(
        {"generation": row.generation, "worker": row.worker, "spec_hash": row.spec_hash}
    )


@worker_only
def model_source_view(request: HttpRequest, model_id: int) -> HttpResponse:
    model = DetectionModel.objects.filter(pk=model_id).first()
    if model is None:
        return _error(404, "No such model.")
    spec = model_spec(model)
    answer: dict[str, Any] = {
        "name": model.name,
        "version": model.version,
        "sha256": model.sha256,
        "hub_name": model.hub_name,
        "suffix": Path(model.weights.name).suffix if model.weights.name else "",
        # Relative: the worker fetches from the web server it asked (its SIGHTLINE_WEB_URL).
        "weights_url": signed_weights_url(model, base_url="") if model.weights.name else "",
        "confidence": spec.confidence,
        "iou": spec.iou,
        "imgsz": spec.imgsz,
        "classes": list(spec.classes) if spec.classes is not None else None,
        "backend": spec.backend,
    }
    return JsonResponse(answer)
