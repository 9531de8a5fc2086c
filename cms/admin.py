"""The operators' admin for cameras, AI models, displays and detections."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import redis
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.forms.fields import InvalidJSONInput
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from cms import display_geometry, display_secondary, live, redis_connection, secondary_editor
from cms.admin_audience import display_audience_view
from cms.admin_widgets import (
    ClientOnlineFilter,
    DisplayFarmStateFilter,
    FarmStateFilter,
    badge,
    detected_objects_table,
    detection_frame_image,
    detection_frame_jpeg,
    detections_chart,
    geometry_editor,
    model_tryout_panel,
    seconds,
    snapshot_image,
    status_badge,
    zone_count_rows,
    zone_counts_panel,
    zone_history,
    zone_names,
)
from cms.api.serializers import MAX_BIGINT
from cms.api.services import (
    display_pending_reason,
    display_secondary_errors,
    rotate_display_token,
)
from cms.audience import display_settings as audience_settings
from cms.farm import farm_keys
from cms.farm.heartbeats import StreamInfo
from cms.farm.reconcile import restart_camera
from cms.farm_status import CameraStatus, FarmState, camera_statuses
from cms.model_console import (
    DetectionModelForm,
    audience_classes_field,
    model_warnings,
    secondary_users,
    with_use_counts,
)
from cms.model_tryout import TryoutError, try_model
from cms.models import Camera, Detection, DetectionModel, Display, ObjectEvent, ZoneMinute
from cms.session_admin import sessions_link  # also registers the display sessions' admin
from streams.redaction import redact_url

# Each row's CameraStatus is attached to the row object under this name (not a model field).
_FARM_STATUS = "farm_status"


class FarmStatusChangeList(ChangeList):
    """Loads the farm status of every camera on the page at once (one Redis round trip)."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        rows = list(self.result_list)
        camera_ids = [getattr(row, "camera_id", row.pk) for row in rows]
        statuses = camera_statuses(camera_ids)
        streams = _streams(camera_ids) if rows and isinstance(rows[0], Display) else {}
        for row, camera_id in zip(rows, camera_ids, strict=True):
            status = statuses[camera_id]
            if isinstance(row, Display):
                status = _display_status(row, status, streams)
            setattr(row, _FARM_STATUS, status)


def farm_status_of(obj: Camera | Display) -> CameraStatus:
    status: CameraStatus | None = getattr(obj, _FARM_STATUS, None)
    if status is None:  # a change page: one object
        camera_id = getattr(obj, "camera_id", obj.pk)
        status = camera_statuses([camera_id])[camera_id]
        if isinstance(obj, Display):
            status = _display_status(obj, status, _streams([camera_id]))
        setattr(obj, _FARM_STATUS, status)
    return status


def _display_status(
    display: Display, camera: CameraStatus, streams: dict[int, StreamInfo]
) -> CameraStatus:
    """The camera's status, or "pending" with why when the display itself cannot run; a
    running one with the errors of its failing secondary models."""
    stream = streams.get(display.camera_id)
    reason = display_pending_reason(display, stream)
    if reason:
        return CameraStatus(FarmState.PENDING, reason=reason)
    # The worker may report the same error as the camera's last error too: shown once.
    secondary = [e for e in display_secondary_errors(display, stream) if e != camera.reason]
    if secondary and camera.state is FarmState.RUNNING:
        return replace(camera, reason="; ".join([*filter(None, [camera.reason]), *secondary]))
    return camera


def _streams(camera_ids: list[int]) -> dict[int, StreamInfo]:
    try:
        return farm_keys.read_streams(redis_connection.client(), camera_ids)
    except redis.RedisError:
        return {}  # the camera statuses say "unknown" already


class CameraForm(forms.ModelForm):
    # Write-only: never rendered back into the page, blank keeps the stored one.
    password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Leave blank to keep the current password.",
    )
    clear_password = forms.BooleanField(required=False, help_text="Remove the stored password.")

    class Meta:
        model = Camera
        fields = [
            "name",
            "identifier",
            "url",
            "username",
            "password",
            "clear_password",
            "snapshot_url",
            "snapshot_interval",
            "fps",
            "enabled",
        ]

    def clean_password(self) -> str:
        password = self.cleaned_data.get("password", "")
        if password or self.data.get("clear_password"):
            return password
        return self.instance.password if self.instance.pk else ""


