"""What operators describe: cameras, AI models, displays; and what the farm delivers: detections."""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import (
    FileExtensionValidator,
    MaxValueValidator,
    MinValueValidator,
)
from django.db import IntegrityError, models, transaction
from django.db.models import F, Max, ProtectedError
from django.utils import timezone

from cms import display_geometry, display_secondary
from cms.audience import display_settings as audience_settings
from cms.validators import (
    SecondsValidator,
    validate_camera_url,
    validate_class_filter,
    validate_multiple_of_32,
    validate_snapshot_url,
    validate_unit_interval,
    validate_weights_file,
)
from inference.backend_choice import BACKEND_NAMES
from streams.redaction import split_credentials

DISPLAY_TOKEN_BYTES = 32
MIN_SEEN_S_MAX = 60.0
MAX_LOST_S_MAX = 600.0
ZONES_HELP = (
    'Areas in source pixels, as JSON: [{"name": "lane", "polygon": [[x, y], [x, y], [x, y]]}]. '
    "3 to 64 points each, inside the camera's frame; names unique. An object is in a zone when "
    'the bottom-centre of its box is. "view" (the crop, or the whole frame) is implicit.'
)
LINES_HELP = (
    'Lines to count crossings of, in source pixels, as JSON: [{"name": "door", "points": '
    "[[x1, y1], [x2, y2]]}]. Two distinct points each; names unique."
)
SECONDARY_HELP = (
    "Classify models run on the crops of tracked objects, in order, as JSON: "
    '[{"model": 7, "classes": [0], "min_size": 32, "every_s": 2.0}]. model: a classify '
    "model's id (once per display); classes: the primary model's class ids to classify "
    "(null: all); min_size: pixels on the box's shorter side, at least (default 32); every_s: "
    "an object is classified when its track starts, then at most once per every_s seconds "
    "(default 2.0). Results appear in each object's attributes. Empty: none."
)
# A snapshot camera polled less than once a day is not a camera: a day is the upper bound.
MAX_SNAPSHOT_INTERVAL_S = 86_400
# A display session's id, as its client gives it (DisplaySession.session_id).
SESSION_ID_MAX_LENGTH = 64


def hash_token(token: str) -> str:
    """Display tokens are high-entropy random strings, so a plain SHA-256 is a safe hash."""
    return hashlib.sha256(token.encode()).hexdigest()


def crop_box(corners: Sequence[int | None]) -> tuple[int, int, int, int] | None:
    """A display's crop columns (x1, y1, x2, y2) as a box; None unless all four are set."""
    x1, y1, x2, y2 = corners
    if x1 is None or y1 is None or x2 is None or y2 is None:
        return None
    return x1, y1, x2, y2


class Camera(models.Model):
    name = models.CharField(max_length=100)
    identifier = models.SlugField(max_length=100, unique=True)
    url = models.CharField(
        "stream URL",
        max_length=1000,
        help_text="rtsp://, rtsps://, http:// or https://. Put credentials in the fields "
        "below: any found in the URL are moved there when saved.",
    )
    username = models.CharField(max_length=200, blank=True)
    # Write-only: never rendered by the admin, the API or a log line. It is stored as
    # given because the worker must hand it to the camera.
    password = models.CharField(max_length=200, blank=True)
    snapshot_url = models.CharField(
        max_length=1000,
        blank=True,
        help_text="Optional JPEG snapshot URL, polled instead of the stream when set.",
    )
    snapshot_interval = models.FloatField(
        default=1.0,
        validators=[MinValueValidator(0.05), MaxValueValidator(MAX_SNAPSHOT_INTERVAL_S)],
        help_text="Seconds between snapshot fetches (at most a day).",
    )
    fps = models.FloatField(
        "target fps",
        default=5.0,
        validators=[MinValueValidator(0.01), MaxValueValidator(120)],
        help_text="Frames per second decoded and inferred; extra frames are skipped.",
    )
    enabled = models.BooleanField(default=True)
    # What the stream last delivered (cms.frame_size.record_frame_size, called by the worker):
    # zones and lines are checked against it once it is known.
    frame_width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    frame_height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def frame_size(self) -> tuple[int, int] | None:
        """(width, height) of the frames the stream last delivered; None until known."""
        if not self.frame_width or not self.frame_height:
            return None
        return self.frame_width, self.frame_height

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        self.url = self.url.strip()
        self._move_url_credentials()
        for field, validate in (
            ("url", validate_camera_url),
            ("snapshot_url", validate_snapshot_url),
        ):
            value = getattr(self, field)
            if not value:
                continue
            try:
                validate(value)
            except ValidationError as exc:
                errors.setdefault(field, []).extend(exc.messages)
        if self.fps is not None and not (math.isfinite(self.fps) and self.fps > 0):
            errors.setdefault("fps", []).append("Target fps must be a number greater than 0.")
        if self.snapshot_interval is not None and not math.isfinite(self.snapshot_interval):
            errors.setdefault("snapshot_interval", []).append("Must be a finite number.")
        if errors:
            raise ValidationError(errors)

    def _move_url_credentials(self) -> None:
        """Keep passwords out of the URL column: ``rtsp://u:p@host`` becomes url + fields.

        Credentials typed into the URL win over stored ones: the operator just gave them.
        """
        try:
            url, username, password = split_credentials(self.url)
        except ValueError:
            return  # malformed: the URL validator reports it
        if url != self.url:
            self.url, self.username, self.password = url, username, password


