"""Input and output of the API.

Operator serializers validate through the model's ``full_clean()``, so the API and the
admin share one set of rules (cms.models, cms.validators). Output never carries a
camera password or a display token: camera URLs are masked, passwords write-only, and
a token appears only in the response that issued it.
"""

from __future__ import annotations

from typing import Any, ClassVar, cast
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from cms import live
from cms.api.errors import model_errors
from cms.api.fields import (
    SchemaExtra,
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictDateTimeField,
    StrictFloatField,
    StrictIntegerField,
    StrictPrimaryKeyRelatedField,
    StrictSlugField,
    WeightsField,
)
from cms.api.geometry_fields import LinesField, SecondsField, ZonesField
from cms.api.secondary_fields import SecondaryField
from cms.audience import display_settings as audience_settings
from cms.models import (
    LINES_HELP,
    MAX_LOST_S_MAX,
    MIN_SEEN_S_MAX,
    SECONDARY_HELP,
    ZONES_HELP,
    Camera,
    Detection,
    DetectionModel,
    Display,
    ObjectEvent,
)
from cms.validators import IMGSZ_STEP, camera_url_pattern, snapshot_url_pattern
from inference.backend_choice import BACKEND_NAMES
from streams.redaction import redact_url

CROP_FIELDS = ("crop_x1", "crop_y1", "crop_x2", "crop_y2")
# PositiveIntegerField's range on every supported database.
MAX_INT = 2_147_483_647
MAX_BIGINT = 9_223_372_036_854_775_807


