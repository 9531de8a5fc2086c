"""Input and output of the display session endpoints (cms.api.session_views)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cms.api.fields import StrictCharField, StrictIntegerField
from cms.api.serializers import MAX_BIGINT, ClassificationSerializer
from cms.display_sessions.summary import MAX_TRACKS, view
from cms.models import SESSION_ID_MAX_LENGTH, DisplaySession


class SessionStartSerializer(serializers.Serializer):
    session_id = StrictCharField(
        max_length=SESSION_ID_MAX_LENGTH,
        help_text="The client's id for the session: a string of 1 to 64 characters, as sent.",
    )


class UnixTimeField(serializers.DateTimeField):
    """A time stored as Unix seconds, shown as ISO 8601 like every time of the API."""

    def to_representation(self, value: Any) -> Any:
        return super().to_representation(datetime.fromtimestamp(value, UTC))


class SessionTrackSerializer(serializers.Serializer):
    track_id = serializers.IntegerField()
    class_id = serializers.IntegerField(help_text="Of the track's most confident detection.")
    class_name = serializers.CharField(help_text="Of the track's most confident detection.")
    confidence = serializers.FloatField(help_text="The track's most confident detection's.")
    first_seen = UnixTimeField(help_text="The frame time of its first result in the session.")
    last_seen = UnixTimeField(help_text="The frame time of its last result in the session.")
    dwell_s = serializers.FloatField(help_text="last_seen - first_seen, in seconds.")
    zones = serializers.ListField(
        child=serializers.CharField(), help_text="Every zone it was in during the session."
    )
    attributes = serializers.DictField(
        child=ClassificationSerializer(),
        help_text="By secondary model name, the most confident label it got in the session.",
    )


class SessionSummarySerializer(serializers.Serializer):
    tracks = SessionTrackSerializer(
        many=True,
        help_text=f"Every track seen in the session, oldest first (at most {MAX_TRACKS}: "
        "beyond that the track seen longest ago is no longer listed).",
    )
    counts = serializers.DictField(
        child=serializers.IntegerField(), help_text="Class name -> distinct tracks of it."
    )
    untracked = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Objects without a track (the display does not track): class name -> the "
        "most of them in one result.",
    )
    tracks_not_listed = serializers.IntegerField(
        help_text="Tracks counted in `counts` but no longer listed in `tracks`."
    )


END_REASON = serializers.ChoiceField(
    choices=DisplaySession.EndReason.choices,
    allow_null=True,
    help_text="client, staff, replaced (a new session started) or expired "
    "(open longer than SIGHTLINE_SESSION_MAX_S); null while open.",
)


class DisplaySessionSerializer(serializers.ModelSerializer):
    """A display session with its live summary (final once it has ended)."""

    end_reason = serializers.SerializerMethodField()
    summary = serializers.SerializerMethodField()

    class Meta:
        model = DisplaySession
        fields = ["id", "display", "session_id", "started", "ended", "end_reason", "summary"]
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": "The cursor of /sessions/ (ids ascend as sessions close)."},
            "ended": {"help_text": "Null while open."},
        }

    @extend_schema_field(END_REASON)
    def get_end_reason(self, session: DisplaySession) -> str | None:
        return session.end_reason or None

    @extend_schema_field(SessionSummarySerializer)
    def get_summary(self, session: DisplaySession) -> dict[str, Any]:
        return SessionSummarySerializer(view(session.summary)).data


class DisplaySessionPageSerializer(serializers.Serializer):
    results = DisplaySessionSerializer(many=True)
    next = serializers.CharField(
        allow_null=True, help_text="URL of the next page; null when nothing newer has ended yet."
    )


class DisplaySessionQuerySerializer(serializers.Serializer):
    after = StrictIntegerField(
        required=False,
        min_value=0,
        max_value=MAX_BIGINT,
        help_text="Cursor: only sessions with an id greater than this, oldest first. "
        "Without it, the newest `limit` ended sessions.",
    )
    limit = StrictIntegerField(required=False, min_value=1, max_value=1000, default=100)