DETECTION_TASK = "detect"
CLASSIFY_TASK = "classify"


class DetectionModel(models.Model):
    class Validation(models.TextChoices):
        PENDING = "pending", "not checked yet"
        VALID = "valid", "loads"
        INVALID = "invalid", "does not load"

    name = models.CharField(max_length=100)
    version = models.CharField(max_length=50, default="1")
    weights = models.FileField(
        upload_to="weights/",
        blank=True,
        validators=[FileExtensionValidator(["pt", "onnx", "torchscript"]), validate_weights_file],
        help_text="A YOLO detection weights file (.pt, .onnx, .torchscript).",
    )
    hub_name = models.CharField(
        "ultralytics model name",
        max_length=100,
        blank=True,
        help_text="Instead of a file: a name such as yolo11n.pt that ultralytics downloads "
        "where the internet is reachable.",
    )
    sha256 = models.CharField(max_length=64, blank=True, editable=False)
    class_names = models.JSONField(
        default=dict, blank=True, help_text="Filled when the weights are first read."
    )
    # What loading the weights found: by the control worker's check of an upload
    # (cms.model_validation), or by the first worker that loads a hub model.
    task = models.CharField(
        max_length=20, blank=True, editable=False, help_text="detect, classify, segment, ..."
    )
    input_size = models.PositiveIntegerField(
        null=True, blank=True, editable=False, help_text="The size the model was made for."
    )
    validation_state = models.CharField(
        max_length=10, choices=Validation.choices, default=Validation.PENDING, editable=False
    )
    invalid_reason = models.CharField(max_length=1000, blank=True, editable=False)
    confidence = models.FloatField(default=0.25, validators=[validate_unit_interval])
    iou = models.FloatField("IoU threshold", default=0.7, validators=[validate_unit_interval])
    imgsz = models.PositiveIntegerField(
        "image size",
        default=640,
        validators=[MinValueValidator(32), MaxValueValidator(4096), validate_multiple_of_32],
        help_text="A multiple of 32 (the stride of YOLO models; ultralytics would round it).",
    )
    classes = models.JSONField(
        "class filter",
        null=True,
        blank=True,
        validators=[validate_class_filter],
        help_text="Optional list of class ids to keep, e.g. [0, 2]. Empty keeps all.",
    )
    # Empty: the worker's SIGHTLINE_INFERENCE_BACKEND (docs/backends.md).
    backend = models.CharField(
        "inference backend",
        max_length=20,
        blank=True,
        choices=[(name, name) for name in BACKEND_NAMES],
        help_text="Empty: the worker's setting (auto by default: the fastest backend that "
        "agrees with torch). A backend named here is used where the worker has it, else torch.",
    )
    notes = models.CharField(max_length=200, blank=True)
    enabled = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "version"]
        verbose_name = "AI model"

    def __str__(self) -> str:
        return f"{self.name} {self.version}"

    def save(self, *args, **kwargs) -> None:
        weights_changed = bool(self.weights) and (not self.sha256 or self._weights_replaced())
        if weights_changed:
            self.sha256 = _file_sha256(self.weights)
        elif not self.weights:
            self.sha256 = ""
        if weights_changed or self._hub_name_changed():
            self._forget_what_was_read()
        # cms.signals sends the check of new weights once the save commits.
        self.weights_to_check = weights_changed
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        """Refused (ProtectedError, the API's 409) while a display uses the model as a
        secondary model, as on_delete=PROTECT refuses it while one uses it as its model.
        Checked before deleting starts: raised inside the deletion's transaction, it would
        break an enclosing one. (The admin checks the same in get_deleted_objects.)"""
        users = Display.using_as_secondary([self.pk])
        if users:
            raise ProtectedError(
                f"Cannot delete {self}: displays use it as a secondary model.", set(users)
            )
        return super().delete(*args, **kwargs)

    def _forget_what_was_read(self) -> None:
        """New weights are read again: by the validation task (a file) or a worker (hub)."""
        self.class_names = {}
        self.task = ""
        self.input_size = None
        self.validation_state = self.Validation.PENDING
        self.invalid_reason = ""

    def _hub_name_changed(self) -> bool:
        if not self.hub_name or self.pk is None:
            return bool(self.hub_name)
        stored = DetectionModel.objects.filter(pk=self.pk).values_list("hub_name", flat=True)
        return stored.first() != self.hub_name

    @property
    def unusable_reason(self) -> str:
        """Why no display can run on this model ("" when it can, or is not checked yet)."""
        if self.validation_state == self.Validation.INVALID:
            return f"its model's weights do not load: {self.invalid_reason}"
        if self.task and self.task != DETECTION_TASK:
            return f"its model is a {self.task!r} model, not a detection model"
        return ""

    @classmethod
    def usable(cls) -> models.Q:
        """The rows ``unusable_reason`` is "" for, as a filter."""
        return ~models.Q(validation_state=cls.Validation.INVALID) & models.Q(
            task__in=["", DETECTION_TASK]
        )

    @property
    def secondary_unusable_reason(self) -> str:
        """Why this model cannot be a display's secondary model ("" when it can, or is not
        checked yet): secondary models classify crops, so only classify models."""
        if self.validation_state == self.Validation.INVALID:
            return f"its weights do not load: {self.invalid_reason}"
        if self.task and self.task != CLASSIFY_TASK:
            return f"it is a {self.task!r} model, not a classify model"
        return ""

    @classmethod
    def usable_as_secondary(cls) -> models.Q:
        """The rows ``secondary_unusable_reason`` is "" for, as a filter."""
        return ~models.Q(validation_state=cls.Validation.INVALID) & models.Q(
            task__in=["", CLASSIFY_TASK]
        )

    def _weights_replaced(self) -> bool:
        if not self.weights._committed:  # type: ignore[attr-defined]  # an upload not stored yet (a private flag, not in django-stubs)
            return True
        stored = DetectionModel.objects.filter(pk=self.pk).values_list("weights", flat=True)
        return stored.first() != self.weights.name

    def clean(self) -> None:
        if bool(self.weights) == bool(self.hub_name):
            raise ValidationError(
                "Give either a weights file or an ultralytics model name, not both or neither."
            )
        if self.hub_name and "/" in self.hub_name:
            raise ValidationError({"hub_name": "A model name, not a path."})
        for field in ("confidence", "iou"):
            try:
                validate_unit_interval(getattr(self, field))
            except ValidationError as exc:
                raise ValidationError({field: exc.messages}) from None


