"""Admin pages that are not a model's: the farm dashboard, its actions, the dead letters, the
live wall; and the site's home page, which links them."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from typing import Any

import redis
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from cms import farm_rows, live_wall, redis_connection
from cms.api.services import cluster_overview
from cms.farm import farm_keys
from cms.farm.reconcile import request_reconcile, restart_camera
from cms.farm_health import series
from cms.farm_health.service import health_series
from cms.models import Camera, DetectionModel
from cms.results import results_stream


def home_view(request: HttpRequest) -> HttpResponse:
    """The site root ("View site"): links to the admin, the API docs and Flower."""
    # Flower listens beside the web server in development (`make run`); in production it
    # is published on the loopback of its host only (docs/deploy.md), so no link.
    host = request.get_host()
    host = host if host.endswith("]") else host.rsplit(":", 1)[0]
    context = {
        **admin.site.each_context(request),
        "title": "Sightline",
        "flower_url": f"http://{host}:{settings.FLOWER_PORT}/" if settings.DEBUG else "",
        "flower_port": settings.FLOWER_PORT,
    }
    return TemplateResponse(request, "sightline/home.html", context)


def dead_letters_view(request: HttpRequest) -> HttpResponse:
    """List dead-lettered results with their errors; replay or discard the selected ones."""
    if not request.user.has_perm("cms.view_detection"):
        raise PermissionDenied
    client = redis_connection.client()
    if request.method == "POST":
        if not request.user.has_perm("cms.add_detection"):
            raise PermissionDenied
        ids = request.POST.getlist("ids")
        if request.POST.get("action") == "replay":
            count = results_stream.replay_dead_letters(client, ids)
            messages.success(request, f"Replayed {count} dead letters onto the results stream.")
        elif request.POST.get("action") == "discard" and ids:
            client.xdel(results_stream.dead_letter_stream(), *ids)
            messages.success(request, f"Discarded {len(ids)} dead letters.")
        return redirect("admin-dead-letters")
    context = {
        **admin.site.each_context(request),
        "title": "Dead letters",
        "letters": results_stream.dead_letters(client),
        "total": client.xlen(results_stream.dead_letter_stream()),
        "can_replay": request.user.has_perm("cms.add_detection"),
        "max_deliveries": settings.SIGHTLINE_RESULTS_MAX_DELIVERIES,
    }
    return TemplateResponse(request, "admin/cms/dead_letters.html", context)


def _require(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


def farm_dashboard_view(request: HttpRequest) -> HttpResponse:
    """The farm at a glance; the page refreshes itself from farm_state_view."""
    _require(request, "cms.view_camera")
    context = {
        **admin.site.each_context(request),
        "title": "Farm",
        "can_act": request.user.has_perm("cms.change_camera"),
    }
    return TemplateResponse(request, "admin/cms/farm.html", context)


def farm_state_view(request: HttpRequest) -> JsonResponse:
    """Workers, streams, pending work, displays, the last reconcile and the dead letters:
    everything by name (cms.farm_rows)."""
    _require(request, "cms.view_camera")
    client = redis_connection.client()
    try:
        state = farm_rows.farm_page_state(cluster_overview(client), client)
        state["dead_letters"] = client.xlen(results_stream.dead_letter_stream())
    except redis.RedisError as exc:
        return JsonResponse({"error": f"Redis unreachable: {exc}"}, status=503)
    labels = model_labels(key for worker in state["workers"] for key in worker["models"])
    for worker in state["workers"]:
        worker["model_labels"] = [labels[key] for key in worker["models"]]
        worker["backend_labels"] = [
            backend_label(b, labels.get(b["model"], b["model"])) for b in worker["backends"]
        ]
    return JsonResponse(state)


def backend_label(backend: dict[str, Any], model_label: str) -> str:
    """One model's backend for people: "yolo 1: openvino bf16 (auto: fastest ...; torch
    40.1 ms, openvino bf16 14.2 ms (11.7 at 4))": each candidate's ms per frame at one frame
    per call, and in brackets with 4 frames per call."""
    batched = backend.get("batched") or {}
    timed = ", ".join(
        f"{name} {ms:g} ms" + (f" ({batched[name]:g} at 4)" if name in batched else "")
        for name, ms in backend["candidates"].items()
    )
    detail = "; ".join(filter(None, [backend["reason"], timed]))
    chosen = backend.get("variant") or backend["backend"]
    return f"{model_label}: {chosen}" + (f" ({detail})" if detail else "")


def model_labels(keys: Iterable[str]) -> dict[str, str]:
    """A worker's loaded models (``<id>:<sha256>`` keys) as "name version" for people."""
    keys = set(keys)
    ids = {key: _model_id(key) for key in keys}
    models = DetectionModel.objects.in_bulk([i for i in ids.values() if i is not None])
    labels = {}
    for key, model_id in ids.items():
        model = models.get(model_id) if model_id is not None else None
        if model is None:
            labels[key] = f"model {key.split(':', 1)[0]} (deleted)"
        elif key != f"{model.pk}:{model.sha256}":
            labels[key] = f"{model} (earlier weights)"
        else:
            labels[key] = str(model)
    return labels


