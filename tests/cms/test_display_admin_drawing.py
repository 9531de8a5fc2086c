"""The display page: the drawing board, the live zone counts (and their staff JSON), the chart."""

from __future__ import annotations

import json

import orjson
import pytest
from django.test import Client
from django.urls import reverse

from cms import live
from cms.models import Detection
from tests.factories import make_display

pytestmark = pytest.mark.django_db

ZONES = [{"name": "lane", "polygon": [[0, 0], [100, 0], [100, 100]]}]


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("operator", "", "operator-pass-123")
    client.force_login(user)
    return client


def deliver(redis_client, display, objects):
    """The display's newest result, as the results path leaves it in Redis."""
    event = {"id": 1, "frame_seq": 1, "frame_time": "2026-12-01T12:00:00Z", "objects": objects}
    redis_client.set(live.latest_key(display.pk), orjson.dumps(event))


def test_zone_counts_view_counts_the_newest_result_per_zone_and_class(staff_client, redis_client):
    display = make_display(zones=ZONES)
    deliver(
        redis_client,
        display,
        [
            {"class_name": "car", "class_id": 2, "zones": ["lane"]},
            {"class_name": "person", "class_id": 0, "zones": []},
        ],
    )

    response = staff_client.get(reverse("admin:cms_display_zones", args=[display.pk]))

    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert response.json() == [
        {"zone": "view", "count": 2, "by_class": {"car": 1, "person": 1}},
        {"zone": "lane", "count": 1, "by_class": {"car": 1}},
    ]


def test_zone_counts_view_without_a_result_lists_every_zone_at_zero(staff_client, redis_client):
    display = make_display(zones=ZONES)

    response = staff_client.get(reverse("admin:cms_display_zones", args=[display.pk]))

    assert [(z["zone"], z["count"]) for z in response.json()] == [("view", 0), ("lane", 0)]


def test_zone_counts_view_needs_staff_and_a_display(staff_client, django_user_model):
    display = make_display()
    url = reverse("admin:cms_display_zones", args=[display.pk])
    assert staff_client.get(reverse("admin:cms_display_zones", args=[999999])).status_code == 404
    anonymous = Client()
    assert anonymous.get(url).status_code == 302  # to the login page
    clerk = django_user_model.objects.create_user("clerk", password="pw-123456", is_staff=True)
    anonymous.force_login(clerk)
    assert anonymous.get(url).status_code == 403


def test_display_page_has_the_drawing_board_the_counts_and_the_chart(staff_client, redis_client):
    display = make_display(zones=ZONES, crop_x1=1, crop_y1=2, crop_x2=30, crop_y2=40)
    Detection.objects.create(
        display=display,
        camera=display.camera,
        model=display.model,
        generation=1,
        frame_seq=1,
        frame_time=display.created,
        key="k1",
        detected_objects=[],
    )
    deliver(
        redis_client,
        display,
        [{"class_name": "car", "class_id": 2, "confidence": 0.9, "zones": ["lane"]}],
    )

    html = staff_client.get(reverse("admin:cms_display_change", args=[display.pk])).content
    page = html.decode()

    assert "cms/geometry_editor.js" in page and "cms/zone_counts.js" in page
    assert f'data-camera="{display.camera_id}"' in page
    assert 'data-snapshot-url="/api/v1/cameras/{camera}/snapshot.jpg"' in page
    stored = page.split('data-geometry="', 1)[1].split('"', 1)[0].replace("&quot;", '"')
    assert json.loads(stored) == {"zones": ZONES, "lines": [], "crop": [1, 2, 30, 40]}
    assert "No frame yet: the camera is not streaming" in page
    assert reverse("admin:cms_display_zones", args=[display.pk]) in page
    assert '<tr><td>lane</td><td class="num">1</td><td>car 1</td></tr>' in page
    assert 'class="count-chart"' in page and "chart-x-tick" in page
    assert "detections (peak 1, total 1)" in page
    assert "<script>" not in page.split("</head>", 1)[1]  # no inline script: files only


def test_add_page_has_the_drawing_board_waiting_for_a_camera(staff_client):
    page = staff_client.get(reverse("admin:cms_display_add")).content.decode()

    assert "data-geometry-editor" in page
    assert "Choose a camera to see its newest frame." in page
    assert "data-zone-counts-url" not in page