class GeometryJSONField(forms.JSONField):
    """Zones, lines or secondary models typed as JSON, checked by ``check`` (cms.display_geometry,
    cms.display_secondary).

    Empty means none (``[]``). Django's JSONField lets errors that are not JSONDecodeError
    through (too deep, a number too long) and re-serializes what it parsed when the page is
    shown again; here both are form errors, and input of the wrong shape is shown as typed.
    """

    def __init__(self, check: Callable[[object], list[str]], **kwargs: Any) -> None:
        self.check = check
        super().__init__(required=False, **kwargs)

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return []
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except RecursionError:
                raise forms.ValidationError("Not valid JSON: nested too deeply.") from None
            except ValueError as exc:
                raise forms.ValidationError(f"Not valid JSON: {str(exc)[:200]}") from None
        errors = self.check(value)
        if errors:
            raise forms.ValidationError(errors)
        return value

    def bound_data(self, data: Any, initial: Any) -> Any:
        if data is None or data == "":
            return []
        try:
            value = json.loads(data)
        except (ValueError, RecursionError, TypeError):
            return InvalidJSONInput(data)
        return value if not self.check(value) else InvalidJSONInput(data)

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return bool(super().has_changed(initial, data))
        except (forms.ValidationError, ValueError, RecursionError):
            return True


class DisplayForm(forms.ModelForm):
    zones = GeometryJSONField(
        display_geometry.validate_zones,
        help_text=Display._meta.get_field("zones").help_text,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
    )
    lines = GeometryJSONField(
        display_geometry.validate_lines,
        help_text=Display._meta.get_field("lines").help_text,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
    )

    secondary = GeometryJSONField(
        display_secondary.shape_errors,
        label="Secondary models",
        help_text=Display._meta.get_field("secondary").help_text,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
    )

    # Left empty (or left out of a posted form): the defaults, ["person"] in "view".
    audience_classes = forms.JSONField(
        required=False,
        help_text=Display._meta.get_field("audience_classes").help_text + " Empty: person.",
        widget=forms.TextInput(attrs={"size": 60}),
    )
    audience_zone = forms.CharField(
        required=False,
        max_length=audience_settings.ZONE_MAX_LENGTH,
        help_text=Display._meta.get_field("audience_zone").help_text + " Empty: view.",
    )

    class Meta:
        model = Display
        # The admin's fieldsets say which fields the page has; these are the ones declared here.
        fields = ["zones", "lines", "secondary", "audience_classes", "audience_zone"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "secondary" in self.fields:  # secondary_editor.js edits the JSON by name
            options = json.dumps(secondary_editor.editor_options(self.instance))
            self.fields["secondary"].widget.attrs["data-secondary-options"] = options
        if "audience_classes" in self.fields:  # by the names of the display's model's classes
            self.fields["audience_classes"] = audience_classes_field(
                self.instance, self.fields["audience_classes"]
            )

    def clean_audience_classes(self) -> Any:
        value = self.cleaned_data.get("audience_classes")
        return audience_settings.default_audience_classes() if value in (None, "", []) else value

    def clean_audience_zone(self) -> str:
        return self.cleaned_data.get("audience_zone") or audience_settings.DEFAULT_ZONE


@admin.register(Camera)
class CameraAdmin(admin.ModelAdmin):
    form = CameraForm
    list_display = [
        "name",
        "identifier",
        "masked_url",
        "fps",
        "display_count",
        "enabled",
        "status",
    ]
    list_filter = [FarmStateFilter, "enabled"]
    search_fields = ["name", "identifier", "url"]
    prepopulated_fields = {"identifier": ["name"]}
    readonly_fields = [
        "status",
        "live_view",
        "frame_size",
        "has_password",
        "created",
        "updated",
    ]
    actions = ["restart_streams"]

    class Media:
        css = {"all": ["cms/farm.css"]}
        js = ["cms/snapshot.js"]

    def get_changelist(self, request: HttpRequest, **kwargs: object) -> type[ChangeList]:
        return FarmStatusChangeList

    def get_fields(
        self, request: HttpRequest, obj: Camera | None = None
    ) -> list[str | list[str] | tuple[str, ...]]:
        fields = list(super().get_fields(request, obj))
        return fields if obj else [f for f in fields if f not in ("status", "live_view")]

    @admin.display(description="farm status")
    def status(self, camera: Camera) -> str:
        return status_badge(farm_status_of(camera)) if camera.pk else "-"

    @admin.display(description="newest frame")
    def live_view(self, camera: Camera) -> str:
        return snapshot_image(camera, farm_status_of(camera))

    @admin.action(description="Restart the stream (a fresh task, maybe on another worker)")
    def restart_streams(self, request: HttpRequest, queryset: QuerySet[Camera]) -> None:
        for camera in queryset:
            restart_camera(camera.pk)
        messages.success(request, f"Restarting {queryset.count()} camera(s).")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Camera]:
        return super().get_queryset(request).annotate(display_total=Count("displays"))

    @admin.display(description="stream URL", ordering="url")
    def masked_url(self, camera: Camera) -> str:
        return redact_url(camera.url)

    @admin.display(description="displays", ordering="display_total")
    def display_count(self, camera: Camera) -> int:
        return camera.display_total  # type: ignore[attr-defined]  # annotated by get_queryset(); the stubs see a plain Camera

    @admin.display(description="frame size")
    def frame_size(self, camera: Camera) -> str:
        if camera.frame_size is None:
            return "not known yet (set when the stream delivers frames)"
        return "{} x {} pixels".format(*camera.frame_size)

    @admin.display(description="password", boolean=True)
    def has_password(self, camera: Camera) -> bool:
        return bool(camera.password)