def _model_id(key: str) -> int | None:
    head = key.split(":", 1)[0]
    return int(head) if head.isdigit() else None


@require_POST
def reconcile_now_view(request: HttpRequest) -> HttpResponse:
    _require(request, "cms.change_camera")
    request_reconcile(f"requested by {request.user.get_username()} in the admin")
    messages.success(request, "Reconcile requested.")
    return redirect("admin-farm")


@require_POST
def restart_camera_view(request: HttpRequest, camera_id: int) -> HttpResponse:
    _require(request, "cms.change_camera")
    camera = get_object_or_404(Camera, pk=camera_id)
    restart_camera(camera.pk)
    messages.success(request, f"Restarting {camera.name}.")
    return redirect(request.POST.get("next") or "admin-farm")


def farm_health_view(request: HttpRequest) -> HttpResponse:
    """Charts of the farm over the last hour or day; the page loads them from the series view."""
    _require(request, "cms.view_camera")
    range_name = request.GET.get("range", series.HOUR.name)
    context = {
        **admin.site.each_context(request),
        "title": "Farm health",
        "range": range_name if range_name in series.RANGES else series.HOUR.name,
        "ranges": [(r.name, f"last {r.name}") for r in series.RANGES.values()],
    }
    return TemplateResponse(request, "admin/cms/farm_health.html", context)


def farm_health_series_view(request: HttpRequest) -> JsonResponse:
    """The charts of ``?range=hour`` (10 s points) or ``day`` (5 min points)."""
    _require(request, "cms.view_camera")
    range_ = series.RANGES.get(request.GET.get("range", series.HOUR.name))
    if range_ is None:
        return JsonResponse({"error": "range must be one of: hour, day"}, status=400)
    try:
        return JsonResponse(health_series(redis_connection.client(), range_))
    except redis.RedisError as exc:
        return JsonResponse({"error": f"Redis unreachable: {exc}"}, status=503)


def live_wall_view(request: HttpRequest) -> HttpResponse:
    """A tile per camera that should run: its newest frame, boxes, zones, counts and state."""
    _require(request, "cms.view_camera")
    wall = live_wall.WallFilter.from_query(request.GET)
    context = {
        **admin.site.each_context(request),
        "title": "Live wall",
        "wall": wall,
        "choices": live_wall.filter_choices(),
        "query": request.GET.urlencode(),
        "refresh_ms": live_wall.REFRESH_MS,
    }
    return TemplateResponse(request, "admin/cms/live_wall.html", context)


def live_wall_state_view(request: HttpRequest) -> JsonResponse:
    """Every tile's metadata for the wall's filters (the page polls it)."""
    _require(request, "cms.view_camera")
    wall = live_wall.WallFilter.from_query(request.GET)
    return JsonResponse({"cameras": live_wall.wall_tiles(wall, now=time.time())})


def live_frame_view(request: HttpRequest, camera_id: int) -> HttpResponse:
    """A camera's newest snapshot as Redis holds it; 304 when the browser has that one already.

    404 while there is none (the wall shows its placeholder): never a broken image or a 500.
    """
    _require(request, "cms.view_camera")
    try:
        jpeg = farm_keys.read_snapshot(redis_connection.client(), camera_id)
    except redis.RedisError as exc:
        raise Http404(f"Redis unreachable: {exc}") from exc
    if jpeg is None:
        raise Http404("No frame of this camera in Redis.")
    # no-cache: the browser may keep the frame but asks each time (If-None-Match) whether
    # it is still the newest; an unchanged one costs a 304 without its bytes.
    return jpeg_response(request, jpeg, cache_control="private, no-cache")


def jpeg_response(request: HttpRequest, jpeg: bytes, *, cache_control: str) -> HttpResponse:
    """The JPEG with an ETag of its bytes: 304 without them when the browser has it."""
    etag = '"' + hashlib.blake2b(jpeg, digest_size=12).hexdigest() + '"'
    headers = {"ETag": etag, "Cache-Control": cache_control}
    if etag in request.headers.get("If-None-Match", ""):
        return HttpResponse(status=304, headers=headers)
    return HttpResponse(jpeg, content_type="image/jpeg", headers=headers)
