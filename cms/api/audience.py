"""``GET /api/v1/displays/{id}/audience/``: plays with their audience figures, as JSON or CSV.

The format is the ``format`` query parameter (``json``, the default, or ``csv``), validated
like every other parameter: an unknown one is a 400 naming it (DRF's own format override
would answer 404), and errors are JSON whatever the format asked for.
"""

from __future__ import annotations

from typing import Any

from django.utils.text import slugify
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import renderers, serializers
from rest_framework.generics import get_object_or_404
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cms.api.fields import StrictCharField, StrictChoiceField, StrictDateTimeField
from cms.api.permissions import OperatorPermissions
from cms.api.schema import errors
from cms.api.views import ID
from cms.audience import services
from cms.audience.csv_table import plays_csv
from cms.models import Display, Play

FORMATS = ("json", "csv")
CONTENT_MAX_LENGTH = Play._meta.get_field("content").max_length


class AudienceQuerySerializer(serializers.Serializer):
    # "from" is a Python keyword: the field is renamed in get_fields.
    from_ = StrictDateTimeField(
        required=False, help_text="ISO time: plays started from then. Default: a day before `to`."
    )
    to = StrictDateTimeField(
        required=False,
        help_text="ISO time (excluded). Default: now. At most 31 days after `from` "
        "(a longer range is cut; the answer's `to` says).",
    )
    content = StrictCharField(
        required=False, max_length=CONTENT_MAX_LENGTH, help_text="Only plays of this content."
    )
    format = StrictChoiceField(
        choices=FORMATS, default="json", help_text="json, or csv: one row per play."
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


def label_counts(help_text: str) -> serializers.DictField:
    return serializers.DictField(
        child=serializers.DictField(child=serializers.IntegerField()), help_text=help_text
    )


class PlayAudienceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    content = serializers.CharField(help_text="What the client showed (its heartbeat's showing).")
    started = serializers.DateTimeField()
    ended = serializers.DateTimeField(allow_null=True, help_text="Null while it plays.")
    duration_s = serializers.FloatField(help_text="Seconds it played (so far).")
    impressions = serializers.IntegerField(
        help_text="Distinct tracks of the audience classes in the audience zone while it played."
    )
    mean_dwell_s = serializers.FloatField(
        allow_null=True, help_text="Mean seconds those tracks were there during it (null: none)."
    )
    max_dwell_s = serializers.FloatField(allow_null=True, help_text="The longest (null: none).")
    attributes = label_counts("Per secondary model: tracks per label (one label per track).")


class ContentTotalsSerializer(serializers.Serializer):
    content = serializers.CharField()
    plays = serializers.IntegerField()
    played_s = serializers.FloatField(help_text="Seconds played, summed over its plays.")
    impressions = serializers.IntegerField(help_text="Summed over its plays.")
    mean_dwell_s = serializers.FloatField(allow_null=True, help_text="Over those impressions.")
    max_dwell_s = serializers.FloatField(allow_null=True)
    attributes = label_counts("Per secondary model: label counts summed over its plays.")


class AudienceSerializer(serializers.Serializer):
    display = serializers.IntegerField()
    classes = serializers.ListField(child=serializers.CharField(), help_text="audience_classes")
    zone = serializers.CharField(help_text="audience_zone")
    from_ = serializers.DateTimeField(help_text="Plays started from then ...")
    to = serializers.DateTimeField(help_text="... until then (excluded).")
    plays = PlayAudienceSerializer(many=True, help_text="Oldest first.")
    totals = ContentTotalsSerializer(many=True, help_text="Per content item, by content.")

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class CSVRenderer(renderers.BaseRenderer):
    """An audience answer's plays as CSV (cms.audience.csv_table)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None
    ) -> bytes:
        return plays_csv(list(data["plays"])).encode()


class FormatParameterNegotiation(DefaultContentNegotiation):
    """The renderer ``?format=`` names, JSON for anything else (the query serializer then
    refuses an unknown format with a 400); the Accept header is not consulted."""

    def select_renderer(self, request: Request, renderers: Any, format_suffix: Any = None) -> Any:
        wanted = request.query_params.get("format")
        for renderer in renderers:
            if renderer.format == wanted:
                return renderer, renderer.media_type
        return renderers[0], renderers[0].media_type


class DisplayAudienceView(APIView):
    permission_classes = [OperatorPermissions]
    required_perms = {"GET": ["cms.view_display"]}
    renderer_classes = [renderers.JSONRenderer, CSVRenderer]
    content_negotiation_class = FormatParameterNegotiation

    def handle_exception(self, exc: Exception) -> Response:
        # Errors are JSON, also when CSV was asked for.
        self.request.accepted_renderer = renderers.JSONRenderer()
        self.request.accepted_media_type = renderers.JSONRenderer.media_type
        return super().handle_exception(exc)

    @extend_schema(
        operation_id="displays_audience",
        summary="A display's plays (content shown) with impressions, dwell and labels",
        tags=["displays"],
        parameters=[ID, AudienceQuerySerializer],
        responses={
            (200, "application/json"): AudienceSerializer,
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="With format=csv: one row per play (docs/api.md)."
            ),
            **errors(400, 401, 403, 404),
        },
    )
    def get(self, request: Request, pk: str) -> Response:
        display = get_object_or_404(Display, pk=pk)
        query = AudienceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        start, end = services.report_range(start=params.get("from"), end=params.get("to"))
        report = services.audience_report(
            display, start=start, end=end, content=params.get("content")
        )
        answer = {
            "display": display.pk,
            "classes": display.audience_classes,
            "zone": display.audience_zone,
            "from": report.start,
            "to": report.end,
            "plays": report.plays,
            "totals": report.totals,
        }
        response = Response(AudienceSerializer(answer).data)
        if params["format"] == "csv":
            name = slugify(display.identifier) or str(display.pk)
            response["Content-Disposition"] = f'attachment; filename="audience-{name}.csv"'
        return response
