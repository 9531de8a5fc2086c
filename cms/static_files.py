"""Static files served by the web process itself in development (DEBUG on)."""

from __future__ import annotations

from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.core.exceptions import SuspiciousOperation
from django.http import FileResponse, Http404, HttpRequest, HttpResponse


class StaticFilesHandler(ASGIStaticFilesHandler):
    """Django's handler, but a path that leaves the static roots (``..%2F``) is a 404.

    Django's finders refuse such a path with ``SuspiciousFileOperation``, which the stock
    handler lets through as a 500.
    """

    def serve(self, request: HttpRequest) -> HttpResponse | FileResponse:
        try:
            return super().serve(request)
        except SuspiciousOperation as exc:
            raise Http404("No such static file") from exc