def _file_sha256(field_file: models.fields.files.FieldFile) -> str:
    digest = hashlib.sha256()
    field_file.open("rb")
    try:
        for chunk in field_file.chunks():
            digest.update(chunk)
    finally:
        field_file.seek(0)
    return digest.hexdigest()


class Display(models.Model):
    class Policy(models.TextChoices):
        EVERY = "every", "every result"
        CHANGE = "change", "on change"
        INTERVAL = "interval", "at most one per interval"

    name = models.CharField(max_length=100)
    identifier = models.SlugField(max_length=100, unique=True)
    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="displays")
    model = models.ForeignKey(DetectionModel, on_delete=models.PROTECT, related_name="displays")
    crop_x1 = models.PositiveIntegerField(null=True, blank=True)
    crop_y1 = models.PositiveIntegerField(null=True, blank=True)
    crop_x2 = models.PositiveIntegerField(null=True, blank=True)
    crop_y2 = models.PositiveIntegerField(null=True, blank=True)
    policy = models.CharField(max_length=10, choices=Policy.choices, default=Policy.EVERY)
    policy_interval_ms = models.PositiveIntegerField(
        "interval (ms)",
        default=1000,
        validators=[MinValueValidator(1)],
        help_text="With 'at most one per interval'.",
    )
    tracking = models.BooleanField(
        default=True,
        help_text="Track objects across frames (track ids, zones, enter/leave/cross events). "
        "Off: each frame's boxes stand alone.",
    )
    zones = models.JSONField(default=list, blank=True, help_text=ZONES_HELP)
    lines = models.JSONField(default=list, blank=True, help_text=LINES_HELP)
    secondary = models.JSONField(
        "secondary models", default=list, blank=True, help_text=SECONDARY_HELP
    )
    min_seen_s = models.FloatField(
        "seen for (s)",
        default=0.5,
        validators=[SecondsValidator(MIN_SEEN_S_MAX)],
        help_text="An object enters a zone once it has been seen there this long.",
    )
    max_lost_s = models.FloatField(
        "lost for (s)",
        default=2.0,
        validators=[SecondsValidator(MAX_LOST_S_MAX)],
        help_text="An object leaves once it has been gone this long.",
    )
    # Audience per content (cms/audience, docs/audience.md): the tracks that count.
    audience_classes = models.JSONField(
        default=audience_settings.default_audience_classes,
        blank=True,
        help_text='Class names counted as audience, as JSON: ["person"].',
    )
    audience_zone = models.CharField(
        max_length=audience_settings.ZONE_MAX_LENGTH,
        default=audience_settings.DEFAULT_ZONE,
        help_text='The zone the audience is counted in: "view" or one of the zones.',
    )
    enabled = models.BooleanField(default=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    client_last_seen = models.DateTimeField(null=True, blank=True, editable=False)
    # What the client said in its last heartbeat (POST /api/v1/display/heartbeat/).
    client_version = models.CharField(max_length=100, blank=True, editable=False)
    client_showing = models.CharField(max_length=200, blank=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if not self.token_hash:
            # A display always has a token; the admin and API show it once via rotate_token.
            self.rotate_token()
        super().save(*args, **kwargs)

    @classmethod
    def using_as_secondary(cls, model_ids: Collection[int]) -> list[Display]:
        """The displays that name any of these models among their secondary models."""
        wanted = set(model_ids)
        # A JSON list: filtered here, portably (few displays have secondary models).
        return [
            display
            for display in cls.objects.exclude(secondary=[]).order_by("id")
            if wanted.intersection(display_secondary.model_ids(display.secondary))
        ]

    @property
    def crop(self) -> tuple[int, int, int, int] | None:
        return crop_box((self.crop_x1, self.crop_y1, self.crop_x2, self.crop_y2))

    def _check_model_usable(self) -> None:
        """A new display, or a display moved to another model, needs a model that can run.

        A display whose model turned out unusable later stays editable (it shows as pending).
        """
        if self.model_id is None:
            return
        stored = Display.objects.filter(pk=self.pk).values_list("model_id", flat=True).first()
        if stored == self.model_id:
            return
        reason = self.model.unusable_reason
        if reason:
            raise ValidationError({"model": f"This model cannot run a display: {reason}."})

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        checks = (
            self._check_model_usable,
            self._check_crop,
            self._check_geometry,
            self._check_secondary,
            self._check_audience,
        )
        for check in checks:
            try:
                check()
            except ValidationError as exc:
                errors = exc.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def _check_geometry(self) -> None:
        """Zones and lines by cms.display_geometry's rules, inside the camera's frame if known."""
        camera = self.camera if self.camera_id is not None else None
        frame_size = camera.frame_size if camera is not None else None
        errors = {
            "zones": display_geometry.validate_zones(self.zones, frame_size),
            "lines": display_geometry.validate_lines(self.lines, frame_size),
        }
        if any(errors.values()):
            raise ValidationError({field: msgs for field, msgs in errors.items() if msgs})

    def _check_secondary(self) -> None:
        """By cms.display_secondary's rules; fills in the defaults of what it leaves out.

        Models already among the display's stored secondary models are not checked again:
        like its primary model, one that turned out unusable later leaves the display
        editable (desired state leaves it out).
        """
        errors = display_secondary.shape_errors(self.secondary)
        if errors:
            raise ValidationError({"secondary": errors})
        self.secondary = display_secondary.with_defaults(self.secondary)
        stored = Display.objects.filter(pk=self.pk).values_list("secondary", flat=True).first()
        unchecked = set(display_secondary.model_ids(stored)) if self.pk is not None else set()
        wanted = set(display_secondary.model_ids(self.secondary)) - unchecked
        unusable = {
            model.pk: model.secondary_unusable_reason
            for model in DetectionModel.objects.filter(pk__in=wanted)
        }
        errors = display_secondary.model_problems(self.secondary, unusable, unchecked=unchecked)
        if errors:
            raise ValidationError({"secondary": errors})

    def _check_audience(self) -> None:
        zones = self.zones if isinstance(self.zones, list) else []
        names = [z["name"] for z in zones if isinstance(z, dict) and isinstance(z.get("name"), str)]
        errors = {
            "audience_classes": audience_settings.class_errors(self.audience_classes),
            "audience_zone": audience_settings.zone_errors(self.audience_zone, names),
        }
        if any(errors.values()):
            raise ValidationError({field: msgs for field, msgs in errors.items() if msgs})

    def _check_crop(self) -> None:
        box = (self.crop_x1, self.crop_y1, self.crop_x2, self.crop_y2)
        given = [v is not None for v in box]
        if any(given) and not all(given):
            raise ValidationError("Give all four crop coordinates, or none.")
        if (crop := crop_box(box)) is not None:
            x1, y1, x2, y2 = crop
            if x2 <= x1 or y2 <= y1:
                raise ValidationError(
                    {"crop_x2": "The crop needs x1 < x2 and y1 < y2 (a positive size)."}
                )

    @property
    def client_online(self) -> bool:
        return self.client_online_at(timezone.now())

    def client_online_at(self, now: datetime) -> bool:
        """Whether the client sent a heartbeat within SIGHTLINE_DISPLAY_CLIENT_TIMEOUT_S."""
        if self.client_last_seen is None:
            return False
        age = (now - self.client_last_seen).total_seconds()
        return age < settings.SIGHTLINE_DISPLAY_CLIENT_TIMEOUT_S

    def rotate_token(self) -> str:
        """Issue a new client token, revoking the old one; the token is returned only here."""
        token = secrets.token_urlsafe(DISPLAY_TOKEN_BYTES)
        self.token_hash = hash_token(token)
        return token


class Detection(models.Model):
    """One delivered result of one display's model on one frame."""

    display = models.ForeignKey(Display, on_delete=models.CASCADE, related_name="detections")
    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="+")
    model = models.ForeignKey(DetectionModel, on_delete=models.CASCADE, related_name="+")
    generation = models.BigIntegerField()
    frame_seq = models.BigIntegerField(help_text="For file sources: the frame's index in the file.")
    frame_time = models.DateTimeField()
    # The API calls it "objects"; a model field cannot take the manager's name.
    detected_objects = models.JSONField(default=list)
    key = models.CharField(max_length=100, unique=True, help_text="Idempotency key.")
    session_id = models.CharField(
        max_length=SESSION_ID_MAX_LENGTH,
        blank=True,
        help_text="The display's session then (DisplaySession).",
    )
    created = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["display", "id"], name="detection_display_id"),
            models.Index(fields=["display", "frame_time"], name="detection_display_time"),
        ]

    def __str__(self) -> str:
        return f"{self.display_id}#{self.frame_seq}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Its id comes from the event sequence it shares with ObjectEvent (take_event_ids).
        if self.pk is None:
            with transaction.atomic():
                [self.pk] = take_event_ids(1)
                kwargs["force_insert"] = True
                super().save(*args, **kwargs)
            return
        super().save(*args, **kwargs)

    @property
    def object_count(self) -> int:
        return len(self.detected_objects or [])