class ModelChangeList(ChangeList):
    """Finds which models on the page are secondary models of some display (one query)."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        rows = list(self.result_list)
        used = secondary_users([row.pk for row in rows])
        for row in rows:
            row.used_as_secondary = row.pk in used  # read by the warnings column


@admin.register(DetectionModel)
class DetectionModelAdmin(admin.ModelAdmin):
    form = DetectionModelForm
    list_display = [
        "name",
        "version",
        "source",
        "class_count",
        "task",
        "validation_state",
        "confidence",
        "iou",
        "imgsz",
        "backend",
        "notes",
        "enabled",
        "warnings",
    ]
    list_filter = ["enabled", "validation_state", "task"]
    search_fields = ["name", "version", "hub_name", "sha256", "notes"]
    readonly_fields = [
        "sha256",
        "task",
        "input_size",
        "validation_state",
        "invalid_reason",
        "class_names",
        "try_out",
        "created",
        "updated",
    ]

    class Media:
        css = {"all": ["cms/farm.css"]}
        js = ["cms/model_tryout.js"]

    def get_changelist(self, request: HttpRequest, **kwargs: object) -> type[ChangeList]:
        return ModelChangeList

    def get_queryset(self, request: HttpRequest) -> QuerySet[DetectionModel]:
        return with_use_counts(super().get_queryset(request))

    def get_fields(
        self, request: HttpRequest, obj: DetectionModel | None = None
    ) -> list[str | list[str] | tuple[str, ...]]:
        fields = list(super().get_fields(request, obj))
        return fields if obj else [f for f in fields if f != "try_out"]

    def get_urls(self) -> list:
        tryout = self.admin_site.admin_view(self.try_view)
        return [path("<int:pk>/try/", tryout, name="cms_detectionmodel_try"), *super().get_urls()]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if request.method == "GET":
            model = self.get_object(request, object_id)
            for warning in model_warnings(model) if model is not None else []:
                messages.warning(request, f"This model is {warning}.")
        return super().change_view(request, object_id, form_url, extra_context)

    def try_view(self, request: HttpRequest, pk: int) -> JsonResponse:
        """POST camera=<id>: the model run once on that camera's newest frame (JSON)."""
        model = get_object_or_404(DetectionModel, pk=pk)
        if not self.has_view_permission(request, model):
            raise PermissionDenied
        if request.method != "POST":
            return JsonResponse({"detail": "POST a camera id."}, status=405)
        raw = request.POST.get("camera", "")
        if not (raw.isdecimal() and raw.isascii() and int(raw) <= MAX_BIGINT):
            return JsonResponse({"detail": "Choose a camera."}, status=400)
        camera = Camera.objects.filter(pk=int(raw)).first()
        if camera is None:
            return JsonResponse({"detail": f"There is no camera {raw}."}, status=404)
        try:
            result = try_model(model, camera)
        except TryoutError as exc:
            return JsonResponse({"detail": exc.message}, status=exc.status)
        return JsonResponse({"camera": camera.name, **result.to_dict()})

    @admin.display(description="try on a camera")
    def try_out(self, model: DetectionModel) -> str:
        return model_tryout_panel(model)

    @admin.display(description="warnings")
    def warnings(self, model: DetectionModel) -> str:
        found = model_warnings(model, used_as_secondary=getattr(model, "used_as_secondary", None))
        if not found:
            return "-"
        return format_html_join(
            " ",
            '<span class="badge badge-warning" title="{}">{}</span>',
            ((w, w.split(":", 1)[0]) for w in found),
        )

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple[Any, ...]:
        """Displays that use a model as a secondary model protect it (DetectionModel.delete)."""
        to_delete, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        users = Display.using_as_secondary([obj.pk for obj in objs])
        protected = [*protected, *(f"Display: {d} (secondary model)" for d in users)]
        return to_delete, counts, perms_needed, protected

    @admin.display(description="weights")
    def source(self, model: DetectionModel) -> str:
        if model.weights:
            return f"file {model.sha256[:12]}"
        return f"ultralytics {model.hub_name}"

    @admin.display(description="classes")
    def class_count(self, model: DetectionModel) -> int:
        return len(model.class_names or {})


