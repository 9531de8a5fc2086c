"""The admin's "Audience" page of a display: a chart per content item and the plays.

Reads the same report as ``GET /api/v1/displays/{id}/audience/`` (cms.audience.services).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.safestring import SafeString

from cms.audience import services
from cms.count_chart import Series, minute_chart
from cms.models import Display

DEFAULT_HOURS = 24
MAX_HOURS = 24 * 7


def page_hours(value: str | None) -> int:
    """The ``?hours=`` the page covers: 1 to a week, the default for anything else."""
    try:
        hours = int(value or DEFAULT_HOURS)
    except ValueError:
        return DEFAULT_HOURS
    return hours if 1 <= hours <= MAX_HOURS else DEFAULT_HOURS


def content_chart(content: str, plays: list[dict], *, end: datetime, hours: int) -> SafeString:
    """Impressions of one content item's plays, a bar at each play's start minute."""
    counts: dict[datetime, int] = {}
    for play in plays:
        minute = play["started"].replace(second=0, microsecond=0)
        counts[minute] = counts.get(minute, 0) + play["impressions"]
    return minute_chart(
        [Series(content, counts)],
        end=end,
        minutes=hours * 60,
        title=f"{content}: impressions per play (at its start), last {hours} hours",
        unit="impressions",
        zone=timezone.get_current_timezone(),
        kind="bars",
        count_label="impressions",
    )


def display_audience_view(
    request: HttpRequest, pk: int, model_admin: admin.ModelAdmin
) -> HttpResponse:
    """The page (staff with the display's view permission; admin_view checks staff)."""
    display = get_object_or_404(Display, pk=pk)
    if not model_admin.has_view_permission(request, display):
        raise PermissionDenied
    hours = page_hours(request.GET.get("hours"))
    now = timezone.now()
    report = services.audience_report(display, start=now - timedelta(hours=hours), end=now, now=now)
    by_content: dict[str, list[dict]] = {}
    for play in report.plays:
        by_content.setdefault(play["content"], []).append(play)
    charts = [
        content_chart(content, plays, end=now, hours=hours)
        for content, plays in sorted(by_content.items())
    ]
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Audience of {display.name}",
        "display": display,
        "opts": Display._meta,
        "hours": hours,
        "hour_choices": [1, 6, 24, 72, MAX_HOURS],
        "charts": charts,
        "plays": list(reversed(report.plays)),
        "totals": report.totals,
        "report": report,
    }
    return TemplateResponse(request, "admin/cms/audience.html", context)
