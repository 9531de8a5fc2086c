"""A new operator in a real browser finds the farm pages from the admin and can read them.

The farm's state is what the ingest workers would write: worker and stream heartbeats,
an assignment, a pending camera and a reconcile report, written into the suite's Redis
through cms.farm.farm_keys (as tests/cms/test_dashboard.py does).
"""

from __future__ import annotations

import re
import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from cms.farm import farm_keys
from cms.farm.heartbeats import StreamInfo, WorkerInfo
from cms.models import DetectionModel, StreamAssignment
from streams import StreamReason, StreamState
from tests.factories import make_camera, make_display, make_model

pytestmark = pytest.mark.django_db(transaction=True)

ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")
PASSWORD = "operator-pass-123"


@pytest.fixture
def farm_state(redis_client):
    """A worker running one camera whose stream is recovering, a pending camera, and a
    display that cannot run because its model is disabled."""
    display = make_display(camera=make_camera(name="Gate"))
    pending = make_display()
    make_display(name="Lobby screen", camera=display.camera, model=make_model(enabled=False))
    model = display.model
    StreamAssignment.objects.create(camera=display.camera, worker="cpu-1@rack", generation=2)
    StreamAssignment.objects.create(camera=pending.camera, pending_reason="no ingest worker online")
    now = time.time()
    farm_keys.write_worker(
        redis_client,
        WorkerInfo(
            "cpu-1@rack",
            "cpu",
            4,
            (display.camera_id,),
            30,
            40,
            models=(f"{model.pk}:{model.sha256}",),
            last_seen=now - 3,
        ),
    )
    farm_keys.write_stream(
        redis_client,
        StreamInfo(
            display.camera_id,
            "cpu-1@rack",
            2,
            "h",
            StreamState.RECOVERING,
            reason=StreamReason.AUTH,
            fps_in=5,
            fps_out=4,
            last_error="401 Unauthorized from the camera",
            last_error_at=now - 30,
            updated=now,
        ),
    )
    farm_keys.write_report(redis_client, {"finished_at": now - 5, "duration_ms": 12.4})
    return display, pending


def log_in(browser, live_server, django_user_model, path="/admin/"):
    django_user_model.objects.create_superuser("operator", "", PASSWORD)
    browser.get(f"{live_server.url}/admin/login/?next={path}")
    browser.find_element(By.NAME, "username").send_keys("operator")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    # The click only starts the navigation: wait for the page it leads to, so that the
    # caller's first lookup is on that page, not on the login page still showing.
    WebDriverWait(browser, 30).until(
        lambda b: (
            "/admin/login/" not in b.current_url
            and b.execute_script("return document.readyState") == "complete"
        )
    )


def text_of(browser, element_id: str) -> str:
    return browser.find_element(By.ID, element_id).text


def test_operator_clicks_from_the_admin_to_a_readable_farm_page_and_dead_letters(
    browser, live_server, django_user_model, farm_state, redis_client
):
    display, pending = farm_state
    wait = WebDriverWait(browser, 30)

    # given an operator on the admin's index
    log_in(browser, live_server, django_user_model)
    wait.until(lambda b: b.find_elements(By.ID, "farm-links"))

    # when they click the farm dashboard's link
    browser.find_element(By.CSS_SELECTOR, '#farm-links a[href="/admin/farm/"]').click()

    # then the farm page shows workers, streams and pending work in words
    wait.until(lambda b: "cpu-1@rack" in text_of(b, "farm-workers"))
    workers = text_of(browser, "farm-workers")
    assert f"{display.model.name} {display.model.version}" in workers
    assert f"{display.model.pk}:" not in workers  # no raw model key
    assert re.search(r"\b\d+ s ago\b", workers), workers
    streams = text_of(browser, "farm-streams")
    assert "Gate" in streams
    assert "5.0 / 4.0" in streams and "undefined" not in streams
    assert "auth: 401 Unauthorized from the camera" in streams  # the reason in the row
    assert re.search(r"\(since [^)]*\d+ s ago\)", streams), streams  # and since when
    assert f"{display.name}: {display.model}" in streams  # its displays by name, with models
    camera_link = browser.find_element(By.LINK_TEXT, "Gate")
    assert camera_link.get_attribute("href").endswith(
        f"/admin/cms/camera/{display.camera_id}/change/"
    )
    pending_rows = text_of(browser, "farm-pending")
    assert "no ingest worker online" in pending_rows
    lobby = DetectionModel.objects.get(enabled=False)
    assert f"Lobby screen {lobby} its model is disabled" in pending_rows  # a display of its own
    displays = text_of(browser, "farm-displays")
    assert "Lobby screen Gate" in displays
    assert "stale: client never seen" in displays
    reconcile = text_of(browser, "farm-reconcile")
    assert re.search(r"\d+ s ago \(12 ms\)$", reconcile), reconcile
    for table in ("farm-workers", "farm-streams", "farm-reconcile", "farm-displays"):
        assert not ISO_TIME.search(text_of(browser, table)), text_of(browser, table)

    # and an empty table says "none" once nothing is pending
    StreamAssignment.objects.filter(camera=pending.camera).update(pending_reason="")
    DetectionModel.objects.update(enabled=True)
    wait.until(lambda b: text_of(b, "farm-pending").endswith("none"))

    # when they go back to the index and click the dead letters
    browser.find_element(By.CSS_SELECTOR, ".breadcrumbs a").click()
    wait.until(lambda b: b.find_elements(By.ID, "farm-links"))
    browser.find_element(By.CSS_SELECTOR, '#farm-links a[href="/admin/dead-letters/"]').click()

    # then the dead letters page opens
    wait.until(lambda b: "Dead letters" in b.find_element(By.TAG_NAME, "h1").text)
    assert browser.current_url == f"{live_server.url}/admin/dead-letters/"

    # and "View site" leads to a page that links the admin, the API docs and Flower
    browser.find_element(By.CSS_SELECTOR, '#user-tools a[href="/"]').click()
    wait.until(lambda b: b.find_elements(By.ID, "site-links"))
    links = browser.find_element(By.ID, "site-links").text
    assert "Admin" in links and "API docs" in links and "Flower" in links
    assert "Page not found" not in browser.page_source


def test_a_dead_cameras_page_shows_why_in_place_of_its_frame(
    browser, live_server, django_user_model, farm_state
):
    display, _ = farm_state
    wait = WebDriverWait(browser, 30)

    # when the operator opens the page of the camera that gets no frame
    page = f"/admin/cms/camera/{display.camera_id}/change/"
    log_in(browser, live_server, django_user_model, page)

    # then a placeholder with the camera's status takes the frame's place
    placeholder = wait.until(
        lambda b: b.find_element(By.CSS_SELECTOR, "[data-snapshot-placeholder]")
    )
    frame = browser.find_element(By.CSS_SELECTOR, "img.farm-snapshot")
    assert placeholder.is_displayed() and not frame.is_displayed()
    assert "recovering on cpu-1@rack" in placeholder.text and "auth" in placeholder.text

    # and still after the page's own refresh (every 2 s) asked for a frame and got the reason
    wait.until(lambda b: "No frame yet: the stream is recovering (auth)" in placeholder.text)
    assert placeholder.is_displayed() and not frame.is_displayed()
