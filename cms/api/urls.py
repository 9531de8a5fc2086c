"""``/api/``: the v1 API, its OpenAPI schema and Swagger UI."""

from __future__ import annotations

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from cms.api import session_views, views
from cms.api.audience import DisplayAudienceView
from cms.api.events import display_events
from cms.api.schema import DisplayTokenScheme  # noqa: F401  (registers the auth scheme)

router = SimpleRouter()
router.register("cameras", views.CameraViewSet, basename="camera")
router.register("models", views.DetectionModelViewSet, basename="model")
router.register("displays", views.DisplayViewSet, basename="display")

v1 = [
    path("display/", views.DisplayConfigView.as_view(), name="display-config"),
    path("display/state/", views.DisplayStateView.as_view(), name="display-state"),
    path("display/detections/", views.DisplayDetectionsView.as_view(), name="display-detections"),
    path(
        "display/detections/<str:pk>/",
        views.DisplayDetectionView.as_view(),
        name="display-detection",
    ),
    path("display/events/", display_events, name="display-events"),
    path(
        "display/object-events/",
        views.DisplayObjectEventsView.as_view(),
        name="display-object-events",
    ),
    path("display/zones/", views.DisplayZonesView.as_view(), name="display-zones"),
    path("display/stats/", views.DisplayStatsView.as_view(), name="display-stats"),
    path("display/heartbeat/", views.DisplayHeartbeatView.as_view(), name="display-heartbeat"),
    path("display/session/", session_views.DisplaySessionView.as_view(), name="display-session"),
    path("display/sessions/", session_views.DisplaySessionsView.as_view(), name="display-sessions"),
    path(
        "displays/<str:pk>/session/",
        session_views.StaffDisplaySessionView.as_view(),
        name="displays-session",
    ),
    path(
        "displays/<str:pk>/sessions/",
        session_views.StaffDisplaySessionsView.as_view(),
        name="displays-sessions",
    ),
    path(
        "cameras/<str:pk>/snapshot.jpg",
        views.CameraSnapshotView.as_view(),
        name="camera-snapshot",
    ),
    path("displays/<str:pk>/audience/", DisplayAudienceView.as_view(), name="display-audience"),
    path("cluster/", views.ClusterView.as_view(), name="cluster"),
    path("reconcile/", views.ReconcileView.as_view(), name="reconcile"),
    *router.urls,
]

app_name = "api"
urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
]
