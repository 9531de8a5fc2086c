from django.contrib import admin
from django.urls import include, path

from cms.admin_views import (
    dead_letters_view,
    farm_dashboard_view,
    farm_health_series_view,
    farm_health_view,
    farm_state_view,
    home_view,
    live_frame_view,
    live_wall_state_view,
    live_wall_view,
    reconcile_now_view,
    restart_camera_view,
)
from cms.internal_api import camera_assignment_view, camera_source_view, model_source_view
from cms.metrics import metrics_view
from cms.timeline_views import timeline_detail_view, timeline_frame_view, timeline_view
from cms.weights import weights_view

admin.site.site_header = "Sightline"
admin.site.site_title = "Sightline"
admin.site.index_title = "Cameras, models and displays"
# Django's own admin/index.html plus the Farm and Dead letters links, whatever the app order.
admin.site.index_template = "admin/sightline_index.html"
# "View site": the home page, which links the admin, the API docs and Flower.
admin.site.site_url = "/"

urlpatterns = [
    path("", home_view, name="home"),
    path("admin/farm/", admin.site.admin_view(farm_dashboard_view), name="admin-farm"),
    path("admin/farm/state.json", admin.site.admin_view(farm_state_view), name="admin-farm-state"),
    path("admin/farm/health/", admin.site.admin_view(farm_health_view), name="admin-farm-health"),
    path(
        "admin/farm/health/series.json",
        admin.site.admin_view(farm_health_series_view),
        name="admin-farm-health-series",
    ),
    path(
        "admin/farm/reconcile/",
        admin.site.admin_view(reconcile_now_view),
        name="admin-farm-reconcile",
    ),
    path(
        "admin/farm/cameras/<int:camera_id>/restart/",
        admin.site.admin_view(restart_camera_view),
        name="admin-camera-restart",
    ),
    path(
        "admin/dead-letters/",
        admin.site.admin_view(dead_letters_view),
        name="admin-dead-letters",
    ),
    path("admin/live/", admin.site.admin_view(live_wall_view), name="admin-live"),
    path(
        "admin/live/state.json",
        admin.site.admin_view(live_wall_state_view),
        name="admin-live-state",
    ),
    # cacheable: admin_view would add no-store, and the frame's ETag needs the browser's cache.
    path(
        "admin/live/cameras/<int:camera_id>/frame.jpg",
        admin.site.admin_view(live_frame_view, cacheable=True),
        name="admin-live-frame",
    ),
    path("admin/timeline/", admin.site.admin_view(timeline_view), name="admin-timeline"),
    path(
        "admin/timeline/<str:kind>/<int:pk>/",
        admin.site.admin_view(timeline_detail_view),
        name="admin-timeline-detail",
    ),
    # cacheable: a stored thumbnail does not change, so the browser may keep it (ETag too).
    path(
        "admin/timeline/<str:kind>/<int:pk>/frame.jpg",
        admin.site.admin_view(timeline_frame_view, cacheable=True),
        name="admin-timeline-frame",
    ),
    path("admin/", admin.site.urls),
    # REST API /api/v1/, OpenAPI schema /api/schema/, Swagger UI /api/docs/ (docs/api.md).
    path("api/", include("cms.api.urls")),
    path("models/<int:pk>/weights", weights_view, name="model-weights"),
    # For ingest workers only (worker secret), outside the public API (cms.internal_api).
    path(
        "internal/v1/cameras/<int:camera_id>/source",
        camera_source_view,
        name="internal-camera-source",
    ),
    path(
        "internal/v1/cameras/<int:camera_id>/assignment",
        camera_assignment_view,
        name="internal-camera-assignment",
    ),
    path(
        "internal/v1/models/<int:model_id>/source",
        model_source_view,
        name="internal-model-source",
    ),
    # Prometheus: the farm's workers, streams, reconcile and results path.
    path("metrics", metrics_view, name="metrics"),
]