class CleanedModelSerializer(serializers.ModelSerializer):
    """Validates by applying the input to the instance and calling the model's ``full_clean()``.

    ``clean()`` may change values (a camera URL's credentials move to their fields), so
    the cleaned instance is what gets saved. Model ValidationErrors become 400s with
    field messages, model field names mapped to API names by ``api_field_names``.
    """

    # Input exactly as the schema states it (cms.api.fields): no coercion between types.
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.SlugField: StrictSlugField,
        models.TextField: StrictCharField,
        models.IntegerField: StrictIntegerField,
        models.PositiveIntegerField: StrictIntegerField,
        models.BigIntegerField: StrictIntegerField,
        models.FloatField: StrictFloatField,
        models.BooleanField: StrictBooleanField,
    }
    serializer_related_field = StrictPrimaryKeyRelatedField
    api_field_names: ClassVar[dict[str, str]] = {}

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for field in fields.values():
            if isinstance(field, serializers.BooleanField):
                # DRF reads a boolean left out of form data as False (an unticked HTML
                # checkbox). Here, left out means left out in every content type: a
                # create takes the model's default, an update keeps the stored value.
                field.default_empty_html = empty
        return fields

    def model_values(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Validated API input as model attributes."""
        return dict(attrs)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        model: type[Any] = self.Meta.model  # any model: this serializer is a base class
        instance = self.instance if self.instance is not None else model()
        for name, value in self.model_values(attrs).items():
            setattr(instance, name, value)
        try:
            instance.full_clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(model_errors(exc, self.api_field_names)) from None
        self._cleaned = instance
        return attrs

    def create(self, validated_data: dict[str, Any]) -> Any:
        self._cleaned.save()
        return self._cleaned

    def update(self, instance: Any, validated_data: dict[str, Any]) -> Any:
        self._cleaned.save()
        return self._cleaned


# --- operators: cameras, models, displays ------------------------------------------------


class CameraSerializer(CleanedModelSerializer):
    """A camera. The password is write-only; URLs are returned with any password masked."""

    password = StrictCharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=200,
        style={"input_type": "password"},
        help_text="Write-only. Omit to keep the stored password; an empty string removes it.",
    )
    has_password = serializers.SerializerMethodField(help_text="Whether a password is stored.")

    class Meta:
        model = Camera
        fields = [
            "id",
            "name",
            "identifier",
            "url",
            "username",
            "password",
            "has_password",
            "snapshot_url",
            "snapshot_interval",
            "fps",
            "enabled",
            "frame_width",
            "frame_height",
            "created",
            "updated",
        ]
        extra_kwargs = {
            "frame_width": {"help_text": "Width of the frames the stream last delivered."},
            "frame_height": {"help_text": "Height of the frames the stream last delivered."},
            "url": {
                "help_text": "rtsp://, rtsps://, http:// or https://, in ASCII (an absolute "
                "file path too where SIGHTLINE_ALLOW_FILE_SOURCES is on). Returned with any "
                "password masked; credentials given in the URL move to username/password. "
                "The pattern cannot state the allowed and denied camera networks "
                "(SIGHTLINE_CAMERA_ALLOWED_NETWORKS / _DENIED_NETWORKS): a URL whose host is "
                "outside them is a 400."
            },
            "snapshot_url": {
                "help_text": "Optional JPEG snapshot URL (http:// or https://), returned masked."
            },
        }

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        # What Camera.clean() checks, stated in the schema (cms.validators; the allowed and
        # denied camera networks are the part no pattern can state).
        allow_files = settings.SIGHTLINE_ALLOW_FILE_SOURCES
        url, snapshot_url = (
            cast(SchemaExtra, fields["url"]),
            cast(SchemaExtra, fields["snapshot_url"]),
        )
        url.schema_extra = {"pattern": camera_url_pattern(allow_files=allow_files)}
        snapshot_url.schema_extra = {"pattern": snapshot_url_pattern()}
        return fields

    def validate_url(self, value: str) -> str:
        return parseable_url(value)

    def validate_snapshot_url(self, value: str) -> str:
        return parseable_url(value)

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_has_password(self, camera: Camera) -> bool:
        return bool(camera.password)

    def to_representation(self, camera: Camera) -> dict[str, Any]:
        data = super().to_representation(camera)
        data["url"] = redact_url(camera.url)
        data["snapshot_url"] = redact_url(camera.snapshot_url)
        return data

    def model_values(self, attrs: dict[str, Any]) -> dict[str, Any]:
        values = dict(attrs)
        if self.instance is not None:
            # A client that sends back the masked URL it read means "unchanged".
            for field in ("url", "snapshot_url"):
                stored = getattr(self.instance, field)
                sent = values.get(field)
                if sent is not None and sent != stored and sent == redact_url(stored):
                    values[field] = stored
        return values


def parseable_url(value: str) -> str:
    """Refuse what urlsplit cannot take apart (Camera.clean() would raise ValueError on it)."""
    try:
        urlsplit(value).port  # noqa: B018  (parsing the port is the check)
    except ValueError as exc:
        raise serializers.ValidationError(f"Not a valid URL: {exc}.") from None
    return value


# (0, 1]: what cms.validators.validate_unit_interval checks (OpenAPI 3.0 spelling).
UNIT_INTERVAL = {"minimum": 0, "exclusiveMinimum": True, "maximum": 1}


class DetectionModelSerializer(CleanedModelSerializer):
    """An AI model: an uploaded weights file or an ultralytics model name, and its settings."""

    weights = WeightsField(
        use_url=False,
        required=False,
        allow_empty_file=False,
        response_extra={"nullable": True},
        help_text="A YOLO weights file (.pt, .onnx, .torchscript), uploaded as "
        "multipart/form-data. Returned as the stored file name. Exactly one of weights "
        "and hub_name: uploading weights replaces a hub_name.",
    )
    classes = serializers.ListField(
        child=StrictIntegerField(min_value=0, max_value=MAX_INT),
        allow_null=True,
        required=False,
        max_length=10_000,
        help_text="Class ids to keep, e.g. [0, 2]; null or [] keeps all.",
    )
    class_names = serializers.DictField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Class id (as a string) -> name, read from the weights when they were "
        "checked or by the first worker that loads them.",
    )

    class Meta:
        model = DetectionModel
        fields = [
            "id",
            "name",
            "version",
            "weights",
            "hub_name",
            "sha256",
            "class_names",
            "task",
            "input_size",
            "validation_state",
            "invalid_reason",
            "confidence",
            "iou",
            "imgsz",
            "classes",
            "backend",
            "notes",
            "enabled",
            "created",
            "updated",
        ]
        read_only_fields = ["sha256"]
        extra_kwargs: ClassVar[dict[str, dict[str, Any]]] = {
            "task": {
                "help_text": "What the weights are for (detect, classify, ...), read when "
                "they were checked; empty until then. Only detect models run displays."
            },
            "input_size": {"help_text": "The image size the model was made for, if known."},
            "validation_state": {
                "help_text": "pending: uploaded weights not checked yet (a hub model is "
                "read by the first worker that loads it); valid: they load; invalid: they "
                "do not (invalid_reason says why) and no display runs on them."
            },
            "invalid_reason": {"help_text": "Why the weights do not load."},
            "hub_name": {
                "help_text": "Instead of a file: a name such as yolo11n.pt that ultralytics "
                "downloads where the internet is reachable (not a path). Exactly one of "
                "weights and hub_name: giving a hub_name replaces uploaded weights.",
                "schema_extra": {"pattern": r"^[^/\u0000]+$"},
            },
            "confidence": {"schema_extra": UNIT_INTERVAL},
            "iou": {"schema_extra": UNIT_INTERVAL},
            "imgsz": {"schema_extra": {"multipleOf": IMGSZ_STEP}},
            "backend": {
                "help_text": "The inference backend workers run this model on: empty for "
                "the worker's SIGHTLINE_INFERENCE_BACKEND (auto by default), else torch, "
                "openvino, onnxruntime or tensorrt (torch where that one fails; "
                "docs/backends.md). What each worker chose is in /api/v1/cluster/."
            },
        }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Exactly one source. On an update, the source given replaces the stored one."""
        hub_name, weights = attrs.get("hub_name"), attrs.get("weights")
        if hub_name and weights:
            raise serializers.ValidationError(
                {"hub_name": ["Give either a weights file or a hub_name, not both."]}
            )
        if "hub_name" in attrs and not hub_name and not weights:
            # Stated without state: the stored row does not decide whether this is valid.
            raise serializers.ValidationError(
                {"hub_name": ["An empty hub_name goes only with an uploaded weights file."]}
            )
        if self.instance is not None:
            if hub_name:
                attrs["weights"] = ""
            elif weights:
                attrs["hub_name"] = ""
        return super().validate(attrs)


class DisplaySerializer(CleanedModelSerializer):
    """A display: a camera watched through a model, optionally cropped, and its client."""

    crop = serializers.ListField(
        child=StrictIntegerField(min_value=0, max_value=MAX_INT),
        min_length=4,
        max_length=4,
        allow_null=True,
        required=False,
        help_text="[x1, y1, x2, y2] in source pixels with x1 < x2 and y1 < y2 (a rule the "
        "schema cannot state: else a 400 naming crop), or null for the whole picture.",
    )
    zones = ZonesField(required=False, help_text=ZONES_HELP)
    lines = LinesField(required=False, help_text=LINES_HELP)
    min_seen_s = SecondsField(
        max_value=MIN_SEEN_S_MAX,
        required=False,
        help_text="Seconds an object is seen before it enters a zone (default 0.5).",
    )
    max_lost_s = SecondsField(
        max_value=MAX_LOST_S_MAX,
        required=False,
        help_text="Seconds an object is gone before it leaves (default 2.0).",
    )
    audience_classes = serializers.ListField(
        child=StrictCharField(min_length=1, max_length=audience_settings.CLASS_NAME_MAX_LENGTH),
        min_length=1,
        max_length=audience_settings.MAX_CLASSES,
        required=False,
        help_text='Class names counted as audience (default ["person"]); see '
        "/api/v1/displays/{id}/audience/.",
    )
    audience_zone = StrictCharField(
        max_length=audience_settings.ZONE_MAX_LENGTH,
        required=False,
        help_text='The zone the audience is counted in (default "view"): "view" or one of '
        "the display's zones (else a 400 naming audience_zone).",
    )
    secondary = SecondaryField(required=False, help_text=SECONDARY_HELP)
    client_online = serializers.SerializerMethodField(
        help_text="Whether the display's client sent a heartbeat recently."
    )
    api_field_names = dict.fromkeys(CROP_FIELDS, "crop")

    class Meta:
        model = Display
        fields = [
            "id",
            "name",
            "identifier",
            "camera",
            "model",
            "crop",
            "policy",
            "policy_interval_ms",
            "tracking",
            "zones",
            "lines",
            "min_seen_s",
            "max_lost_s",
            "audience_classes",
            "audience_zone",
            "secondary",
            "enabled",
            "client_online",
            "client_last_seen",
            "client_version",
            "client_showing",
            "created",
            "updated",
        ]

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_client_online(self, display: Display) -> bool:
        return client_online(display)

    def model_values(self, attrs: dict[str, Any]) -> dict[str, Any]:
        values = dict(attrs)
        if "crop" in values:
            box = values.pop("crop") or (None, None, None, None)
            values.update(zip(CROP_FIELDS, box, strict=True))
        return values

    def create(self, validated_data: dict[str, Any]) -> Display:
        display = self._cleaned
        # Shown once, in the response to this request; only its hash is stored.
        display.issued_token = display.rotate_token()
        display.save()
        return display


class DisplayCreatedSerializer(DisplaySerializer):
    """A display just created, with its client token (shown only here)."""

    token = serializers.CharField(
        source="issued_token",
        read_only=True,
        help_text="The display client's token. Shown only in this response: store it now.",
    )

    class Meta(DisplaySerializer.Meta):
        fields = [*DisplaySerializer.Meta.fields, "token"]


class DisplayTokenSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    token = serializers.CharField(
        read_only=True,
        help_text="The new token; the old one stops working now. Shown only in this response.",
    )


def client_online(display: Display, now: Any = None) -> bool:
    """A display's client is online when its last heartbeat is recent enough."""
    return display.client_online_at(now or timezone.now())


# --- display clients ----------------------------------------------------------------------


class ClassificationSerializer(serializers.Serializer):
    """inference.entities.Classification.to_dict: one secondary model's latest answer."""

    # DRF's metaclass takes declared fields off the class, so this never shadows Field.label.
    label = serializers.CharField()  # type: ignore[assignment]
    confidence = serializers.FloatField()


def attributes_field(help_text: str) -> serializers.DictField:
    return serializers.DictField(
        child=ClassificationSerializer(), required=False, help_text=help_text
    )


def session_id_field(what: str) -> serializers.CharField:
    return serializers.CharField(
        required=False,
        help_text=f"The display session {what} was in (POST /api/v1/display/session/); "
        "absent outside a session.",
    )


class DetectedObjectSerializer(serializers.Serializer):
    """inference.entities.DetectedObject, for the schema (a test holds the fields equal)."""

    class_id = serializers.IntegerField()
    class_name = serializers.CharField()
    confidence = serializers.FloatField()
    box = serializers.ListField(
        child=serializers.FloatField(),
        min_length=4,
        max_length=4,
        help_text="[x1, y1, x2, y2] in pixels of the camera's full frame.",
    )
    # A tracked object's (the display tracks objects): absent otherwise.
    track_id = serializers.IntegerField(
        required=False, help_text="The object's id, unique for the camera and never reused."
    )
    first_seen = serializers.DateTimeField(
        required=False, help_text="When the object was first seen."
    )
    zones = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="The names of the display's zones the object is in now.",
    )
    attributes = attributes_field(
        "By secondary model name, its latest answer for this object (the display runs "
        "secondary models and the object was classified)."
    )


