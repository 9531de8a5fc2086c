"""Display sessions: the display client's at /display/session(s)/, any display's for staff at
/displays/{id}/session(s)/ (cms.display_sessions.services does the work)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cms.api import services
from cms.api.permissions import OperatorPermissions
from cms.api.schema import errors
from cms.api.serializers import DetailSerializer
from cms.api.session_serializers import (
    DisplaySessionPageSerializer,
    DisplaySessionQuerySerializer,
    DisplaySessionSerializer,
    SessionStartSerializer,
)
from cms.api.views import DISPLAY_TAG, ID, DisplayClientView, next_page_url
from cms.display_sessions import services as sessions
from cms.models import Display, DisplaySession

NO_SESSION = "No session is open."
STAFF_TAG = "displays"


def _no_session(description: str) -> dict[int, OpenApiResponse]:
    return {404: OpenApiResponse(DetailSerializer, description=description)}


def _started() -> dict[int, Any]:
    return {
        201: OpenApiResponse(DisplaySessionSerializer, description="Started (a new session)."),
        200: OpenApiResponse(
            DisplaySessionSerializer,
            description="A session with this session_id is open already: it goes on.",
        ),
    }


def open_session_response(display: Display) -> Response:
    session = sessions.open_session(display)
    if session is None:
        return Response({"detail": NO_SESSION}, status=status.HTTP_404_NOT_FOUND)
    return Response(DisplaySessionSerializer(session).data)


def start_session_response(request: Request, display: Display) -> Response:
    body = SessionStartSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    session, started = sessions.start_session(
        display=display, session_id=body.validated_data["session_id"]
    )
    code = status.HTTP_201_CREATED if started else status.HTTP_200_OK
    return Response(DisplaySessionSerializer(session).data, status=code)


def end_session_response(display: Display, reason: DisplaySession.EndReason) -> Response:
    session = sessions.end_session(display=display, reason=reason)
    if session is None:
        return Response({"detail": NO_SESSION}, status=status.HTTP_404_NOT_FOUND)
    return Response(DisplaySessionSerializer(session).data)


def closed_sessions_response(request: Request, display: Display) -> Response:
    query = DisplaySessionQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    limit = query.validated_data["limit"]
    # Sessions of a display close in id order (a start ends the open one first), so an id
    # cursor over the ended ones never skips one that ends later.
    page, more = services.cursor_page(
        DisplaySession.objects.filter(display=display, ended__isnull=False),
        after=query.validated_data.get("after"),
        limit=limit,
    )
    next_url = next_page_url(request, page, more=more, limit=limit)
    return Response(DisplaySessionPageSerializer({"results": page, "next": next_url}).data)


# --- display clients ----------------------------------------------------------------------------


class DisplaySessionView(DisplayClientView):
    @extend_schema(
        operation_id="display_session",
        summary="The display's open session, with its live summary",
        tags=[DISPLAY_TAG],
        responses={200: DisplaySessionSerializer, **errors(401, 429), **_no_session(NO_SESSION)},
    )
    def get(self, request: Request) -> Response:
        return open_session_response(self.display)

    @extend_schema(
        operation_id="display_session_start",
        summary="Start a session (ending the open one): the display's results carry its id",
        tags=[DISPLAY_TAG],
        request=SessionStartSerializer,
        responses={**_started(), **errors(400, 401, 415, 429)},
    )
    def post(self, request: Request) -> Response:
        return start_session_response(request, self.display)

    @extend_schema(
        operation_id="display_session_end",
        summary="End the open session; returns it with its final summary",
        tags=[DISPLAY_TAG],
        responses={200: DisplaySessionSerializer, **errors(401, 429), **_no_session(NO_SESSION)},
    )
    def delete(self, request: Request) -> Response:
        return end_session_response(self.display, DisplaySession.EndReason.CLIENT)


class DisplaySessionsView(DisplayClientView):
    @extend_schema(
        operation_id="display_sessions",
        summary="The display's ended sessions, oldest first, cursor-paginated",
        tags=[DISPLAY_TAG],
        parameters=[DisplaySessionQuerySerializer],
        responses={200: DisplaySessionPageSerializer, **errors(400, 401, 429)},
    )
    def get(self, request: Request) -> Response:
        return closed_sessions_response(request, self.display)


# --- staff --------------------------------------------------------------------------------------


class StaffView(APIView):
    permission_classes = [OperatorPermissions]
    required_perms = {
        "GET": ["cms.view_display"],
        "POST": ["cms.change_display"],
        "DELETE": ["cms.change_display"],
    }


STAFF_NO_SESSION = "No such display, or no session of it is open."


class StaffDisplaySessionView(StaffView):
    @extend_schema(
        operation_id="displays_session",
        summary="A display's open session, with its live summary",
        tags=[STAFF_TAG],
        parameters=[ID],
        responses={
            200: DisplaySessionSerializer,
            **errors(401, 403),
            **_no_session(STAFF_NO_SESSION),
        },
    )
    def get(self, request: Request, pk: str) -> Response:
        return open_session_response(get_object_or_404(Display, pk=pk))

    @extend_schema(
        operation_id="displays_session_start",
        summary="Start a session on a display (ending its open one)",
        tags=[STAFF_TAG],
        parameters=[ID],
        request=SessionStartSerializer,
        responses={**_started(), **errors(400, 401, 403, 404, 415)},
    )
    def post(self, request: Request, pk: str) -> Response:
        return start_session_response(request, get_object_or_404(Display, pk=pk))

    @extend_schema(
        operation_id="displays_session_end",
        summary="End a display's open session; returns it with its final summary",
        tags=[STAFF_TAG],
        parameters=[ID],
        responses={
            200: DisplaySessionSerializer,
            **errors(401, 403),
            **_no_session(STAFF_NO_SESSION),
        },
    )
    def delete(self, request: Request, pk: str) -> Response:
        display = get_object_or_404(Display, pk=pk)
        return end_session_response(display, DisplaySession.EndReason.STAFF)


class StaffDisplaySessionsView(StaffView):
    @extend_schema(
        operation_id="displays_sessions",
        summary="A display's ended sessions, oldest first, cursor-paginated",
        tags=[STAFF_TAG],
        parameters=[ID, DisplaySessionQuerySerializer],
        responses={200: DisplaySessionPageSerializer, **errors(400, 401, 403, 404)},
    )
    def get(self, request: Request, pk: str) -> Response:
        return closed_sessions_response(request, get_object_or_404(Display, pk=pk))
