"""DRF views: parse and check the request, call cms.api.services, serialize the answer."""

from __future__ import annotations

from typing import Any, cast

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView
from rest_framework.viewsets import ModelViewSet

from cms import redis_connection
from cms.api import services
from cms.api.auth import DisplayTokenAuthentication
from cms.api.parsers import JSONParser
from cms.api.permissions import IsDisplayClient, OperatorModelPermissions, OperatorPermissions
from cms.api.schema import errors
from cms.api.serializers import (
    CameraSerializer,
    ClusterSerializer,
    DetailSerializer,
    DetectionModelSerializer,
    DetectionPageSerializer,
    DetectionQuerySerializer,
    DetectionSerializer,
    DisplayConfigSerializer,
    DisplayCreatedSerializer,
    DisplaySerializer,
    DisplayStateSerializer,
    DisplayTokenSerializer,
    DisplayZonesSerializer,
    HeartbeatResponseSerializer,
    HeartbeatSerializer,
    ObjectEventPageSerializer,
    ObjectEventQuerySerializer,
    ZoneStatsQuerySerializer,
    ZoneStatsSerializer,
)
from cms.api.throttling import DisplayRateThrottle
from cms.farm.reconcile import request_reconcile
from cms.models import Camera, DetectionModel, Display

DISPLAY_TAG = "display client"
# Routes take any path segment so a malformed id is a JSON 404 from the view, not Django's page.
ID = OpenApiParameter("id", int, OpenApiParameter.PATH)

# --- display clients ----------------------------------------------------------------------------


class DisplayClientView(APIView):
    # A display client's view: authenticated by its token, it sees only its own display.

    authentication_classes = [DisplayTokenAuthentication]
    permission_classes = [IsDisplayClient]
    throttle_classes = [DisplayRateThrottle]

    @property
    def display(self) -> Display:
        return cast(Display, self.request.auth)  # what DisplayTokenAuthentication authenticates


class DisplayConfigView(DisplayClientView):
    @extend_schema(
        operation_id="display_config",
        summary="The display's configuration",
        tags=[DISPLAY_TAG],
        responses={200: DisplayConfigSerializer, **errors(401, 429)},
    )
    def get(self, request: Request) -> Response:
        return Response(DisplayConfigSerializer(self.display).data)


class DisplayStateView(DisplayClientView):
    @extend_schema(
        operation_id="display_state",
        summary="The display's latest detections",
        tags=[DISPLAY_TAG],
        responses={200: DisplayStateSerializer, **errors(401, 429, 503)},
    )
    def get(self, request: Request) -> Response:
        state = services.display_state(self.display, redis_connection.client())
        return Response(DisplayStateSerializer(state).data)


class DisplayDetectionsView(DisplayClientView):
    @extend_schema(
        operation_id="display_detections",
        summary="The display's detection history, oldest first, cursor-paginated",
        tags=[DISPLAY_TAG],
        parameters=[DetectionQuerySerializer],
        responses={200: DetectionPageSerializer, **errors(400, 401, 429)},
    )
    def get(self, request: Request) -> Response:
        query = DetectionQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        limit = query.validated_data["limit"]
        page, more = services.detection_page(
            self.display, after=query.validated_data.get("after"), limit=limit
        )
        next_url = next_page_url(request, page, more=more, limit=limit)
        return Response(DetectionPageSerializer({"results": page, "next": next_url}).data)


def next_page_url(request: Request, page: list[Any], *, more: bool, limit: int) -> str | None:
    """The URL of the page after ``page`` (its cursor: the last id), or None."""
    if not more:
        return None
    next_url = replace_query_param(request.build_absolute_uri(), "after", page[-1].id)
    return replace_query_param(next_url, "limit", limit)


def object_events_response(request: Request, display: Display) -> Response:
    """A page of the display's object events, for the display client or staff."""
    query = ObjectEventQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    limit = query.validated_data["limit"]
    page, more = services.object_event_page(
        display,
        after=query.validated_data.get("after"),
        limit=limit,
        type=query.validated_data.get("type"),
    )
    next_url = next_page_url(request, page, more=more, limit=limit)
    return Response(ObjectEventPageSerializer({"results": page, "next": next_url}).data)


class DisplayObjectEventsView(DisplayClientView):
    @extend_schema(
        operation_id="display_object_events",
        summary="The display's object events (enter, leave, cross), oldest first, cursor-paginated",
        tags=[DISPLAY_TAG],
        parameters=[ObjectEventQuerySerializer],
        responses={200: ObjectEventPageSerializer, **errors(400, 401, 429)},
    )
    def get(self, request: Request) -> Response:
        return object_events_response(request, self.display)