class StreamAssignment(models.Model):
    """Reconcile's record of where a camera's ingest task runs.

    ``generation`` only grows: every start and every stop takes the next one, so a
    task holding an older number knows it is no longer current (fencing). It lives in
    the database so it survives a Redis restart.
    """

    camera = models.OneToOneField(
        Camera, on_delete=models.CASCADE, primary_key=True, related_name="assignment"
    )
    generation = models.BigIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True, db_index=True)
    spec_hash = models.CharField(max_length=32, blank=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    pending_reason = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.camera_id}@{self.worker or '-'}#{self.generation}"


class EventSequence(models.Model):
    """The counter of the one id sequence that Detection and ObjectEvent rows share.

    A display's live events (SSE) and its Last-Event-ID are these ids, so one cursor
    resumes detections and object events together. One row (pk 1); see take_event_ids.
    """

    last_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"event ids up to {self.last_id}"


def take_event_ids(count: int) -> range:
    """``count`` new ids for Detection / ObjectEvent rows, ascending, never handed out before.

    Call it in the transaction that inserts the rows: the UPDATE locks the counter's row
    until that transaction ends, so writers take ids one after the other and commit in id
    order. A reader that saw id N committed never sees a smaller id committed later, which
    is what makes ``id > Last-Event-ID`` a gapless replay, with several consumers too.
    Portable: an UPDATE and a SELECT (SQLite serialises writers anyway). A missing
    counter row (a flushed table) is made again above every stored id.
    """
    if count <= 0:
        return range(0)
    with transaction.atomic():
        counter = EventSequence.objects.filter(pk=1)
        if not counter.update(last_id=F("last_id") + count):
            _make_counter(count)
        last = counter.values_list("last_id", flat=True).get()
    return range(last - count + 1, last + 1)