@admin.register(Display)
class DisplayAdmin(admin.ModelAdmin):
    form = DisplayForm
    list_display = [
        "name",
        "identifier",
        "camera",
        "model",
        "crop_box",
        "policy",
        "enabled",
        "status",
        "client",
    ]
    list_filter = [
        DisplayFarmStateFilter,
        ClientOnlineFilter,
        "enabled",
        "policy",
        "camera",
        "model",
    ]
    list_select_related = ["camera", "model"]
    search_fields = ["name", "identifier", "camera__name", "model__name"]
    prepopulated_fields = {"identifier": ["name"]}
    readonly_fields = [
        "status",
        "drawing",
        "live_counts",
        "zone_chart",
        "latest_detections",
        "activity",
        "audience_page",
        "client",
        "client_last_seen",
        "client_version",
        "client_showing",
        "sessions",
        "created",
        "updated",
    ]
    actions = ["rotate_tokens"]
    fieldsets = [
        (None, {"fields": ["name", "identifier", "camera", "model", "enabled", "status"]}),
        ("Draw on the newest frame", {"fields": ["drawing"]}),
        (
            "Crop (source pixels; leave empty for the whole picture)",
            {"fields": [("crop_x1", "crop_y1", "crop_x2", "crop_y2")]},
        ),
        ("Events", {"fields": ["policy", "policy_interval_ms"]}),
        (
            "Objects (zones and lines in source pixels)",
            {"fields": ["tracking", ("min_seen_s", "max_lost_s"), "zones", "lines"]},
        ),
        ("Secondary models (classify each tracked object)", {"fields": ["secondary"]}),
        (
            "Detections",
            {"fields": ["live_counts", "zone_chart", "latest_detections", "activity"]},
        ),
        ("Audience", {"fields": ["audience_classes", "audience_zone", "audience_page"]}),
        (
            "Client",
            {
                "fields": [
                    "client",
                    "client_last_seen",
                    "client_version",
                    "client_showing",
                    "sessions",
                    "created",
                    "updated",
                ]
            },
        ),
    ]

    @admin.display(description="sessions")
    def sessions(self, display: Display) -> str:
        return sessions_link(display)

    def get_changelist(self, request: HttpRequest, **kwargs: object) -> type[ChangeList]:
        return FarmStatusChangeList

    class Media:
        css = {"all": ["cms/farm.css"]}
        js = ["cms/geometry_editor.js", "cms/zone_counts.js", "cms/secondary_editor.js"]

    def get_urls(self) -> list:
        zones = self.admin_site.admin_view(self.zone_counts_view)
        audience = self.admin_site.admin_view(
            lambda request, pk: display_audience_view(request, pk, self)
        )
        return [
            path("<int:pk>/zones/", zones, name="cms_display_zones"),
            path("<int:pk>/audience/", audience, name="cms_display_audience"),
            *super().get_urls(),
        ]

    def zone_counts_view(self, request: HttpRequest, pk: int) -> JsonResponse:
        """Objects per zone now, as ``GET /api/v1/display/zones/`` answers (cms.zone_counts)."""
        display = get_object_or_404(Display, pk=pk)
        if not self.has_view_permission(request, display):
            raise PermissionDenied
        try:
            rows = zone_count_rows(display)
        except redis.RedisError:
            return JsonResponse({"detail": "Redis is not answering."}, status=503)
        return JsonResponse(rows, safe=False)  # admin_view already marks it never_cache

    def get_fieldsets(self, request: HttpRequest, obj: Display | None = None) -> list[Any]:
        fieldsets = list(super().get_fieldsets(request, obj))
        if not obj:
            return [f for f in fieldsets if f[0] != "Detections"]
        if not obj.tracking:  # no tracker, no zone counts over time (ZoneMinute stays empty)
            return [
                (name, {**options, "fields": [f for f in options["fields"] if f != "zone_chart"]})
                for name, options in fieldsets
            ]
        return fieldsets

    @admin.display(description="camera status")
    def status(self, display: Display) -> str:
        return status_badge(farm_status_of(display)) if display.pk else "-"

    @admin.display(description="frame")
    def drawing(self, display: Display) -> str:
        return geometry_editor(display)

    @admin.display(description="objects per zone now")
    def live_counts(self, display: Display) -> str:
        try:
            return zone_counts_panel(display) if display.pk else "-"
        except redis.RedisError:
            return "Redis is not answering."

    @admin.display(description="objects per zone over time")
    def zone_chart(self, display: Display) -> str:
        return zone_history(display.pk, zone_names(display)) if display.pk else "-"

    @admin.display(description="latest")
    def latest_detections(self, display: Display) -> str:
        latest = live.read_latest(redis_connection.client(), display.pk) if display.pk else None
        if not latest:
            return "nothing delivered yet"
        objects = latest.get("objects") or []
        found = ", ".join(f"{o['class_name']} {o['confidence']:.2f}" for o in objects[:20])
        return f"{latest['frame_time']}: {len(objects)} object(s) {found}".strip()

    @admin.display(description="per minute")
    def activity(self, display: Display) -> str:
        return detections_chart(display.pk) if display.pk else "-"

    @admin.display(description="audience per content")
    def audience_page(self, display: Display) -> str:
        if not display.pk:
            return "-"
        url = reverse("admin:cms_display_audience", args=[display.pk])
        return format_html('<a href="{}">Audience: plays, impressions and dwell</a>', url)

    @admin.display(description="client", ordering="client_last_seen")
    def client(self, display: Display) -> str:
        if display.client_last_seen is None:
            return badge("never", "never seen")
        state = "online" if display.client_online else "offline"
        return badge(state, f"last seen {display.client_last_seen:%Y-%m-%d %H:%M:%S}")

    @admin.display(description="crop")
    def crop_box(self, display: Display) -> str:
        return "whole picture" if display.crop is None else "{}, {} - {}, {}".format(*display.crop)

    def save_model(
        self, request: HttpRequest, obj: Display, form: forms.Form, change: bool
    ) -> None:
        token = None if change else obj.rotate_token()
        super().save_model(request, obj, form, change)
        if token:
            self._show_token_once(request, obj, token)

    @admin.action(description="Rotate client token (revokes the old one)")
    def rotate_tokens(self, request: HttpRequest, queryset: QuerySet[Display]) -> None:
        for display in queryset:
            self._show_token_once(request, display, rotate_display_token(display))

    def _show_token_once(self, request: HttpRequest, display: Display, token: str) -> None:
        messages.warning(
            request,
            format_html(
                "Client token for {}: <code>{}</code> — copy it now, it is not shown again.",
                display.name,
                token,
            ),
        )


