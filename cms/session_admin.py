"""The admin's display sessions: read only, per display (cms.admin links each display's)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from cms.admin_widgets import seconds
from cms.display_sessions.summary import view
from cms.models import Display, DisplaySession


def sessions_link(display: Display) -> SafeString:
    """The display's open session, if any, and a link to all of its sessions."""
    if display.pk is None:
        return format_html("{}", "-")
    url = reverse("admin:cms_displaysession_changelist") + f"?display__id__exact={display.pk}"
    current = display.sessions.filter(ended__isnull=True).first()
    now = f"open: {current.session_id} since {seconds(current.started)}" if current else "none open"
    return format_html('{} · <a href="{}">all sessions</a>', now, url)


@admin.register(DisplaySession)
class DisplaySessionAdmin(admin.ModelAdmin):
    """Display sessions as the display clients and staff opened and closed them; read only."""

    list_display = ["id", "display", "session_id", "started_s", "ended_s", "end_reason", "tracks"]
    list_filter = ["display", "end_reason"]
    list_select_related = ["display"]
    search_fields = ["session_id"]
    date_hierarchy = "started"
    ordering = ["-id"]
    show_full_result_count = False
    fields = ["display", "session_id", "started_s", "ended_s", "end_reason", "summary_table"]
    readonly_fields = ["started_s", "ended_s", "summary_table"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: DisplaySession | None = None
    ) -> bool:
        return False

    @admin.display(description="started", ordering="started")
    def started_s(self, session: DisplaySession) -> str:
        return seconds(session.started)

    @admin.display(description="ended", ordering="ended")
    def ended_s(self, session: DisplaySession) -> str:
        return seconds(session.ended) if session.ended else "open"

    @admin.display(description="tracks")
    def tracks(self, session: DisplaySession) -> str:
        counts = view(session.summary)["counts"]
        return ", ".join(f"{n} {name}" for name, n in sorted(counts.items())) or "-"

    @admin.display(description="summary")
    def summary_table(self, session: DisplaySession) -> SafeString:
        summary = view(session.summary)
        if not summary["tracks"]:
            return format_html("{}", "no tracks")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    t["track_id"],
                    t["class_name"],
                    f"{t['dwell_s']:.1f}",
                    ", ".join(t["zones"]),
                    ", ".join(f"{m}: {a['label']}" for m, a in sorted(t["attributes"].items())),
                )
                for t in summary["tracks"]
            ),
        )
        return format_html(
            "<table><tr><th>track</th><th>class</th><th>dwell (s)</th><th>zones</th>"
            "<th>attributes</th></tr>{}</table>",
            rows,
        )
