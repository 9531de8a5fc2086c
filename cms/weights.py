"""Signed, expiring URLs through which ingest workers on other machines fetch model weights."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core import signing
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseForbidden
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.urls import reverse

from cms.models import DetectionModel

SALT = "sightline.weights"


def signed_weights_url(model: DetectionModel, *, base_url: str | None = None) -> str:
    """A URL that serves the model's weights file until it expires (SIGHTLINE_WEIGHTS_URL_TTL_S)."""
    token = signing.dumps({"m": model.pk, "s": model.sha256}, salt=SALT, compress=True)
    base = (settings.SIGHTLINE_WEB_URL if base_url is None else base_url).rstrip("/")
    return f"{base}{reverse('model-weights', args=[model.pk])}?token={token}"


def weights_view(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Serve a model's weights to the holder of a valid, unexpired signed URL; 403 otherwise."""
    try:
        claims = signing.loads(
            request.GET.get("token", ""), salt=SALT, max_age=settings.SIGHTLINE_WEIGHTS_URL_TTL_S
        )
    except signing.SignatureExpired:
        return HttpResponseForbidden("This weights URL has expired.")
    except signing.BadSignature:
        return HttpResponseForbidden("This weights URL is not valid.")
    if not isinstance(claims, dict) or claims.get("m") != pk:
        return HttpResponseForbidden("This weights URL is not valid.")
    model = get_object_or_404(DetectionModel, pk=pk, sha256=claims.get("s"))
    if not model.weights.name:
        return HttpResponse("This model has no weights file.", status=404)
    try:
        weights = model.weights.open("rb")
    except FileNotFoundError:  # the row names a file the storage lost
        return HttpResponse("This model's weights file is missing on the server.", status=404)
    return FileResponse(weights, as_attachment=True, filename=Path(model.weights.name).name)