@admin.register(Detection)
class DetectionAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "display",
        "camera",
        "model",
        "generation",
        "frame_seq",
        "frame_time_s",
        "object_count",
    ]
    list_filter = ["display", "camera", "model"]
    list_select_related = ["display", "camera", "model"]
    date_hierarchy = "frame_time"
    # Newest first: hundreds arrive a minute. The id follows arrival and is indexed.
    ordering = ["-id"]
    search_fields = ["display__name", "display__identifier", "key"]
    show_full_result_count = False  # counting millions of rows on every page is slow
    # The idempotency key is the results path's business, not an operator's.
    fields = [
        "display",
        "camera",
        "model",
        "generation",
        "frame_seq",
        "frame_time_s",
        "received",
        "objects_table",
        "frame_view",
    ]
    readonly_fields = ["frame_time_s", "received", "objects_table", "frame_view"]

    class Media:
        css = {"all": ["cms/farm.css"]}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Detection | None = None) -> bool:
        return False

    def get_urls(self) -> list:
        frame = self.admin_site.admin_view(self.frame_jpeg_view)
        return [
            path("<int:pk>/frame.jpg", frame, name="cms_detection_frame"),
            *super().get_urls(),
        ]

    @admin.display(description="frame time", ordering="frame_time")
    def frame_time_s(self, detection: Detection) -> str:
        return seconds(detection.frame_time)

    @admin.display(description="received")
    def received(self, detection: Detection) -> str:
        return seconds(detection.created)

    @admin.display(description="objects")
    def objects_table(self, detection: Detection) -> str:
        return detected_objects_table(detection.detected_objects or [])

    @admin.display(description="frame")
    def frame_view(self, detection: Detection) -> str:
        return detection_frame_image(detection)

    def frame_jpeg_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        detection = get_object_or_404(Detection.objects.select_related("camera"), pk=pk)
        if not self.has_view_permission(request, detection):
            raise PermissionDenied
        return HttpResponse(
            detection_frame_jpeg(detection),
            content_type="image/jpeg",
            headers={"Cache-Control": "no-store"},
        )