def _make_counter(count: int) -> None:
    start = max(
        Detection.objects.aggregate(top=Max("id"))["top"] or 0,
        ObjectEvent.objects.aggregate(top=Max("id"))["top"] or 0,
    )
    try:
        with transaction.atomic():
            EventSequence.objects.create(pk=1, last_id=start + count)
    except IntegrityError:  # another writer made it first: take ids from it
        EventSequence.objects.filter(pk=1).update(last_id=F("last_id") + count)


class ObjectEvent(models.Model):
    """An object entered or left one of a display's zones, or crossed one of its lines.

    Stored idempotently by ``key``; its id is in the sequence Detection ids are in
    (take_event_ids), so the SSE stream carries both in one order.
    """

    class Type(models.TextChoices):
        ENTER = "enter", "enter"
        LEAVE = "leave", "leave"
        CROSS = "cross", "cross"

    class Direction(models.TextChoices):
        IN = "in", "in"
        OUT = "out", "out"

    display = models.ForeignKey(Display, on_delete=models.CASCADE, related_name="object_events")
    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="+")
    generation = models.BigIntegerField()
    key = models.CharField(max_length=255, unique=True, help_text="Idempotency key.")
    type = models.CharField(max_length=5, choices=Type.choices)
    track_id = models.BigIntegerField()
    class_id = models.IntegerField()
    class_name = models.CharField(max_length=100)
    time = models.DateTimeField()
    box = models.JSONField(help_text="[x1, y1, x2, y2] in pixels of the camera's full frame.")
    zone = models.CharField(max_length=100, blank=True, help_text="enter and leave.")
    dwell_s = models.FloatField(null=True, blank=True, help_text="leave: seconds in the zone.")
    line = models.CharField(max_length=100, blank=True, help_text="cross.")
    direction = models.CharField(
        max_length=3, choices=Direction.choices, blank=True, help_text="cross."
    )
    attributes = models.JSONField(
        default=dict,
        blank=True,
        help_text='Secondary-model results then: {"<model>": {"label", "confidence"}}.',
    )
    session_id = models.CharField(
        max_length=SESSION_ID_MAX_LENGTH,
        blank=True,
        help_text="The display's session then (DisplaySession).",
    )
    # An enter whose leave is not stored yet: the farm closes these when their generation
    # ends (cms.farm.presences), so every enter gets exactly one leave.
    open = models.BooleanField(default=False, editable=False)
    created = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["display", "id"], name="objectevent_display_id"),
            models.Index(fields=["display", "zone", "time"], name="objectevent_display_zone"),
            # The event timeline pages the newest first across every display.
            models.Index(fields=["time", "id"], name="objectevent_time"),
            models.Index(
                fields=["camera", "generation"],
                condition=models.Q(open=True),
                name="objectevent_open",
            ),
        ]

    def __str__(self) -> str:
        where = self.zone or f"{self.line} {self.direction}"
        return f"{self.display_id} {self.type} {where} #{self.track_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is None:
            with transaction.atomic():
                [self.pk] = take_event_ids(1)
                kwargs["force_insert"] = True
                super().save(*args, **kwargs)
            return
        super().save(*args, **kwargs)


