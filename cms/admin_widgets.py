"""Small pieces the admin renders: state badges, list filters, the detections chart, the
drawing board for zones and lines, the live zone counts."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import cv2
import numpy as np
import redis
from django.conf import settings
from django.contrib import admin
from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncMinute
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from cms import live, redis_connection
from cms.api.drawing import draw_detections
from cms.count_chart import Series, minute_bar_chart, minute_chart
from cms.display_geometry import NAME_MAX_LENGTH, RESERVED_ZONE
from cms.farm import farm_keys
from cms.farm_status import CameraStatus, FarmState, camera_statuses
from cms.models import (
    DETECTION_TASK,
    Camera,
    Detection,
    DetectionModel,
    Display,
    StreamAssignment,
    ZoneMinute,
)
from cms.zone_counts import zone_counts

BLANK_FRAME_MAX = 4096  # pixels: a malformed box must not make a huge picture
HIDDEN = mark_safe(" hidden")
# The states an operator can filter by (UNKNOWN is Redis not answering, not a state).
FARM_STATES = [state for state in FarmState if state is not FarmState.UNKNOWN]
SNAPSHOT_URL = "/api/v1/cameras/{camera}/snapshot.jpg"
HOW_TO_DRAW = (
    "Draw zone: click the corners, then click the first point, double-click or press "
    'Finish zone. Draw line: drag from its start to its end ("in" is from its left to its '
    "right). Draw crop: drag a box. Select: click a shape, then rename it in Name or delete "
    "it. The fields below follow the drawing and redraw it when typed in; coordinates are "
    "the frame's own pixels."
)


def badge(state: str, text: str) -> SafeString:
    return format_html('<span class="badge badge-{}" title="{}">{}</span>', state, text, state)


def status_badge(status: CameraStatus) -> SafeString:
    return format_html("{} {}", badge(status.state, str(status)), str(status))


class FarmStateFilter(admin.SimpleListFilter):
    """Cameras (or displays, by their camera) in a given farm state."""

    title = "farm state"
    parameter_name = "farm_state"
    camera_field = "id"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(state.value, state.value) for state in FARM_STATES]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value not in FARM_STATES:
            return queryset
        # Candidates: cameras with an assignment row (the others are stopped).
        assigned = list(StreamAssignment.objects.values_list("camera_id", flat=True))
        statuses = camera_statuses(assigned)
        wanted = FarmState(value)
        matching = [c for c, s in statuses.items() if s.state is wanted]
        if wanted is FarmState.STOPPED:
            running = [c for c, s in statuses.items() if s.state is not FarmState.STOPPED]
            return queryset.exclude(**{f"{self.camera_field}__in": running})
        return queryset.filter(**{f"{self.camera_field}__in": matching})


class DisplayFarmStateFilter(FarmStateFilter):
    title = "camera state"
    camera_field = "camera_id"


class ClientOnlineFilter(admin.SimpleListFilter):
    title = "client"
    parameter_name = "client"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("online", "online"), ("offline", "offline"), ("never", "never seen")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        cutoff = timezone.now() - timedelta(seconds=settings.SIGHTLINE_DISPLAY_CLIENT_TIMEOUT_S)
        if self.value() == "online":
            return queryset.filter(client_last_seen__gte=cutoff)
        if self.value() == "offline":
            return queryset.filter(client_last_seen__lt=cutoff)
        if self.value() == "never":
            return queryset.filter(client_last_seen__isnull=True)
        return queryset


def snapshot_image(camera: Camera, status: CameraStatus) -> SafeString:
    """The camera's newest frame with its displays' boxes and crops, refreshed by snapshot.js.

    Without a frame (the camera does not run, or not yet) a placeholder says why instead of
    a broken image; snapshot.js swaps the two as frames come and go.
    """
    url = f"/api/v1/cameras/{camera.pk}/snapshot.jpg?boxes=1"
    has_frame = _current_frame(camera.pk) is not None
    why = "the camera is disabled" if not camera.enabled else str(status)
    return format_html(
        '<div class="farm-live">'
        '<img class="farm-snapshot" data-refresh-src="{}"{} alt="newest frame of {}">'
        '<div class="farm-placeholder" data-snapshot-placeholder{}>No frame: {}</div>'
        '<p class="help" data-snapshot-status>{}</p></div>',
        url,
        format_html(' src="{}"', url) if has_frame else HIDDEN,
        camera.name,
        HIDDEN if has_frame else "",
        why,
        "The newest frame, refreshed every 2 s." if has_frame else "Checked every 2 s.",
    )


def seconds(moment: datetime | None) -> str:
    """A time in the site's time zone, to the second (Django's default stops at minutes)."""
    return "-" if moment is None else f"{timezone.localtime(moment):%Y-%m-%d %H:%M:%S}"


def detected_objects_table(objects: list[dict[str, Any]]) -> SafeString:
    """A detection's objects as a table: class, confidence, box in full-frame pixels."""
    if not objects:
        return format_html("{}", "no objects")
    rows = format_html_join(
        "",
        '<tr><td>{}</td><td>{}</td><td class="num">{}</td><td>{}</td></tr>',
        (
            (
                o.get("class_name", ""),
                o.get("class_id", ""),
                _confidence(o.get("confidence")),
                ", ".join(f"{v:.0f}" for v in o.get("box") or []),
            )
            for o in objects
        ),
    )
    return format_html(
        '<table class="detection-objects"><thead><tr><th>class</th><th>id</th>'
        "<th>confidence</th><th>box (x1, y1, x2, y2)</th></tr></thead><tbody>{}</tbody></table>",
        rows,
    )