@admin.register(ObjectEvent)
class ObjectEventAdmin(admin.ModelAdmin):
    """Enter, leave and cross events: read only, as delivered by the results path."""

    list_display = [
        "id",
        "display",
        "type",
        "where",
        "track_id",
        "class_name",
        "time_s",
        "dwell_s",
    ]
    list_filter = ["display", "type", "zone", "line"]
    list_select_related = ["display"]
    date_hierarchy = "time"
    ordering = ["-id"]  # newest first, like detections
    search_fields = ["class_name"]  # and a track id: get_search_results
    search_help_text = "A track id, or a class name."
    show_full_result_count = False
    fields = [
        "display",
        "camera",
        "generation",
        "type",
        "track_id",
        "class_id",
        "class_name",
        "time_s",
        "box",
        "zone",
        "dwell_s",
        "line",
        "direction",
        "received",
    ]
    readonly_fields = ["time_s", "received"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ObjectEvent | None = None) -> bool:
        return False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        """A number is a track id (exactly); anything else searches the class names."""
        term = search_term.strip()
        if term.isdecimal() and term.isascii() and int(term) <= MAX_BIGINT:
            return queryset.filter(track_id=int(term)), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="zone / line")
    def where(self, event: ObjectEvent) -> str:
        return event.zone or f"{event.line} ({event.direction})"

    @admin.display(description="time", ordering="time")
    def time_s(self, event: ObjectEvent) -> str:
        return seconds(event.time)

    @admin.display(description="received")
    def received(self, event: ObjectEvent) -> str:
        return seconds(event.created)


@admin.register(ZoneMinute)
class ZoneMinuteAdmin(admin.ModelAdmin):
    """Per-minute counts per zone: read only, as the results path adds them up."""

    list_display = [
        "minute_s",
        "display",
        "zone",
        "max_count",
        "entered",
        "left",
        "dwell_mean_s",
        "dwell_max_s",
    ]
    list_filter = ["display", "zone"]
    list_select_related = ["display"]
    date_hierarchy = "minute"
    ordering = ["-minute", "zone"]
    show_full_result_count = False  # a row per display, zone and minute adds up
    readonly_fields = ["minute_s"]
    fields = [
        "display",
        "zone",
        "minute_s",
        "max_count",
        "entered",
        "left",
        "dwell_sum_s",
        "dwell_max_s",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ZoneMinute | None = None) -> bool:
        return False

    @admin.display(description="minute", ordering="minute")
    def minute_s(self, row: ZoneMinute) -> str:
        return f"{timezone.localtime(row.minute):%Y-%m-%d %H:%M}"

    @admin.display(description="mean dwell (s)")
    def dwell_mean_s(self, row: ZoneMinute) -> str:
        return f"{row.dwell_sum_s / row.left:.1f}" if row.left else "-"