class ZoneMinute(models.Model):
    """One display's counts in one zone over one minute, added to by the results consumer.

    ``entered`` and ``left`` count the enters and leaves whose time falls in the minute (a
    leave's ``dwell_s`` goes to its minute's sum and max); ``max_count`` is the most objects
    any received result of the minute had in the zone. Kept as long as detection history.
    """

    display = models.ForeignKey(Display, on_delete=models.CASCADE, related_name="zone_minutes")
    zone = models.CharField(max_length=100)
    minute = models.DateTimeField(help_text="The minute's start (seconds zero), UTC.")
    entered = models.PositiveIntegerField(default=0)
    left = models.PositiveIntegerField(default=0)
    dwell_sum_s = models.FloatField(default=0.0, help_text="Sum of the leaves' dwell_s.")
    dwell_max_s = models.FloatField(default=0.0, help_text="Longest of the leaves' dwell_s.")
    max_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["display", "minute", "zone"]
        constraints = [
            models.UniqueConstraint(
                fields=["display", "zone", "minute"], name="zoneminute_display_zone_minute"
            )
        ]
        indexes = [
            models.Index(fields=["display", "minute"], name="zoneminute_display_minute"),
            models.Index(fields=["minute"], name="zoneminute_minute"),
        ]

    def __str__(self) -> str:
        return f"{self.display_id} {self.zone} {self.minute:%Y-%m-%d %H:%M}"


