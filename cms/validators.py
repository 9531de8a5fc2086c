"""Field validators shared by the models, the admin forms and the API serializers."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from streams.errors import UnsafeURLError
from streams.urls import validate_stream_url


def validate_camera_url(url: str) -> None:
    """A camera URL the stream readers will open; the rules live in streams.urls."""
    try:
        validate_stream_url(
            url,
            allow_files=settings.SIGHTLINE_ALLOW_FILE_SOURCES,
            allowed_networks=settings.SIGHTLINE_CAMERA_ALLOWED_NETWORKS,
            denied_networks=settings.SIGHTLINE_CAMERA_DENIED_NETWORKS,
        )
    except UnsafeURLError as exc:
        raise ValidationError(str(exc)) from None
    except ValueError as exc:  # urllib's own parse errors (a broken IPv6 literal, a bad port)
        raise ValidationError(f"Not a valid URL: {exc}.") from None


def validate_unit_interval(value: float | None) -> None:
    """Thresholds live in (0, 1] (NaN fails every comparison, so it is refused too)."""
    if value is None or not 0 < value <= 1:
        raise ValidationError("Must be greater than 0 and at most 1.")


def validate_class_filter(value: Any) -> None:
    """An optional list of non-negative class ids."""
    if value in (None, []):
        return
    if not isinstance(value, list) or not all(
        isinstance(item, int) and not isinstance(item, bool) and item >= 0 for item in value
    ):
        raise ValidationError("A list of class ids (non-negative integers), e.g. [0, 2].")
