"""The display's "Audience" admin page: linked from the display, charts per content, plays."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cms.models import Display, ObjectEvent, Play
from tests.cms.test_admin import LANE, display_change
from tests.factories import make_display

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("operator", "", "operator-pass-123")
    client.force_login(user)
    return client


@pytest.fixture
def watched() -> Display:
    display = make_display()
    now = timezone.now()
    for content, ago in (("promo", 600), ("menu", 300)):
        Play.objects.create(
            display=display,
            content=content,
            started=now - timedelta(seconds=ago),
            ended=now - timedelta(seconds=ago - 300),
        )
    ObjectEvent.objects.create(
        display=display,
        camera_id=display.camera_id,
        generation=1,
        key="k1",
        type="leave",
        track_id=1,
        class_id=0,
        class_name="person",
        time=now - timedelta(seconds=400),
        box=[0, 0, 1, 1],
        zone="view",
        dwell_s=30.0,
        attributes={"colour": {"label": "red", "confidence": 0.9}},
    )
    return display


def test_the_display_page_links_its_audience_page(staff_client, watched):
    page = staff_client.get(reverse("admin:cms_display_change", args=[watched.pk])).content
    assert reverse("admin:cms_display_audience", args=[watched.pk]).encode() in page
    assert b'name="audience_classes"' in page and b'name="audience_zone"' in page


def test_the_audience_page_charts_each_content_item_and_lists_the_plays(staff_client, watched):
    response = staff_client.get(reverse("admin:cms_display_audience", args=[watched.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    charts = response.context["charts"]
    assert len(charts) == 2
    for chart in charts:
        ET.fromstring(str(chart))  # well-formed SVG
    assert "promo: impressions per play" in html and "menu: impressions per play" in html
    plays = response.context["plays"]
    assert [(p["content"], p["impressions"]) for p in plays] == [("menu", 0), ("promo", 1)]
    assert "colour: red 1" in html


def test_the_audience_page_takes_a_range_in_hours(staff_client, watched):
    url = reverse("admin:cms_display_audience", args=[watched.pk])
    assert staff_client.get(url, {"hours": "1"}).context["hours"] == 1
    assert staff_client.get(url, {"hours": "nonsense"}).context["hours"] == 24
    assert staff_client.get(url, {"hours": "100000"}).context["hours"] == 24


def test_the_audience_page_is_for_staff_who_may_view_displays(client, django_user_model, watched):
    url = reverse("admin:cms_display_audience", args=[watched.pk])
    assert client.get(url).status_code == 302  # to the login page
    user = django_user_model.objects.create_user("plain", "", "plain-pass-123", is_staff=True)
    client.force_login(user)
    assert client.get(url).status_code == 403


def test_audience_settings_are_edited_and_checked_in_the_admin(staff_client):
    display = make_display(zones=[LANE])
    bad = display_change(
        staff_client, display, zones=json.dumps([LANE]), audience_zone="kerb", audience_classes="[]"
    )
    assert bad.status_code == 200
    assert "audience_zone" in bad.context["adminform"].form.errors

    ok = display_change(
        staff_client,
        display,
        zones=json.dumps([LANE]),
        audience_zone="lane",
        audience_classes='["person", "car"]',
    )
    assert ok.status_code == 302, ok.context["adminform"].form.errors
    display.refresh_from_db()
    assert (display.audience_zone, display.audience_classes) == ("lane", ["person", "car"])


def test_empty_audience_settings_in_the_admin_are_the_defaults(staff_client):
    display = make_display(audience_classes=["car"])
    response = display_change(staff_client, display, audience_classes="", audience_zone="")
    assert response.status_code == 302, response.context["adminform"].form.errors
    display.refresh_from_db()
    assert (display.audience_classes, display.audience_zone) == (["person"], "view")