class DisplayConfigSerializer(serializers.ModelSerializer):
    camera_name = serializers.CharField(source="camera.name")
    model_name = serializers.CharField(source="model.name")
    model_version = serializers.CharField(source="model.version")
    class_names = serializers.DictField(
        source="model.class_names",
        child=serializers.CharField(),
        help_text="Class id (as a string) -> name; empty until a worker has read the weights.",
    )
    crop = serializers.ListField(
        child=serializers.IntegerField(),
        allow_null=True,
        help_text="[x1, y1, x2, y2] in source pixels, or null for the whole picture.",
    )
    zones = ZonesField(read_only=True, help_text=ZONES_HELP)
    lines = LinesField(read_only=True, help_text=LINES_HELP)

    class Meta:
        model = Display
        fields = [
            "id",
            "name",
            "identifier",
            "enabled",
            "camera_name",
            "model_name",
            "model_version",
            "class_names",
            "crop",
            "policy",
            "policy_interval_ms",
            "tracking",
            "zones",
            "lines",
            "min_seen_s",
            "max_lost_s",
            "updated",
        ]
        read_only_fields = fields


class DisplayStateSerializer(serializers.Serializer):
    objects = DetectedObjectSerializer(many=True)
    zones = ZonesField(
        read_only=True, help_text="The display's zones (as configured), in source pixels."
    )
    lines = LinesField(
        read_only=True, help_text="The display's lines (as configured), in source pixels."
    )
    frame_time = serializers.DateTimeField(allow_null=True)
    frame_seq = serializers.IntegerField(allow_null=True)
    age_s = serializers.FloatField(
        allow_null=True, help_text="Seconds since the frame was taken (null: no result yet)."
    )
    generation = serializers.IntegerField(allow_null=True)
    detection_id = serializers.IntegerField(allow_null=True)
    running = serializers.BooleanField(
        help_text="Whether this display gets live results: its camera's stream delivers "
        "frames and nothing keeps the display out (its model not a detection model, or "
        "failing to load: not_running_reason says why; stream_state is the camera's)."
    )
    stream_state = serializers.CharField(
        help_text="connecting, online, recovering, failed, or stopped when no task runs it."
    )
    not_running_reason = serializers.CharField(
        allow_null=True,
        help_text="Why the display gets no live results (null while it does): it, its camera "
        "or its model is disabled, its model failed to load, or its camera is pending or "
        "its stream is not online.",
    )
    session_id = session_id_field("the newest result")


