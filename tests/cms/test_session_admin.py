"""The admin shows each display's sessions, read only, with their summaries, and no token."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cms.display_sessions.services import start_session
from cms.display_sessions.summary import empty, merge_result
from cms.models import DisplaySession
from tests.factories import make_display

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, django_user_model, redis_client):
    user = django_user_model.objects.create_superuser("operator", "", "operator-pass-123")
    client.force_login(user)
    return client


@pytest.fixture
def display_with_token():
    display = make_display()
    token = display.rotate_token()
    display.save(update_fields=["token_hash"])
    return display, token


def test_a_displays_page_shows_its_open_session_and_links_its_sessions(
    staff_client, display_with_token
):
    display, token = display_with_token
    start_session(display=display, session_id="visit-9")

    page = staff_client.get(reverse("admin:cms_display_change", args=[display.pk])).content

    assert b"open: visit-9" in page
    assert f"displaysession/?display__id__exact={display.pk}".encode() in page
    assert token.encode() not in page and display.token_hash.encode() not in page


def test_the_sessions_list_and_page_are_read_only_and_show_the_summary(
    staff_client, display_with_token
):
    display, token = display_with_token
    summary = empty()
    car = {"class_id": 2, "class_name": "car", "confidence": 0.9, "box": [0, 0, 1, 1]}
    merge_result(summary, 1_700_000_000.0, [{**car, "track_id": 41, "zones": ["lane"]}])
    merge_result(summary, 1_700_000_006.5, [{**car, "track_id": 41}])
    session = DisplaySession.objects.create(display=display, session_id="s-1", summary=summary)
    other = DisplaySession.objects.create(display=make_display(), session_id="elsewhere")

    listing = staff_client.get(
        reverse("admin:cms_displaysession_changelist"), {"display__id__exact": display.pk}
    )
    detail = staff_client.get(reverse("admin:cms_displaysession_change", args=[session.pk]))

    assert listing.status_code == 200 and b"s-1" in listing.content
    assert other.session_id.encode() not in listing.content
    assert b"1 car" in listing.content
    assert detail.status_code == 200
    assert b"<td>41</td><td>car</td><td>6.5</td><td>lane</td>" in detail.content
    assert b'name="_save"' not in detail.content  # read only
    assert staff_client.get(reverse("admin:cms_displaysession_add")).status_code == 403
    for page in (listing.content, detail.content):
        assert token.encode() not in page and display.token_hash.encode() not in page
