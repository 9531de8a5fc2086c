from django.contrib import admin
from django.urls import path

from cms.weights import weights_view

admin.site.site_header = "Sightline"
admin.site.site_title = "Sightline"
admin.site.index_title = "Cameras, models and displays"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("models/<int:pk>/weights", weights_view, name="model-weights"),
]