class DetectionSerializer(serializers.ModelSerializer):
    """A delivered event. The fields describe it for the schema; it is rendered by
    ``live.delivered_events``, like the live push and the SSE replay."""

    objects = DetectedObjectSerializer(many=True, source="detected_objects")
    session_id = session_id_field("the result")

    class Meta:
        model = Detection
        fields = ["id", "frame_seq", "frame_time", "generation", "objects", "session_id"]
        read_only_fields = fields

    def to_representation(self, instance: Detection) -> dict[str, Any]:
        return live.delivered_events([instance])[0]


class DetectionPageSerializer(serializers.Serializer):
    results = DetectionSerializer(many=True)
    next = serializers.CharField(
        allow_null=True, help_text="URL of the next page; null when there is nothing newer yet."
    )


class DetectionQuerySerializer(serializers.Serializer):
    after = StrictIntegerField(
        required=False,
        min_value=0,
        max_value=MAX_BIGINT,
        help_text="Cursor: only detections with an id greater than this, oldest first. "
        "Without it, the newest `limit` detections.",
    )
    limit = StrictIntegerField(required=False, min_value=1, max_value=1000, default=100)


class ObjectEventSerializer(serializers.ModelSerializer):
    """A delivered object event. The fields describe it for the schema; it is rendered by
    ``live.delivered_object_events``, like its live push and SSE replay (``event: object``)."""

    zone = serializers.CharField(required=False, help_text="enter and leave: the zone.")
    dwell_s = serializers.FloatField(
        required=False, help_text="leave: seconds the object was in the zone."
    )
    line = serializers.CharField(required=False, help_text="cross: the line.")
    direction = serializers.ChoiceField(
        choices=ObjectEvent.Direction.choices,
        required=False,
        help_text="cross: in = from the left of the line's direction to its right.",
    )
    box = serializers.ListField(
        child=serializers.FloatField(),
        min_length=4,
        max_length=4,
        help_text="[x1, y1, x2, y2] in pixels of the camera's full frame, at the event.",
    )
    attributes = attributes_field(
        "By secondary model name, the object's latest answer at the event (absent: none)."
    )
    session_id = session_id_field("the event")

    class Meta:
        model = ObjectEvent
        fields = [
            "id",
            "type",
            "track_id",
            "class_id",
            "class_name",
            "time",
            "box",
            "zone",
            "dwell_s",
            "line",
            "direction",
            "attributes",
            "session_id",
        ]
        read_only_fields = fields

    def to_representation(self, instance: ObjectEvent) -> dict[str, Any]:
        return live.delivered_object_events([instance])[0]


