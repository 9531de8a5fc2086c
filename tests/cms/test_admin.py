"""The admin renders for staff, shows form errors instead of 500s, and never shows secrets."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import cv2
import numpy as np
import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from cms import redis_connection
from cms.farm import farm_keys
from cms.farm.heartbeats import StreamInfo
from cms.frame_size import record_frame_size
from cms.models import Camera, Detection, Display, ObjectEvent, ZoneMinute, hash_token
from streams import StreamState
from tests.factories import make_camera, make_display, make_model

pytestmark = pytest.mark.django_db

MODELS = ["camera", "detectionmodel", "display", "detection", "objectevent", "zoneminute"]
SVG = "http://www.w3.org/2000/svg"


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("operator", "", "operator-pass-123")
    client.force_login(user)
    return client


@pytest.mark.parametrize("model", MODELS)
def test_changelist_renders(staff_client, model):
    make_display()
    response = staff_client.get(reverse(f"admin:cms_{model}_changelist"))
    assert response.status_code == 200


@pytest.mark.parametrize("model", ["camera", "detectionmodel", "display"])
def test_add_form_renders(staff_client, model):
    assert staff_client.get(reverse(f"admin:cms_{model}_add")).status_code == 200


def test_change_forms_render(staff_client):
    display = make_display()
    for name, pk in [
        ("camera", display.camera_id),
        ("detectionmodel", display.model_id),
        ("display", display.pk),
    ]:
        assert staff_client.get(reverse(f"admin:cms_{name}_change", args=[pk])).status_code == 200


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("admin:cms_camera_changelist"))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_camera_password_never_rendered(staff_client):
    camera = make_camera(username="viewer", password="hunter2-secret")
    pages = [
        staff_client.get(reverse("admin:cms_camera_changelist")),
        staff_client.get(reverse("admin:cms_camera_change", args=[camera.pk])),
    ]
    for page in pages:
        assert page.status_code == 200
        assert b"hunter2-secret" not in page.content


def camera_form(**overrides):
    data = {
        "name": "Lobby",
        "identifier": "lobby",
        "url": "rtsp://cam.example.com/live",
        "username": "",
        "password": "",
        "snapshot_url": "",
        "snapshot_interval": "1.0",
        "fps": "5",
        "enabled": "on",
    }
    data.update(overrides)
    return data


def test_blank_password_keeps_the_stored_one(staff_client):
    camera = make_camera(username="viewer", password="kept-secret")
    url = reverse("admin:cms_camera_change", args=[camera.pk])
    response = staff_client.post(url, camera_form(identifier=camera.identifier, username="viewer"))
    assert response.status_code == 302
    camera.refresh_from_db()
    assert camera.password == "kept-secret"


def test_password_can_be_cleared(staff_client):
    camera = make_camera(username="viewer", password="old-secret")
    url = reverse("admin:cms_camera_change", args=[camera.pk])
    form = camera_form(identifier=camera.identifier, clear_password="on")
    assert staff_client.post(url, form).status_code == 302
    camera.refresh_from_db()
    assert camera.password == ""


def test_bad_url_is_a_form_error_not_a_500(staff_client):
    response = staff_client.post(
        reverse("admin:cms_camera_add"), camera_form(url="concat:/etc/passwd")
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["url"]
    assert not Camera.objects.exists()


def test_bad_crop_is_a_form_error_not_a_500(staff_client):
    display = make_display()
    data = {
        "name": display.name,
        "identifier": display.identifier,
        "camera": display.camera_id,
        "model": display.model_id,
        "enabled": "on",
        "crop_x1": "50",
        "crop_y1": "0",
        "crop_x2": "10",
        "crop_y2": "10",
        "policy": "every",
        "policy_interval_ms": "1000",
        "min_seen_s": "0.5",
        "max_lost_s": "2.0",
    }
    response = staff_client.post(reverse("admin:cms_display_change", args=[display.pk]), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors


# --- a display's objects: tracking, zones and lines -----------------------------------------

LANE = {"name": "lane", "polygon": [[0, 400], [640, 400], [640, 480]]}


def display_change(staff_client, display, **fields):
    data = {
        "name": display.name,
        "identifier": display.identifier,
        "camera": display.camera_id,
        "model": display.model_id,
        "enabled": "on",
        "policy": "every",
        "policy_interval_ms": "1000",
        "tracking": "on",
        "min_seen_s": "0.5",
        "max_lost_s": "2.0",
        "zones": "[]",
        "lines": "[]",
    }
    data.update(fields)
    return staff_client.post(reverse("admin:cms_display_change", args=[display.pk]), data)


def test_display_page_edits_zones_lines_and_tracking(staff_client):
    display = make_display()
    page = staff_client.get(reverse("admin:cms_display_change", args=[display.pk])).content
    for field in (b'name="zones"', b'name="lines"', b'name="tracking"', b'name="min_seen_s"'):
        assert field in page
    door = {"name": "door", "points": [[320, 0], [320, 480]]}

    response = display_change(
        staff_client,
        display,
        zones=json.dumps([LANE]),
        lines=json.dumps([door]),
        tracking="",
        max_lost_s="5",
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    display.refresh_from_db()
    assert (display.zones, display.lines) == ([LANE], [door])
    assert (display.tracking, display.max_lost_s) == (False, 5.0)


def test_empty_zones_text_means_no_zones(staff_client):
    display = make_display(zones=[LANE])

    assert display_change(staff_client, display, zones="", lines="").status_code == 302

    display.refresh_from_db()
    assert (display.zones, display.lines) == ([], [])


@pytest.mark.parametrize(
    "field, text, message",
    [
        ("zones", '[{"name": "a", "polygon": [[0, 0], [1, 1]]}]', "needs 3 to 64 points, got 2"),
        ("zones", json.dumps([LANE, LANE]), "zones[1].name: 'lane' is already the name"),
        ("zones", '[{"name": "view", "polygon": [[0, 0], [1, 0], [1, 1]]}]', "is reserved"),
        ("zones", '[{"name": "a", "polygon": [[0, 0], [1, 0], [true, 1]]}]', "got a boolean"),
        ("zones", '[{"name": "a", "polygon": [[0, 0], [1, 0], [NaN, 1]]}]', "not NaN"),
        ("zones", '[{"name": "a", "polygon": [[0, 0], [1, 0], [1, 1]], "x": 1}]', "unknown key"),
        ("zones", "[" * 5000 + "]" * 5000, "Not valid JSON: nested too deeply"),
        ("zones", "[" * 200 + "]" * 200, "zones[0]: must be an object"),
        ("zones", "[" * 100_000, "Not valid JSON"),
        ("zones", "[" + "9" * 5000 + "]", "Not valid JSON"),
        ("zones", "lane", "Not valid JSON"),
        ("lines", '[{"name": "door", "points": [[1, 1], [1, 1]]}]', "the two points must differ"),
        ("lines", '{"door": [[1, 1], [2, 2]]}', "lines: must be a list, got an object"),
    ],
)
def test_bad_zones_and_lines_are_errors_on_their_field(staff_client, field, text, message):
    display = make_display()

    response = display_change(staff_client, display, **{field: text})

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == [field]
    assert any(message in m for m in errors[field]), errors[field]
    assert message.replace("'", "&#x27;").encode() in response.content or "JSON" in message


def test_points_outside_the_frame_are_an_error_on_the_field(staff_client):
    display = make_display()
    record_frame_size(display.camera_id, 320, 240)

    response = display_change(staff_client, display, zones=json.dumps([LANE]))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["zones"]
    assert "outside the camera's 320x240 frame" in errors["zones"][0]


def test_camera_page_shows_the_frame_size_read_only(staff_client):
    camera = make_camera()
    page = reverse("admin:cms_camera_change", args=[camera.pk])
    assert b"not known yet" in staff_client.get(page).content
    record_frame_size(camera.pk, 1280, 720)

    content = staff_client.get(page).content

    assert b"1280 x 720 pixels" in content
    assert b'name="frame_width"' not in content


def test_new_display_token_is_shown_once_and_works(staff_client):
    display = make_display()
    data = {
        "name": "Entrance",
        "identifier": "entrance",
        "camera": display.camera_id,
        "model": display.model_id,
        "enabled": "on",
        "policy": "every",
        "policy_interval_ms": "1000",
        "min_seen_s": "0.5",
        "max_lost_s": "2.0",
    }
    response = staff_client.post(reverse("admin:cms_display_add"), data, follow=True)
    assert response.status_code == 200
    [message] = [str(m) for m in response.context["messages"] if "<code>" in str(m)]
    token = message.split("<code>")[1].split("</code>")[0]
    created = Display.objects.get(identifier="entrance")
    assert created.token_hash == hash_token(token)
    # Not shown again on the next page.
    again = staff_client.get(reverse("admin:cms_display_change", args=[created.pk]))
    assert token.encode() not in again.content


def test_rotate_token_action_revokes_the_old_token(staff_client):
    display = make_display()
    old_hash = display.token_hash
    response = staff_client.post(
        reverse("admin:cms_display_changelist"),
        {"action": "rotate_tokens", "_selected_action": [display.pk]},
        follow=True,
    )
    assert response.status_code == 200
    display.refresh_from_db()
    assert display.token_hash != old_hash


# --- the admin's front door -----------------------------------------------------------------


def test_admin_index_links_the_farm_and_the_dead_letters(staff_client):
    page = staff_client.get(reverse("admin:index")).content.decode()

    assert f'href="{reverse("admin-farm")}"' in page
    assert f'href="{reverse("admin-dead-letters")}"' in page
    assert "Recent actions" in page  # still Django's own index around the links


def test_view_site_leads_to_a_home_page_with_the_admin_the_api_docs_and_flower(
    staff_client, client
):
    admin_page = staff_client.get(reverse("admin:index")).content.decode()
    assert f'href="{admin.site.site_url}"' in admin_page and admin.site.site_url == "/"

    home = client.get("/")  # anonymous: links only

    assert home.status_code == 200
    html = home.content.decode()
    for link in ['href="/admin/"', 'href="/api/docs/"', 'href="/admin/farm/"', "Flower"]:
        assert link in html


# --- detections -------------------------------------------------------------------------------


def make_detection(display, **fields):
    values = {
        "display": display,
        "camera": display.camera,
        "model": display.model,
        "generation": 1,
        "frame_seq": 1,
        "frame_time": timezone.now(),
        "key": f"key-{Detection.objects.count()}-secret-idempotency",
        "detected_objects": [
            {"class_id": 0, "class_name": "person", "confidence": 0.875, "box": [10, 20, 110, 220]}
        ],
    }
    values.update(fields)
    return Detection.objects.create(**values)


def test_detections_list_newest_first_with_times_to_the_second(staff_client):
    display = make_display()
    moment = timezone.now().replace(microsecond=0)
    older = make_detection(display, frame_time=moment - timedelta(seconds=7))
    newer = make_detection(display, frame_time=moment)

    page = staff_client.get(reverse("admin:cms_detection_changelist"))

    assert [d.pk for d in page.context["cl"].result_list] == [newer.pk, older.pk]
    assert f"{timezone.localtime(moment):%Y-%m-%d %H:%M:%S}" in page.content.decode()


def test_detection_page_shows_objects_as_a_table_and_no_key(staff_client):
    detection = make_detection(make_display())

    page = staff_client.get(reverse("admin:cms_detection_change", args=[detection.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert "secret-idempotency" not in html
    assert '<table class="detection-objects">' in html
    assert "<td>person</td>" in html and "0.875" in html and "10, 20, 110, 220" in html
    frame_url = reverse("admin:cms_detection_frame", args=[detection.pk])
    assert f'src="{frame_url}"' in html
    assert "on a blank frame" in html


def decode(response):
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    return cv2.imdecode(np.frombuffer(response.content, np.uint8), cv2.IMREAD_COLOR)


def test_detection_frame_is_its_boxes_on_the_current_frame_or_a_blank_one(
    staff_client, redis_client
):
    detection = make_detection(make_display())
    url = reverse("admin:cms_detection_frame", args=[detection.pk])

    blank = decode(staff_client.get(url))
    assert blank.shape[:2] == (480, 640)
    assert not np.allclose(blank[20, 60], blank[300, 400], atol=30)  # a box edge is drawn

    frame = np.zeros((720, 1280, 3), np.uint8)
    farm_keys.write_snapshot(
        redis_connection.client(), detection.camera_id, cv2.imencode(".jpg", frame)[1].tobytes()
    )
    drawn = decode(staff_client.get(url))
    assert drawn.shape[:2] == (720, 1280)
    page = staff_client.get(reverse("admin:cms_detection_change", args=[detection.pk]))
    assert "camera&#x27;s current frame, not on the frame" in page.content.decode()


def test_detection_frame_needs_view_permission(client, django_user_model):
    detection = make_detection(make_display())
    user = django_user_model.objects.create_user("clerk", password="pw-123456", is_staff=True)
    client.force_login(user)

    response = client.get(reverse("admin:cms_detection_frame", args=[detection.pk]))

    assert response.status_code == 403


def test_a_display_that_cannot_run_shows_pending_with_why(staff_client, redis_client):
    make_display(name="Hall", model=make_model(enabled=False))
    broken = make_display(name="Dock")
    farm_keys.write_stream(
        redis_client,
        StreamInfo(
            broken.camera_id, "w1", 1, "s", StreamState.ONLINE,
            display_errors=((broken.id, "model m 1: not a checkpoint"),),
        ),
    )  # fmt: skip

    listing = staff_client.get(reverse("admin:cms_display_changelist")).content.decode()
    page = staff_client.get(reverse("admin:cms_display_change", args=[broken.pk]))

    assert "pending: its model is disabled" in listing
    assert "pending: its model failed to load: model m 1: not a checkpoint" in listing
    assert "pending: its model failed to load" in page.content.decode()


def test_weights_that_are_not_a_model_are_a_form_error(staff_client, settings, tmp_path):
    import os

    from django.core.files.uploadedfile import SimpleUploadedFile

    from cms.models import DetectionModel

    settings.MEDIA_ROOT = tmp_path
    form = {
        "name": "junk",
        "version": "1",
        "weights": SimpleUploadedFile("junk.pt", b"junk" + os.urandom(2044)),
        "confidence": "0.25",
        "iou": "0.7",
        "imgsz": "640",
        "enabled": "on",
    }
    response = staff_client.post(reverse("admin:cms_detectionmodel_add"), form)

    assert response.status_code == 200  # the form again, with the error
    assert "Not a PyTorch weights file" in response.content.decode()
    assert not DetectionModel.objects.exists()


def test_a_display_on_a_classify_model_is_a_form_error(staff_client):
    camera = make_camera()
    model = make_model()
    model.task = "classify"
    model.save(update_fields=["task"])
    form = {
        "name": "Hall",
        "identifier": "hall",
        "camera": camera.pk,
        "model": model.pk,
        "policy": "every",
        "policy_interval_ms": "1000",
        "min_seen_s": "0.5",
        "max_lost_s": "2.0",
        "enabled": "on",
    }
    response = staff_client.post(reverse("admin:cms_display_add"), form)

    assert response.status_code == 200
    assert "not a detection model" in response.content.decode()
    assert not Display.objects.exists()


def make_object_event(display, **fields):
    values = {
        "display": display, "camera": display.camera, "generation": 1, "type": "enter",
        "track_id": 1, "class_id": 2, "class_name": "car", "time": timezone.now(),
        "box": [1, 2, 3, 4], "zone": "lane",
    }  # fmt: skip
    values.update(fields)
    values.setdefault("key", f"{display.pk}:{values['type']}:{values['track_id']}")
    return ObjectEvent.objects.create(**values)


def test_object_events_are_listed_read_only_filtered_and_searched_by_track(staff_client):
    display, other = make_display(), make_display()
    make_object_event(display, track_id=41)
    make_object_event(display, track_id=42, type="leave", dwell_s=3.0)
    make_object_event(display, track_id=43, type="cross", zone="", line="door", direction="in")
    make_object_event(other, track_id=44, zone="window")
    url = reverse("admin:cms_objectevent_changelist")

    def listed(**query):
        response = staff_client.get(url, query)
        assert response.status_code == 200
        return sorted(row.track_id for row in response.context["cl"].result_list)

    assert listed() == [41, 42, 43, 44]
    assert listed(display__id__exact=display.pk) == [41, 42, 43]
    assert listed(type__exact="leave") == [42]
    assert listed(zone__exact="window") == [44]
    assert listed(q="43") == [43]
    assert listed(q="car") == [41, 42, 43, 44]
    assert listed(q="not-a-number") == []
    today = timezone.localdate()
    assert listed(time__year=today.year, time__month=today.month) == [41, 42, 43, 44]
    event = ObjectEvent.objects.get(track_id=42)
    page = staff_client.get(reverse("admin:cms_objectevent_change", args=[event.pk]))
    assert page.status_code == 200 and b"Save" not in page.content
    assert staff_client.get(reverse("admin:cms_objectevent_add")).status_code == 403


# --- objects per zone over time --------------------------------------------------------------

DOOR = {"name": "door", "polygon": [[20, 20], [40, 20], [40, 40]]}


def zone_chart_of(page: str) -> ET.Element:
    """The display page's objects-per-zone chart, parsed (its markup is HTML-embedded SVG)."""
    found = re.search(
        r'<svg class="count-chart"[^>]*aria-label="Objects per zone.*?</svg>', page, re.S
    )
    assert found, "no objects-per-zone chart on the page"
    return ET.fromstring(found.group(0).replace("<svg ", f'<svg xmlns="{SVG}" ', 1))