class Play(models.Model):
    """One stretch of a display showing one content item, as its client reported it.

    Recorded from heartbeats (cms.audience.services): ``ended`` is null while it plays; a
    display has at most one open play (a partial unique constraint).
    """

    display = models.ForeignKey(Display, on_delete=models.CASCADE, related_name="plays")
    content = models.CharField(max_length=200, help_text="The heartbeat's `showing`.")
    started = models.DateTimeField()
    ended = models.DateTimeField(null=True, blank=True, help_text="Null while it plays.")

    class Meta:
        ordering = ["display", "started", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["display"],
                condition=models.Q(ended__isnull=True),
                name="play_one_open_per_display",
            )
        ]
        indexes = [models.Index(fields=["display", "started"], name="play_display_started")]

    def __str__(self) -> str:
        return f"{self.display_id} {self.content!r} from {self.started:%Y-%m-%d %H:%M:%S}"


class DisplaySession(models.Model):
    """A display client's session (the seed design's setSessionId / patchSession).

    While it is open (``ended`` null) the display's detections and object events carry its
    ``session_id`` and the results consumer keeps ``summary`` up to date
    (cms.display_sessions). At most one open session per display: a conditional unique
    constraint, so two starts at once cannot both leave one open.
    """

    class EndReason(models.TextChoices):
        CLIENT = "client", "ended by the display client"
        STAFF = "staff", "ended by staff"
        REPLACED = "replaced", "replaced by a new session"
        EXPIRED = "expired", "open longer than SIGHTLINE_SESSION_MAX_S"

    display = models.ForeignKey(Display, on_delete=models.CASCADE, related_name="sessions")
    session_id = models.CharField(
        max_length=SESSION_ID_MAX_LENGTH, help_text="The id the client gave it."
    )
    started = models.DateTimeField(default=timezone.now)
    ended = models.DateTimeField(null=True, blank=True, help_text="Null while open.")
    end_reason = models.CharField(max_length=10, choices=EndReason.choices, blank=True)
    # cms.display_sessions.summary's stored form: tracks seen, counts by class.
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["display"],
                condition=models.Q(ended__isnull=True),
                name="displaysession_one_open",
            )
        ]
        indexes = [models.Index(fields=["display", "id"], name="displaysession_display_id")]

    def __str__(self) -> str:
        return f"{self.display_id} {self.session_id}"

    @property
    def is_open(self) -> bool:
        return self.ended is None