class ObjectEventPageSerializer(serializers.Serializer):
    results = ObjectEventSerializer(many=True)
    next = serializers.CharField(
        allow_null=True, help_text="URL of the next page; null when there is nothing newer yet."
    )


class ObjectEventQuerySerializer(serializers.Serializer):
    after = StrictIntegerField(
        required=False,
        min_value=0,
        max_value=MAX_BIGINT,
        help_text="Cursor: only events with an id greater than this, oldest first. "
        "Without it, the newest `limit` events. Ids are in one sequence with detection ids.",
    )
    limit = StrictIntegerField(required=False, min_value=1, max_value=1000, default=100)
    type = StrictChoiceField(
        choices=ObjectEvent.Type.choices, required=False, help_text="Only events of this type."
    )


class HeartbeatSerializer(serializers.Serializer):
    version = StrictCharField(
        required=False, allow_blank=True, max_length=100, help_text="The client's version."
    )
    showing = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="What the client shows now (a content item's name; empty: nothing). Each "
        "change is recorded as a play: send a heartbeat as soon as it changes.",
    )


class HeartbeatResponseSerializer(serializers.Serializer):
    client_last_seen = serializers.DateTimeField()
    display_updated = serializers.DateTimeField(
        help_text="When the display's configuration last changed: refetch it when this moves."
    )