def _confidence(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, int | float) else "-"


def detection_frame_image(detection: Detection) -> SafeString:
    """The detection's boxes on a picture, with a caption that says which picture it is.

    Frames are not stored, and the camera's snapshot in Redis is only its newest frame
    (it does not say which one), so the boxes go on that current frame while the camera
    runs, or on a blank frame, and the caption says so.
    """
    url = reverse("admin:cms_detection_frame", args=[detection.pk])
    if _current_frame(detection.camera_id) is not None:
        caption = (
            "This detection's boxes drawn on the camera's current frame, not on the frame "
            "they were found in: frames are not stored, so the scene may have changed."
        )
    else:
        caption = (
            "This detection's boxes on a blank frame: frames are not stored and the camera "
            "has no current frame."
        )
    return format_html(
        '<img class="farm-snapshot detection-frame" src="{}" alt="boxes of detection {}">'
        '<p class="help">{}</p>',
        url,
        detection.pk,
        caption,
    )


def detection_frame_jpeg(detection: Detection) -> bytes:
    """The JPEG that detection_frame_image shows."""
    objects = detection.detected_objects or []
    frame = _current_frame(detection.camera_id)
    return draw_detections(frame if frame is not None else _blank_frame(objects), objects)


def _current_frame(camera_id: int) -> bytes | None:
    try:
        return farm_keys.read_snapshot(redis_connection.client(), camera_id)
    except redis.RedisError:
        return None


def _blank_frame(objects: list[dict[str, Any]]) -> bytes:
    """A grey JPEG at least 640x480 and large enough for every box."""
    width, height = 640, 480
    for obj in objects:
        box = obj.get("box") or []
        if len(box) == 4 and all(isinstance(v, int | float) for v in box):
            width = max(width, min(int(max(box[0], box[2])) + 1, BLANK_FRAME_MAX))
            height = max(height, min(int(max(box[1], box[3])) + 1, BLANK_FRAME_MAX))
    image = np.full((height, width, 3), 200, dtype=np.uint8)
    return cv2.imencode(".jpg", image)[1].tobytes()