def zones_response(display: Display) -> Response:
    """The display's objects per zone now, for the display client or staff."""
    zones = services.display_zones(display, redis_connection.client())
    return Response(DisplayZonesSerializer(zones).data)


def stats_response(request: Request, display: Display) -> Response:
    """The display's zone minutes or hours, for the display client or staff."""
    query = ZoneStatsQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    params = query.validated_data
    start, end = services.stats_range(
        start=params.get("from"), end=params.get("to"), bucket=params["bucket"]
    )
    results = services.zone_stats(
        display, zone=params.get("zone"), start=start, end=end, bucket=params["bucket"]
    )
    answer = {"bucket": params["bucket"], "from": start, "to": end, "results": results}
    return Response(ZoneStatsSerializer(answer).data)


class DisplayZonesView(DisplayClientView):
    @extend_schema(
        operation_id="display_zones",
        summary="Objects in each of the display's zones now",
        tags=[DISPLAY_TAG],
        responses={200: DisplayZonesSerializer, **errors(401, 429, 503)},
    )
    def get(self, request: Request) -> Response:
        return zones_response(self.display)


class DisplayStatsView(DisplayClientView):
    @extend_schema(
        operation_id="display_stats",
        summary="Enters, leaves, dwell and most objects per zone, per minute or hour",
        tags=[DISPLAY_TAG],
        parameters=[ZoneStatsQuerySerializer],
        responses={200: ZoneStatsSerializer, **errors(400, 401, 429)},
    )
    def get(self, request: Request) -> Response:
        return stats_response(request, self.display)


class DisplayDetectionView(DisplayClientView):
    @extend_schema(
        operation_id="display_detection",
        summary="One detection of the display",
        tags=[DISPLAY_TAG],
        parameters=[ID],
        responses={200: DetectionSerializer, **errors(401, 404, 429)},
    )
    def get(self, request: Request, pk: str) -> Response:
        detection = get_object_or_404(self.display.detections.all(), pk=pk)
        return Response(DetectionSerializer(detection).data)


class DisplayHeartbeatView(DisplayClientView):
    @extend_schema(
        operation_id="display_heartbeat",
        summary="The display's client says it is alive",
        tags=[DISPLAY_TAG],
        request=HeartbeatSerializer,
        responses={200: HeartbeatResponseSerializer, **errors(400, 401, 415, 429)},
    )
    def post(self, request: Request) -> Response:
        heartbeat = HeartbeatSerializer(data=request.data)
        heartbeat.is_valid(raise_exception=True)
        seen = services.record_heartbeat(self.display, **heartbeat.validated_data)
        answer = {"client_last_seen": seen, "display_updated": self.display.updated}
        return Response(HeartbeatResponseSerializer(answer).data)


# --- operators: cameras, models, displays --------------------------------------------------------

_CRUD_ERRORS = {
    "list": errors(401, 403),
    "create": errors(400, 401, 403, 415),
    "retrieve": errors(401, 403, 404),
    "update": errors(400, 401, 403, 404, 415),
    "partial_update": errors(400, 401, 403, 404, 415),
    "destroy": errors(401, 403, 404),
}


def crud_schema(tag: str, serializer: Any, **overrides: Any) -> Any:
    """extend_schema_view for a ModelViewSet: its tag and every status it may answer."""
    views = {}
    for name, codes in _CRUD_ERRORS.items():
        ok = {"create": 201, "destroy": 204}.get(name, 200)
        body = None if name == "destroy" else serializer
        responses = {ok: body, **codes, **overrides.get(name, {})}
        views[name] = extend_schema(tags=[tag], responses=responses)
    return extend_schema_view(**views)


class OperatorViewSet(ModelViewSet):
    # Staff users (admin session or personal token); Django's model permissions apply.

    permission_classes = [OperatorModelPermissions]
    # Any path segment reaches the view, so a malformed id is a JSON 404, not Django's page.
    lookup_value_regex = "[^/]+"


@crud_schema("cameras", CameraSerializer)
class CameraViewSet(OperatorViewSet):
    """Cameras (staff; Django's camera permissions apply)."""

    queryset = Camera.objects.order_by("id")
    serializer_class = CameraSerializer


@crud_schema("models", DetectionModelSerializer, destroy=errors(409))
class DetectionModelViewSet(OperatorViewSet):
    """AI models; `weights` is uploaded as multipart/form-data (staff; model permissions)."""

    queryset = DetectionModel.objects.order_by("id")
    serializer_class = DetectionModelSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]