# --- operators: the cluster -------------------------------------------------------------------


class ModelBackendSerializer(serializers.Serializer):
    model = serializers.CharField(help_text="The model's key, as in `models`.")
    backend = serializers.ChoiceField(
        choices=BACKEND_NAMES, help_text="What the worker runs the model on now."
    )
    reason = serializers.CharField(
        allow_blank=True, help_text="Why: the choice, or why a backend was not taken."
    )
    candidates = serializers.DictField(
        child=serializers.FloatField(),
        help_text=(
            "Each candidate measured, by label (e.g. `openvino bf16`): ms per frame on the "
            "stream's frame, one frame per call."
        ),
    )
    variant = serializers.CharField(
        help_text="The candidate it runs, by label: the backend and its variant, if any."
    )
    batched = serializers.DictField(
        child=serializers.FloatField(),
        help_text="Each candidate measured, by label: ms per frame with 4 frames per call.",
    )


class WorkerSerializer(serializers.Serializer):
    name = serializers.CharField()
    device = serializers.CharField()
    capacity = serializers.IntegerField()
    load = serializers.FloatField(help_text="Running streams / capacity.")
    running = serializers.ListField(child=serializers.IntegerField(), help_text="Camera ids.")
    cpu_percent = serializers.FloatField()
    memory_percent = serializers.FloatField()
    gpu_percent = serializers.FloatField(allow_null=True)
    gpu_memory_percent = serializers.FloatField(allow_null=True)
    models = serializers.ListField(child=serializers.CharField())
    backends = ModelBackendSerializer(
        many=True, help_text="The backend of each loaded model (docs/backends.md)."
    )
    draining = serializers.BooleanField()
    last_heartbeat = serializers.DateTimeField()


class DisplayErrorSerializer(serializers.Serializer):
    display = serializers.IntegerField()
    error = serializers.CharField()


class StreamSerializer(serializers.Serializer):
    camera = serializers.IntegerField()
    camera_name = serializers.CharField(allow_null=True)
    worker = serializers.CharField()
    generation = serializers.IntegerField()
    state = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)
    fps = serializers.FloatField(help_text="Frames inferred per second.")
    fps_in = serializers.FloatField(help_text="Frames decoded per second.")
    frame_age = serializers.FloatField(allow_null=True, help_text="Seconds.")
    latency_ms = serializers.FloatField(allow_null=True)
    reconnects = serializers.IntegerField()
    last_error = serializers.CharField(allow_blank=True)
    last_error_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When the worker first reported last_error as it reads now (a reconnect loop "
        "repeats one error); null without an error.",
    )
    display_errors = DisplayErrorSerializer(
        many=True,
        help_text="Displays of the camera whose model failed to load (they get no results), "
        "and failing secondary models (error starts with 'secondary model '; the display "
        "still gets results, without that model's attributes).",
    )
    updated = serializers.DateTimeField()