def detections_chart(display_id: int, *, hours: int = 3, now: datetime | None = None) -> SafeString:
    """Delivered detections per minute over the last ``hours``, as an SVG bar chart with axes."""
    now = now or timezone.now()
    since = now.replace(second=0, microsecond=0) - timedelta(minutes=hours * 60 - 1)
    counts = dict(
        Detection.objects.filter(display_id=display_id, created__gte=since)
        .annotate(minute=TruncMinute("created"))
        .values_list("minute")
        .annotate(n=Count("id"))
        .values_list("minute", "n")
    )
    return minute_bar_chart(
        counts,
        end=now,
        minutes=hours * 60,
        title=f"Detections delivered per minute, last {hours} hours",
        unit="detections",
        zone=timezone.get_current_timezone(),
    )


def zone_history(
    display_id: int, zone_names: list[str], *, hours: int = 3, now: datetime | None = None
) -> SafeString:
    """Objects per zone over the last ``hours`` (ZoneMinute's most at once in each minute, 0
    for a minute without a row) as a line chart, one line per zone, with each zone's enters
    and leaves over the same hours in a small table under it.

    Zones: ``view``, then ``zone_names`` in order, then zones only the rows name (renamed or
    removed since), sorted.
    """
    now = now or timezone.now()
    since = now.replace(second=0, microsecond=0) - timedelta(minutes=hours * 60 - 1)
    rows = ZoneMinute.objects.filter(display_id=display_id, minute__gte=since)
    counts: dict[str, dict[datetime, int]] = {RESERVED_ZONE: {}}
    for name in zone_names:
        counts.setdefault(name, {})
    others: dict[str, dict[datetime, int]] = {}
    for zone, minute, max_count in rows.values_list("zone", "minute", "max_count"):
        (counts[zone] if zone in counts else others.setdefault(zone, {}))[minute] = max_count
    counts.update(sorted(others.items()))
    chart = minute_chart(
        [Series(zone, by_minute) for zone, by_minute in counts.items()],
        end=now,
        minutes=hours * 60,
        title=f"Objects per zone (most at once in each minute), last {hours} hours",
        unit="objects",
        zone=timezone.get_current_timezone(),
        kind="lines",  # 180 minutes of several zones: bars side by side would be slivers
        totals=False,  # a sum of "most at once" counts nothing
        count_label="objects at once",
    )
    moves = {
        zone: (entered or 0, left or 0)
        for zone, entered, left in rows.order_by()  # group by zone alone
        .values_list("zone")
        .annotate(entered=Sum("entered"), left=Sum("left"))
        .values_list("zone", "entered", "left")
    }
    table = format_html_join(
        "",
        '<tr><td>{}</td><td class="num">{}</td><td class="num">{}</td></tr>',
        ((zone, *moves.get(zone, (0, 0))) for zone in counts),
    )
    return format_html(
        '<div class="zone-history">{}<table class="zone-moves"><caption>Enters and leaves, '
        'last {} hours</caption><thead><tr><th>zone</th><th class="num">entered</th>'
        '<th class="num">left</th></tr></thead><tbody>{}</tbody></table></div>',
        chart,
        hours,
        table,
    )


