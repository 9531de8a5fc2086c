"""The admin's event timeline: the list, an entry's detail and its thumbnail.

Staff see the kinds they may view: object events with "view object event", detections with
"view detection"; neither is a 403. Filters and the page cursor are query parameters.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from cms import thumbnails
from cms.admin_views import jpeg_response
from cms.admin_widgets import detected_objects_table, seconds
from cms.api.serializers import DetectionSerializer, ObjectEventSerializer
from cms.timeline import (
    DETECTION,
    EVENT,
    KINDS,
    PAGE_SIZE,
    TYPES,
    Entry,
    TimelineFilter,
    attributes_text,
    counts_text,
    decode_cursor,
    dwell_text,
    encode_cursor,
    event_what,
    event_where,
    parse_filter,
)
from cms.timeline_queries import Choices, filter_choices, find_entry, neighbours, timeline_page

_PERMISSIONS = {EVENT: "cms.view_objectevent", DETECTION: "cms.view_detection"}


def _kinds_for(request: HttpRequest) -> tuple[str, ...]:
    kinds = tuple(kind for kind in KINDS if request.user.has_perm(_PERMISSIONS[kind]))
    if not kinds:
        raise PermissionDenied
    return kinds


def _filter(request: HttpRequest) -> tuple[TimelineFilter, list[str], Choices]:
    choices = filter_choices()
    chosen, errors = parse_filter(
        request.GET,
        cameras={pk for pk, _ in choices.cameras},
        displays={pk for pk, _ in choices.displays},
        zone=timezone.get_current_timezone(),
    )
    return chosen, errors, choices


def _query(chosen: TimelineFilter) -> str:
    return urlencode(chosen.params)


def _with_query(url: str, query: str) -> str:
    return f"{url}?{query}" if query else url


def timeline_view(request: HttpRequest) -> HttpResponse:
    """Object events and change-policy detections, newest first, a page at a time."""
    allowed = _kinds_for(request)
    chosen, errors, choices = _filter(request)
    before = None
    if request.GET.get("before"):
        before = decode_cursor(request.GET["before"])
        if before is None:
            errors.append("before: not a position in the timeline (showing the newest)")
    kinds = tuple(kind for kind in chosen.kinds if kind in allowed)
    entries, more = timeline_page(chosen, kinds=kinds, before=before, size=PAGE_SIZE)
    query = _query(chosen)
    older = ""
    if more:
        older_query = urlencode([*chosen.params, ("before", encode_cursor(entries[-1].position))])
        older = _with_query(reverse("admin-timeline"), older_query)
    context = {
        **admin.site.each_context(request),
        "title": "Event timeline",
        "rows": [_row(entry, query) for entry in entries],
        "chosen": chosen,
        "errors": errors,
        "choices": choices,
        "types": [t for t in TYPES if (DETECTION if t == DETECTION else EVENT) in allowed],
        "query": query,
        "paged": before is not None,
        "from_value": chosen.value("from"),
        "to_value": chosen.value("to"),
        "older_url": older,
        "zone_offered": chosen.zone in choices.zones,
        "class_offered": chosen.class_name in choices.classes,
        "only_events": bool(chosen.zone or chosen.class_name),
    }
    return TemplateResponse(request, "admin/cms/timeline.html", context)


def _row(entry: Entry, query: str) -> dict[str, Any]:
    """What one entry's row (and its detail's heading) says."""
    row = entry.row
    shown: dict[str, Any] = {
        "kind": entry.kind,
        "pk": entry.pk,
        "time": seconds(entry.time),
        "camera": row.camera,
        "display": row.display,
        "session": row.session_id,
        "detail_url": _with_query(
            reverse("admin-timeline-detail", args=[entry.kind, entry.pk]), query
        ),
        "frame_url": reverse("admin-timeline-frame", args=[entry.kind, entry.pk]),
    }
    if entry.kind == EVENT:
        shown.update(
            what=event_what(row.type, row.direction),
            class_name=row.class_name,
            track=row.track_id,
            where=event_where(row.zone, row.line),
            dwell=dwell_text(row.dwell_s),
            attributes=attributes_text(row.attributes),
        )
    else:
        shown.update(what="detection", counts=counts_text(row.detected_objects or []))
    return shown


def _entry(request: HttpRequest, kind: str, pk: int) -> Entry:
    if kind not in KINDS:
        raise Http404("No such kind of timeline entry.")
    if kind not in _kinds_for(request):
        raise PermissionDenied
    entry = find_entry(kind, pk)
    if entry is None:
        raise Http404("No such timeline entry.")
    return entry


def timeline_detail_view(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """One entry: its picture large, every field, its JSON as the API gives it, and the
    entries next to it under the list's filters."""
    entry = _entry(request, kind, pk)
    chosen, errors, _ = _filter(request)
    allowed = _kinds_for(request)
    query = _query(chosen)
    newer, older = neighbours(chosen, entry, kinds=tuple(k for k in chosen.kinds if k in allowed))
    serializer = ObjectEventSerializer if kind == EVENT else DetectionSerializer
    context = {
        **admin.site.each_context(request),
        "title": f"{'Object event' if kind == EVENT else 'Detection'} {entry.pk}",
        "entry": _row(entry, query),
        "fields": _fields(entry),
        "document": json.dumps(serializer(entry.row).data, indent=2, ensure_ascii=False),
        "errors": errors,
        "list_url": _with_query(reverse("admin-timeline"), query) + f"#{kind}-{entry.pk}",
        "newer_url": newer and _row(newer, query)["detail_url"],
        "older_url": older and _row(older, query)["detail_url"],
    }
    return TemplateResponse(request, "admin/cms/timeline_detail.html", context)


def _fields(entry: Entry) -> list[tuple[str, str]]:
    """Every field an operator may read (no key, no camera URL): label, text (or HTML)."""
    row = entry.row
    if entry.kind == EVENT:
        fields = [
            ("type", row.type),
            ("time", seconds(row.time)),
            ("class", f"{row.class_name} ({row.class_id})"),
            ("track", str(row.track_id)),
            ("zone", row.zone),
            ("line", f"{row.line} ({row.direction})" if row.line else ""),
            ("dwell", dwell_text(row.dwell_s)),
            ("attributes", attributes_text(row.attributes)),
            ("box", ", ".join(str(round(v)) for v in row.box or [])),  # pixels; the JSON is exact
        ]
    else:
        fields = [
            ("frame time", seconds(row.frame_time)),
            ("model", str(row.model)),
            ("objects", counts_text(row.detected_objects or [])),
            ("boxes", detected_objects_table(row.detected_objects or [])),
            ("frame", str(row.frame_seq)),
        ]
    fields += [
        ("session", row.session_id),
        ("generation", str(row.generation)),
        ("received", seconds(row.created)),
    ]
    return [(label, text) for label, text in fields if text]


def timeline_frame_view(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """An entry's thumbnail (its frame, box(es) drawn); 404 when there is none, so the page
    shows its placeholder. A stored thumbnail does not change: the browser may keep it."""
    entry = _entry(request, kind, pk)
    jpeg = thumbnails.load(kind, entry.row.key)
    if jpeg is None:
        raise Http404("No picture of this entry.")
    return jpeg_response(request, jpeg, cache_control="private, max-age=3600")
