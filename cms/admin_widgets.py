"""Small pieces the admin renders: state badges, list filters, the detections chart."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib import admin
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncMinute
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from cms.farm_status import CameraStatus, FarmState, camera_statuses
from cms.models import Camera, Detection, StreamAssignment

# The states an operator can filter by (UNKNOWN is Redis not answering, not a state).
FARM_STATES = [state for state in FarmState if state is not FarmState.UNKNOWN]


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
        if self.value() not in FARM_STATES:
            return queryset
        # Candidates: cameras with an assignment row (the others are stopped).
        assigned = list(StreamAssignment.objects.values_list("camera_id", flat=True))
        statuses = camera_statuses(assigned)
        wanted = FarmState(self.value())
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


def snapshot_image(camera: Camera) -> SafeString:
    """The camera's newest frame with its displays' boxes and crops, refreshed by farm.js."""
    url = f"/api/v1/cameras/{camera.pk}/snapshot.jpg?boxes=1"
    return format_html(
        '<img class="farm-snapshot" data-refresh-src="{}" src="{}" alt="newest frame of {}">'
        '<p class="help" data-snapshot-status>The newest frame, refreshed every 2 s.</p>',
        url,
        url,
        camera.name,
    )


def detections_chart(display_id: int, *, hours: int = 3, now: datetime | None = None) -> SafeString:
    """An SVG bar chart of delivered detections per minute over the last ``hours``."""
    now = (now or timezone.now()).replace(second=0, microsecond=0)
    since = now - timedelta(hours=hours)
    counts = dict(
        Detection.objects.filter(display_id=display_id, created__gte=since)
        .annotate(minute=TruncMinute("created"))
        .values_list("minute")
        .annotate(n=Count("id"))
        .values_list("minute", "n")
    )
    minutes = hours * 60
    peak = max(counts.values(), default=0)
    width, height = 720, 120
    bar = width / minutes
    bars = []
    for index in range(minutes):
        minute = since + timedelta(minutes=index + 1)
        n = counts.get(minute, 0)
        if n:
            h = max(1.0, height * n / peak)
            bars.append(
                (
                    f"{index * bar:.1f}",
                    f"{height - h:.1f}",
                    f"{max(bar - 0.5, 0.5):.1f}",
                    f"{h:.1f}",
                    f"{minute:%H:%M}",
                    n,
                )
            )
    rects = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}"><title>{}: {}</title></rect>',
        bars,
    )
    return format_html(
        '<svg class="detections-chart" viewBox="0 0 {} {}" width="{}" height="{}" role="img" '
        'aria-label="detections per minute">{}</svg>'
        '<p class="help">Detections per minute, last {} hours (peak {}).</p>',
        width,
        height,
        width,
        height,
        rects,
        hours,
        peak,
    )