def geometry_editor(display: Display) -> SafeString:
    """The drawing board (cms/static/cms/geometry_editor.js): the camera's newest frame with
    the display's crop, zones and lines on it, drawn with the mouse into the form's fields.

    The snapshot URL holds ``{camera}``: the script fills in the camera the form has chosen.
    The stored geometry rides along for pages without editable fields (view permission only).
    """
    camera_id = display.camera_id or ""
    has_frame = bool(camera_id) and _current_frame(int(camera_id)) is not None
    if not camera_id:
        why = "Choose a camera to see its newest frame."
    elif has_frame:
        why = "Loading the newest frame..."
    else:
        why = "No frame yet: the camera is not streaming. The fields below still work."
    geometry = json.dumps({"zones": display.zones, "lines": display.lines, "crop": display.crop})
    buttons = format_html_join(
        "",
        '<button type="button" class="button" data-mode="{}" aria-pressed="false">{}</button>',
        [
            ("select", "Select"),
            ("zone", "Draw zone"),
            ("line", "Draw line"),
            ("crop", "Draw crop"),
        ],
    )
    return format_html(
        '<div class="geometry-editor" data-geometry-editor data-snapshot-url="{}" '
        'data-camera="{}" data-geometry="{}">'
        '<div class="geometry-toolbar" role="toolbar" aria-label="drawing tools">{}'
        '<label>Name <input type="text" data-geometry-name maxlength="{}" '
        'placeholder="lane" autocomplete="off"></label>'
        '<button type="button" class="button" data-geometry-finish>Finish zone</button>'
        '<button type="button" class="button" data-geometry-delete>Delete selected</button>'
        "</div>"
        '<div class="geometry-stage" data-geometry-stage hidden>'
        '<img class="geometry-frame" data-geometry-frame alt="newest frame of the camera">'
        '<svg class="geometry-overlay" data-geometry-overlay '
        'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="none"></svg></div>'
        '<div class="farm-placeholder geometry-placeholder" data-geometry-placeholder>{}</div>'
        '<p class="help" data-geometry-status>{}</p></div>',
        SNAPSHOT_URL,
        camera_id,
        geometry,
        buttons,
        NAME_MAX_LENGTH,
        why,
        HOW_TO_DRAW,
    )


def zone_counts_panel(display: Display) -> SafeString:
    """Objects per zone in the display's newest result, refreshed by zone_counts.js."""
    url = reverse("admin:cms_display_zones", args=[display.pk])
    rows = zone_count_rows(display)
    return format_html(
        '<div class="zone-counts" data-zone-counts-url="{}">'
        '<table><thead><tr><th>zone</th><th class="num">objects</th><th>by class</th></tr>'
        "</thead><tbody>{}</tbody></table>"
        '<p class="help" data-zone-counts-status>From the newest result, refreshed every 2 s.'
        "</p></div>",
        url,
        format_html_join(
            "",
            '<tr><td>{}</td><td class="num">{}</td><td>{}</td></tr>',
            (
                (
                    row["zone"],
                    row["count"],
                    ", ".join(f"{k} {v}" for k, v in row["by_class"].items()) or "-",
                )
                for row in rows
            ),
        ),
    )


def zone_count_rows(display: Display) -> list[dict[str, Any]]:
    """zone_counts of the display's newest result in Redis (raises redis.RedisError)."""
    latest = live.read_latest(redis_connection.client(), display.pk) or {}
    return zone_counts(latest.get("objects") or [], zone_names(display))


def zone_names(display: Display) -> list[str]:
    """The names of the display's drawn zones, in order (``view`` is implicit, not among them)."""
    zones = display.zones if isinstance(display.zones, list) else []
    return [z["name"] for z in zones if isinstance(z, dict) and isinstance(z.get("name"), str)]


def model_tryout_panel(model: DetectionModel) -> SafeString:
    """'Try on a camera': a camera select and a button; cms/model_tryout.js posts to the
    model's try URL and shows the frame with the boxes and the raw detections."""
    if model.task and model.task != DETECTION_TASK:
        return format_html("Only detection models can be tried on a camera.")
    cameras = Camera.objects.filter(enabled=True).order_by("name").only("id", "name")
    if not cameras:
        return format_html("No enabled camera to try the model on.")
    options = format_html_join(
        "", '<option value="{}">{}</option>', ((c.pk, c.name) for c in cameras)
    )
    return format_html(
        '<div class="model-tryout" data-tryout-url="{}">'
        '<select data-tryout-camera aria-label="camera">{}</select> '
        '<button type="button" class="button" data-tryout-run>Run once on its newest frame'
        "</button>"
        '<p class="help" data-tryout-status>Runs on an ingest worker (within {} s); '
        "nothing is saved and no display is created.</p>"
        "<div data-tryout-result></div></div>",
        reverse("admin:cms_detectionmodel_try", args=[model.pk]),
        options,
        f"{settings.SIGHTLINE_TRYOUT_TIMEOUT_S:g}",
    )