@crud_schema("displays", DisplaySerializer, create={201: DisplayCreatedSerializer})
class DisplayViewSet(OperatorViewSet):
    """Displays (staff; display permissions). Creating one returns its token once."""

    queryset = Display.objects.order_by("id")
    serializer_class = DisplaySerializer
    # For rotate-token, which OperatorPermissions checks.
    required_perms = {"POST": ["cms.change_display"]}

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return DisplayCreatedSerializer if self.action == "create" else DisplaySerializer

    @extend_schema(
        operation_id="displays_rotate_token",
        summary="Issue a new client token, revoking the old one",
        tags=["displays"],
        request=None,
        responses={200: DisplayTokenSerializer, **errors(401, 403, 404)},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="rotate-token",
        permission_classes=[OperatorPermissions],
    )
    def rotate_token(self, request: Request, pk: str | None = None) -> Response:
        display = self.get_object()
        token = services.rotate_display_token(display)
        return Response(DisplayTokenSerializer({"id": display.id, "token": token}).data)

    @extend_schema(
        operation_id="displays_object_events",
        summary="A display's object events (enter, leave, cross), oldest first, cursor-paginated",
        tags=["displays"],
        parameters=[ObjectEventQuerySerializer],
        responses={200: ObjectEventPageSerializer, **errors(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["get"], url_path="object-events")
    def object_events(self, request: Request, pk: str | None = None) -> Response:
        return object_events_response(request, self.get_object())

    @extend_schema(
        operation_id="displays_zones",
        summary="Objects in each of a display's zones now",
        tags=["displays"],
        responses={200: DisplayZonesSerializer, **errors(401, 403, 404, 503)},
    )
    @action(detail=True, methods=["get"])
    def zones(self, request: Request, pk: str | None = None) -> Response:
        return zones_response(self.get_object())

    @extend_schema(
        operation_id="displays_stats",
        summary="A display's enters, leaves, dwell and most objects per zone, per minute or hour",
        tags=["displays"],
        parameters=[ZoneStatsQuerySerializer],
        responses={200: ZoneStatsSerializer, **errors(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["get"])
    def stats(self, request: Request, pk: str | None = None) -> Response:
        return stats_response(request, self.get_object())


# --- operators: the farm -------------------------------------------------------------------------


class ClusterView(APIView):
    permission_classes = [OperatorPermissions]
    required_perms = {"GET": ["cms.view_camera"]}

    @extend_schema(
        operation_id="cluster",
        summary="Workers, streams, pending cameras and the last reconcile",
        tags=["cluster"],
        responses={200: ClusterSerializer, **errors(401, 403, 503)},
    )
    def get(self, request: Request) -> Response:
        return Response(
            ClusterSerializer(services.cluster_overview(redis_connection.client())).data
        )


class ReconcileView(APIView):
    permission_classes = [OperatorPermissions]
    required_perms = {"POST": ["cms.change_camera"]}

    @extend_schema(
        operation_id="reconcile",
        summary="Ask for a reconcile now",
        tags=["cluster"],
        request=None,
        responses={202: DetailSerializer, **errors(401, 403)},
    )
    def post(self, request: Request) -> Response:
        request_reconcile(f"requested through the API by {request.user.get_username()}")
        return Response(
            {"detail": "Reconcile requested; it runs within about a second."},
            status=status.HTTP_202_ACCEPTED,
        )


class SnapshotQuerySerializer(serializers.Serializer):
    boxes = serializers.BooleanField(
        required=False, default=False, help_text="Draw the latest detections of its displays."
    )


class CameraSnapshotView(APIView):
    permission_classes = [OperatorPermissions]
    required_perms = {"GET": ["cms.view_camera"]}
    # Errors are JSON whatever the client accepts; the image itself bypasses renderers.
    renderer_classes = [JSONRenderer]

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        operation_id="cameras_snapshot",
        summary="The newest frame of a running camera (JPEG)",
        tags=["cameras"],
        parameters=[ID, SnapshotQuerySerializer],
        responses={
            (200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY, description="The frame."),
            **errors(400, 401, 403, 503),
            404: OpenApiResponse(
                DetailSerializer, description="No such camera, or it is not running (why)."
            ),
        },
    )
    def get(self, request: Request, pk: str) -> HttpResponse | Response:
        query = SnapshotQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        camera = get_object_or_404(Camera, pk=pk)
        try:
            jpeg = services.camera_snapshot(
                camera, redis_connection.client(), boxes=query.validated_data["boxes"]
            )
        except services.NotRunning as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_404_NOT_FOUND)
        return HttpResponse(jpeg, content_type="image/jpeg", headers={"Cache-Control": "no-store"})