def svg_texts(root: ET.Element, cls: str) -> list[str]:
    return [t.text or "" for t in root.iter(f"{{{SVG}}}text") if cls in t.get("class", "")]


def test_tracking_display_page_charts_objects_per_zone_over_time(staff_client, settings):
    settings.TIME_ZONE = "Europe/Berlin"  # ticks and tooltips in the site's time zone
    display = make_display(tracking=True, zones=[LANE, DOOR])
    now = timezone.now().replace(second=0, microsecond=0)
    rows = [
        ("view", 2, 5, 3, 2),  # (zone, minutes ago, max_count, entered, left)
        ("view", 1, 3, 0, 2),
        ("lane", 2, 4, 2, 0),
        ("lane", 1, 2, 1, 2),
        ("gone", 30, 1, 1, 1),  # a zone since removed from the display
        ("lane", 200, 9, 7, 7),  # before the chart's 3 hours
    ]
    for zone, ago, count, entered, left in rows:
        ZoneMinute.objects.create(
            display=display, zone=zone, minute=now - timedelta(minutes=ago),
            max_count=count, entered=entered, left=left,
        )  # fmt: skip
    make_display(tracking=True)  # another display's rows stay off this chart
    ZoneMinute.objects.create(display=Display.objects.last(), zone="view", minute=now, max_count=50)

    page = staff_client.get(reverse("admin:cms_display_change", args=[display.pk])).content.decode()

    root = zone_chart_of(page)
    series = [g.get("data-series") for g in root.iter(f"{{{SVG}}}g")]
    assert series == ["view", "lane", "door", "gone"]  # view, the drawn zones, then the rest
    assert svg_texts(root, "chart-legend") == [
        "view (peak 5)", "lane (peak 4)", "door (peak 0)", "gone (peak 1)",
    ]  # fmt: skip
    local = {ago: f"{timezone.localtime(now - timedelta(minutes=ago)):%H:%M}" for ago in (1, 2, 30)}
    tooltips = [c.find(f"{{{SVG}}}title").text for c in root.iter(f"{{{SVG}}}circle")]
    assert tooltips == [
        f"{local[2]} view: 5 objects",
        f"{local[1]} view: 3 objects",
        f"{local[2]} lane: 4 objects",
        f"{local[1]} lane: 2 objects",
        f"{local[30]} gone: 1 objects",
    ]
    assert svg_texts(root, "chart-y-tick") == ["0", "1", "2", "3", "4", "5"]
    assert svg_texts(root, "chart-label") == ["time (Europe/Berlin)", "objects at once"]
    assert svg_texts(root, "chart-x-tick")  # HH:MM ticks along the time axis
    assert all(re.fullmatch(r"\d\d:\d\d", t) for t in svg_texts(root, "chart-x-tick"))
    # enters and leaves per zone over the same 3 hours, under the chart
    moves = re.findall(
        r'<tr><td>([^<]*)</td><td class="num">(\d+)</td><td class="num">(\d+)</td></tr>',
        page.split("Enters and leaves", 1)[1].split("</table>", 1)[0],
    )
    assert moves == [("view", "3", "4"), ("lane", "3", "2"), ("door", "0", "0"), ("gone", "1", "1")]
    # the detections chart stays
    assert 'aria-label="Detections delivered per minute, last 3 hours"' in page