class PendingSerializer(serializers.Serializer):
    camera = serializers.IntegerField()
    camera_name = serializers.CharField()
    display = serializers.IntegerField(
        allow_null=True, help_text="The display that cannot run; null when the whole camera waits."
    )
    display_name = serializers.CharField(allow_null=True)
    reason = serializers.CharField()


class ReconcileReportSerializer(serializers.Serializer):
    finished_at = serializers.DateTimeField(allow_null=True)
    duration_ms = serializers.FloatField(allow_null=True)
    commands = serializers.DictField(child=serializers.IntegerField())
    desired = serializers.IntegerField(allow_null=True)
    workers = serializers.IntegerField(allow_null=True)
    heartbeats_trusted = serializers.BooleanField(allow_null=True)


class ClusterSerializer(serializers.Serializer):
    workers = WorkerSerializer(many=True)
    streams = StreamSerializer(many=True)
    pending = PendingSerializer(many=True)
    reconcile = ReconcileReportSerializer(
        allow_null=True, help_text="The last reconcile run; null before the first."
    )


class DetailSerializer(serializers.Serializer):
    """The body of an error or a plain acknowledgement."""

    detail = serializers.CharField()


# --- zones: counts now and per minute ------------------------------------------------------


class ZoneCountSerializer(serializers.Serializer):
    zone = serializers.CharField(help_text='The zone\'s name; "view" is the crop or whole frame.')
    count = serializers.IntegerField(help_text="Objects in the zone now.")
    by_class = serializers.DictField(
        child=serializers.IntegerField(), help_text="Class name -> objects of it in the zone."
    )


class DisplayZonesSerializer(serializers.Serializer):
    live = serializers.BooleanField(
        help_text="Whether the counts are live: the display tracks objects, gets live "
        "results and its newest result is fresh. Otherwise every count is 0."
    )
    reason = serializers.CharField(
        allow_null=True, help_text="Why the counts are not live (null while they are)."
    )
    frame_time = serializers.DateTimeField(
        allow_null=True, help_text="The newest result's frame time (null: no result yet)."
    )
    age_s = serializers.FloatField(
        allow_null=True, help_text="Seconds since that frame was taken (null: no result yet)."
    )
    zones = ZoneCountSerializer(
        many=True, help_text='Every zone of the display, "view" first, in configured order.'
    )


class ZoneStatsQuerySerializer(serializers.Serializer):
    zone = StrictCharField(
        required=False, max_length=100, help_text="Only this zone; all zones without it."
    )
    # "from" is a Python keyword: the field is renamed in get_fields.
    from_ = StrictDateTimeField(
        required=False,
        help_text="ISO time; counted from the start of its bucket. Default: an hour before `to`.",
    )
    to = StrictDateTimeField(required=False, help_text="ISO time (excluded). Default: now.")
    bucket = StrictChoiceField(
        choices=["minute", "hour"], default="minute", help_text="Minutes, or UTC hours."
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class ZoneBucketSerializer(serializers.Serializer):
    zone = serializers.CharField()
    start = serializers.DateTimeField(help_text="The bucket's start.")
    entered = serializers.IntegerField(help_text="Enters in the bucket.")
    left = serializers.IntegerField(help_text="Leaves in the bucket.")
    mean_dwell_s = serializers.FloatField(
        allow_null=True, help_text="Mean dwell of the bucket's leaves (null: none left)."
    )
    max_dwell_s = serializers.FloatField(
        allow_null=True, help_text="Longest dwell of the bucket's leaves (null: none left)."
    )
    max_count = serializers.IntegerField(
        help_text="The most objects in the zone at once in any result of the bucket."
    )


class ZoneStatsSerializer(serializers.Serializer):
    bucket = serializers.CharField()
    from_ = serializers.DateTimeField(help_text="The first bucket's start.")
    to = serializers.DateTimeField()
    results = ZoneBucketSerializer(
        many=True,
        help_text="Oldest first, then by zone; a bucket with nothing stored is absent (zeros).",
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields
