"""The Farm page's rows in words: what ``cluster_overview`` reports, with cameras, displays
and models by name (and links to their admin pages), each display's model errors on its
camera's stream row, and a row per display saying whether it is stale (cms.display_staleness).

Nothing here shows a camera's URL or password: cameras are named, errors arrive masked.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import redis
from django.conf import settings
from django.urls import reverse

from cms import live
from cms.api.services import (
    display_pending_reason,
    display_secondary_errors,
    parse_time,
    zones_fresh_s,
)
from cms.display_staleness import stale_reasons
from cms.farm import farm_keys
from cms.farm.heartbeats import is_secondary_error
from cms.farm_status import FarmState, status_of
from cms.models import Display, StreamAssignment


def camera_url(camera_id: int) -> str:
    return reverse("admin:cms_camera_change", args=[camera_id])


def display_url(display_id: int) -> str:
    return reverse("admin:cms_display_change", args=[display_id])


def name_streams(streams: list[dict[str, Any]]) -> None:
    """Adds to each stream row its camera's link and its displays: name, link, model and the
    model's load error (``error``) or its failing secondary models (``secondary_errors``)."""
    ids = [s["camera"] for s in streams]
    displays = _enabled_displays(Display.objects.filter(camera_id__in=ids))
    by_camera: dict[int, list[Display]] = {}
    for display in displays:
        by_camera.setdefault(display.camera_id, []).append(display)
    for stream in streams:
        if stream["camera_name"]:
            stream["camera_url"] = camera_url(stream["camera"])
        else:  # deleted while its task still reports
            stream["camera_name"] = f"camera {stream['camera']} (deleted)"
            stream["camera_url"] = None
        errors: dict[int, list[str]] = {}
        for reported in stream["display_errors"]:  # masked by cluster_overview
            errors.setdefault(reported["display"], []).append(reported["error"])
        watching = by_camera.get(stream["camera"], [])
        rows = [_stream_display(d.id, d, errors.pop(d.id, [])) for d in watching]
        # A display the worker still reports but that is gone or disabled now.
        rows += [_stream_display(i, None, found) for i, found in sorted(errors.items())]
        stream["displays"] = rows


def _stream_display(display_id: int, display: Display | None, errors: list[str]) -> dict[str, Any]:
    return {
        "id": display_id,
        "name": display.name if display else f"display {display_id} (gone or disabled)",
        "url": display_url(display_id) if display else None,
        "model_name": str(display.model) if display else None,
        "error": next((e for e in errors if not is_secondary_error(e)), None),
        "secondary_errors": [e for e in errors if is_secondary_error(e)],
    }


def name_pending(pending: list[dict[str, Any]]) -> None:
    """Adds links and model names to pending rows: a display's own model, or for a whole
    camera the models of its enabled displays."""
    cameras = {p["camera"] for p in pending}
    displays = _enabled_displays(Display.objects.filter(camera_id__in=cameras))
    own = {d.id: d for d in displays}
    models_of: dict[int, list[str]] = {}
    for display in displays:
        names = models_of.setdefault(display.camera_id, [])
        if str(display.model) not in names:
            names.append(str(display.model))
    for row in pending:
        row["camera_url"] = camera_url(row["camera"])
        shown = own.get(row["display"]) if row["display"] is not None else None
        row["display_url"] = display_url(row["display"]) if row["display"] is not None else None
        row["model_names"] = (
            [str(shown.model)] if shown is not None else models_of.get(row["camera"], [])
        )


def display_rows(client: redis.Redis, *, now: datetime) -> list[dict[str, Any]]:
    """Every enabled display: its camera and model by name, its client (last seen, showing),
    what its results are doing, and why it is stale (``stale``: [] when it is not).

    One query for the displays, one for their cameras' assignments, two Redis round trips.
    """
    displays = _enabled_displays(Display.objects.all())
    camera_ids = sorted({d.camera_id for d in displays})
    assignments = StreamAssignment.objects.in_bulk(camera_ids)
    streams = farm_keys.read_streams(client, camera_ids)
    latest = live.read_latest_many(client, [d.id for d in displays])
    return [
        _display_row(
            d, assignments.get(d.camera_id), streams.get(d.camera_id), latest.get(d.id), now=now
        )
        for d in displays
    ]


def _display_row(
    display: Display,
    assignment: StreamAssignment | None,
    stream: Any,
    latest: dict[str, Any] | None,
    *,
    now: datetime,
) -> dict[str, Any]:
    status = status_of(assignment, stream)
    pending = display_pending_reason(display, stream)
    running = status.state is FarmState.RUNNING
    newest = parse_time((latest or {}).get("frame_time"))
    stale = stale_reasons(
        client_online=display.client_online_at(now),
        client_last_seen=display.client_last_seen,
        results_expected=running and not pending,
        newest_result=newest,
        running_since=assignment.assigned_at if assignment is not None else None,
        no_results_after_s=max(settings.SIGHTLINE_DISPLAY_NO_RESULTS_S, zones_fresh_s(display)),
        now=now,
    )
    return {
        "id": display.id,
        "name": display.name,
        "url": display_url(display.id),
        "camera": display.camera_id,
        "camera_name": display.camera.name,
        "camera_url": camera_url(display.camera_id),
        "camera_state": status.state.value,
        "model_name": str(display.model),
        "client_last_seen": display.client_last_seen,
        "client_online": display.client_online_at(now),
        "showing": display.client_showing,
        "newest_result": newest,
        "pending_reason": pending or None,
        "secondary_errors": display_secondary_errors(display, stream),
        "stale": [{"kind": s.kind, "since": s.since, "text": s.text} for s in stale],
    }


def _enabled_displays(rows: Any) -> list[Display]:
    return list(rows.filter(enabled=True).select_related("camera", "model").order_by("name", "id"))


def farm_page_state(state: dict[str, Any], client: redis.Redis) -> dict[str, Any]:
    """``cluster_overview``'s answer with the Farm page's names, links and display rows."""
    name_streams(state["streams"])
    name_pending(state["pending"])
    state["displays"] = display_rows(client, now=datetime.now(UTC))
    return state