def test_display_without_tracking_has_no_zone_chart(staff_client):
    display = make_display(tracking=False, zones=[LANE])

    page = staff_client.get(reverse("admin:cms_display_change", args=[display.pk])).content.decode()

    assert 'aria-label="Objects per zone' not in page and "Enters and leaves" not in page
    assert 'aria-label="Detections delivered per minute, last 3 hours"' in page


def test_zone_minutes_are_listed_read_only_filtered_by_display_zone_and_date(staff_client):
    display, other = make_display(tracking=True), make_display(tracking=True)
    minute = timezone.now().replace(second=0, microsecond=0)
    for d, zone, count in [(display, "view", 2), (display, "lane", 1), (other, "view", 7)]:
        ZoneMinute.objects.create(display=d, zone=zone, minute=minute, max_count=count)
    url = reverse("admin:cms_zoneminute_changelist")

    def listed(**query):
        response = staff_client.get(url, query)
        assert response.status_code == 200
        return sorted(row.max_count for row in response.context["cl"].result_list)

    assert listed() == [1, 2, 7]
    assert listed(display__id__exact=display.pk) == [1, 2]
    assert listed(zone__exact="view") == [2, 7]
    today = timezone.localdate(minute)
    assert listed(minute__year=today.year, minute__month=today.month, minute__day=today.day) == [
        1, 2, 7,
    ]  # fmt: skip
    row = ZoneMinute.objects.get(max_count=2)
    page = staff_client.get(reverse("admin:cms_zoneminute_change", args=[row.pk]))
    assert page.status_code == 200 and b"Save" not in page.content
    assert staff_client.get(reverse("admin:cms_zoneminute_add")).status_code == 403
