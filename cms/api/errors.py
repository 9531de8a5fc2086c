"""Errors as JSON with the right status: client input never becomes a 500.

- a model's ``ValidationError`` (from ``full_clean()``) -> 400 with field messages
- deleting a row others depend on (``ProtectedError``), or losing a race on a unique
  column (``IntegrityError``) -> 409
- a request Django refuses to parse (too many fields, too big) -> 400
- Redis unreachable -> 503
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from django.core.exceptions import NON_FIELD_ERRORS, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

log = logging.getLogger(__name__)


class ServiceUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The live state store (Redis) is unavailable; try again shortly."
    default_code = "redis_unavailable"


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


def model_errors(
    exc: DjangoValidationError, field_names: dict[str, str] | None = None
) -> dict[str, list[str]]:
    """A model ValidationError as DRF's ``{field: [messages]}``, fields renamed to API names."""
    field_names = field_names or {}
    if not hasattr(exc, "error_dict"):
        return {api_settings.NON_FIELD_ERRORS_KEY: list(exc.messages)}
    errors: dict[str, list[str]] = {}
    for field, messages in exc.message_dict.items():
        if field == NON_FIELD_ERRORS:
            name = api_settings.NON_FIELD_ERRORS_KEY
        else:
            name = field_names.get(field, field)
        errors.setdefault(name, []).extend(messages)
    return errors


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus the Django and Redis errors a view may raise (see module doc)."""
    if isinstance(exc, DjangoValidationError):
        return Response(model_errors(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ProtectedError):
        names = sorted({str(obj) for obj in exc.protected_objects})[:10]
        exc = Conflict(f"Still in use by: {', '.join(names)}. Delete or change those first.")
    elif isinstance(exc, SuspiciousOperation):
        # Django's own limits (DATA_UPLOAD_MAX_NUMBER_FIELDS, ...): a 400, but as JSON.
        exc = ParseError(f"The request was refused: {exc}")
    elif isinstance(exc, IntegrityError):
        exc = Conflict("Another request changed the same row at the same time; try again.")
    elif isinstance(exc, redis.RedisError):
        log.warning("API request failed, Redis unavailable: %s", exc)
        exc = ServiceUnavailable()
    return drf_exception_handler(exc, context)
