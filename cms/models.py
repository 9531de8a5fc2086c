"""What operators describe: cameras, AI models, displays; and what the farm delivers: detections."""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Sequence
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import (
    FileExtensionValidator,
    MaxValueValidator,
    MinValueValidator,
)
from django.db import models
from django.utils import timezone

from cms.validators import (
    validate_camera_url,
    validate_class_filter,
    validate_multiple_of_32,
    validate_snapshot_url,
    validate_unit_interval,
    validate_weights_file,
)
from streams.redaction import split_credentials

DISPLAY_TOKEN_BYTES = 32
# A snapshot camera polled less than once a day is not a camera: a day is the upper bound.
MAX_SNAPSHOT_INTERVAL_S = 86_400


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
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

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
        self._check_model_usable()
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
    created = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["display", "id"], name="detection_display_id"),
            models.Index(fields=["display", "frame_time"], name="detection_display_time"),
        ]

    def __str__(self) -> str:
        return f"{self.display_id}#{self.frame_seq}"

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
