"""Admin pages that are not a model's: the results path's dead letters."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from cms.results import streams
from tasks import redis_state


def dead_letters_view(request: HttpRequest) -> HttpResponse:
    """List dead-lettered results with their errors; replay or discard the selected ones."""
    if not request.user.has_perm("cms.view_detection"):
        raise PermissionDenied
    client = redis_state.client()
    if request.method == "POST":
        if not request.user.has_perm("cms.add_detection"):
            raise PermissionDenied
        ids = request.POST.getlist("ids")
        if request.POST.get("action") == "replay":
            count = streams.replay_dead_letters(client, ids)
            messages.success(request, f"Replayed {count} dead letters onto the results stream.")
        elif request.POST.get("action") == "discard" and ids:
            client.xdel(streams.dead_letter_stream(), *ids)
            messages.success(request, f"Discarded {len(ids)} dead letters.")
        return redirect("admin-dead-letters")
    context = {
        **admin.site.each_context(request),
        "title": "Dead letters",
        "letters": streams.dead_letters(client),
        "total": client.xlen(streams.dead_letter_stream()),
        "can_replay": request.user.has_perm("cms.add_detection"),
        "max_deliveries": settings.SIGHTLINE_RESULTS_MAX_DELIVERIES,
    }
    return TemplateResponse(request, "admin/cms/dead_letters.html", context)
