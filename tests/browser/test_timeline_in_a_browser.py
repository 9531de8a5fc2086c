"""The event timeline in a real browser: rows with their pictures (or a placeholder), keyboard
selection, the detail page and its neighbours, and a filter select."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest
from django.utils import timezone
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from cms import thumbnails
from cms.models import Display
from tests.factories import make_camera, make_detection, make_display, make_object_event

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "operator-pass-123"
T0 = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)


def picture() -> bytes:
    frame = np.full((120, 160, 3), 80, np.uint8)
    cv2.rectangle(frame, (20, 20), (90, 100), (0, 255, 0), 2)
    return cv2.imencode(".jpg", frame)[1].tobytes()


def selected(browser) -> list[str]:
    return [
        row.get_attribute("id") for row in browser.find_elements(By.CSS_SELECTOR, ".tl-selected")
    ]


def row_ids(browser) -> list[str] | None:
    """The listed rows' ids; None while the page is being replaced."""
    try:
        rows = browser.find_elements(By.CSS_SELECTOR, "tr.tl-row")
        return [row.get_attribute("id") for row in rows]
    except StaleElementReferenceException:
        return None


def press(browser, key: str) -> None:
    browser.find_element(By.TAG_NAME, "body").send_keys(key)


def test_rows_pictures_keys_detail_and_a_filter(
    browser, live_server, settings, tmp_path, django_user_model
):
    # given a change-policy display with three object events and a detection, one picture
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SIGHTLINE_THUMBNAIL_DIR = tmp_path / "thumbnails"  # cms.thumbnails' folder
    camera = make_camera(name="Lobby")
    door = make_display(name="Door", camera=camera, policy=Display.Policy.CHANGE)
    enter = make_object_event(door, time=T0, class_name="person")
    detection = make_detection(door, frame_time=T0 + timedelta(seconds=5))
    leave = make_object_event(door, type="leave", dwell_s=9.5, time=T0 + timedelta(seconds=9))
    newest = make_object_event(door, time=T0 + timedelta(seconds=20), class_name="dog")
    thumbnails.save("event", newest.key, picture(), when=timezone.now())  # today: not expired
    django_user_model.objects.create_superuser("operator", "", PASSWORD)
    wait = WebDriverWait(browser, 30)

    # when the operator logs in and opens the timeline
    browser.get(f"{live_server.url}/admin/login/?next=/admin/timeline/")
    browser.find_element(By.NAME, "username").send_keys("operator")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "tr.tl-row"))

    # then the rows are there newest first, the picture loaded, the others a placeholder
    ids = [row.get_attribute("id") for row in browser.find_elements(By.CSS_SELECTOR, "tr.tl-row")]
    assert ids == [
        f"event-{newest.pk}",
        f"event-{leave.pk}",
        f"detection-{detection.pk}",
        f"event-{enter.pk}",
    ]
    thumb = f"#event-{newest.pk} img.tl-thumb"
    wait.until(
        lambda b: b.execute_script(f"return document.querySelector('{thumb}').naturalWidth") > 0
    )
    assert browser.find_element(By.CSS_SELECTOR, thumb).is_displayed()
    assert not browser.find_element(By.CSS_SELECTOR, f"#event-{newest.pk} .tl-nopic").is_displayed()
    other = f"#event-{leave.pk}"
    wait.until(lambda b: not b.find_elements(By.CSS_SELECTOR, f"{other} img"))  # a 404: removed
    assert browser.find_element(By.CSS_SELECTOR, f"{other} .tl-nopic").is_displayed()
    assert browser.find_element(By.CSS_SELECTOR, f"{other} .tl-nopic").text == "no picture"
    assert "9.5 s" in browser.find_element(By.CSS_SELECTOR, other).text

    # when j, j, k are pressed, the selection moves down twice and up once
    assert selected(browser) == []
    press(browser, "j")
    assert selected(browser) == [f"event-{newest.pk}"]
    press(browser, "j")
    press(browser, Keys.ARROW_DOWN)
    assert selected(browser) == [f"detection-{detection.pk}"]
    press(browser, "k")
    assert selected(browser) == [f"event-{leave.pk}"]
    press(browser, Keys.ARROW_UP)
    assert selected(browser) == [f"event-{newest.pk}"]

    # and Enter opens the selected entry: its picture large, its JSON
    press(browser, Keys.ENTER)
    wait.until(lambda b: f"/admin/timeline/event/{newest.pk}/" in b.current_url)
    big = ".tl-picture-large img.tl-thumb"
    wait.until(
        lambda b: b.execute_script(f"return document.querySelector('{big}').naturalWidth") == 160
    )
    assert '"class_name": "dog"' in browser.find_element(By.ID, "timeline-json").text

    # and ArrowRight goes to the older entry, ArrowLeft back, Escape to the list at that row
    press(browser, Keys.ARROW_RIGHT)
    wait.until(lambda b: f"/admin/timeline/event/{leave.pk}/" in b.current_url)
    assert "no picture" in browser.find_element(By.CSS_SELECTOR, ".tl-picture-large").text
    press(browser, "j")
    wait.until(lambda b: f"/admin/timeline/detection/{detection.pk}/" in b.current_url)
    press(browser, Keys.ARROW_LEFT)
    wait.until(lambda b: f"/admin/timeline/event/{leave.pk}/" in b.current_url)
    press(browser, Keys.ESCAPE)
    wait.until(lambda b: b.current_url.endswith(f"/admin/timeline/#event-{leave.pk}"))
    wait.until(lambda b: selected(b) == [f"event-{leave.pk}"])

    # when a filter select is changed, the timeline narrows to it (a link with the filter)
    Select(browser.find_element(By.NAME, "type")).select_by_value("detection")
    wait.until(lambda b: "type=detection" in b.current_url)
    wait.until(lambda b: row_ids(b) == [f"detection-{detection.pk}"])
    assert "person 1" in browser.find_element(By.CSS_SELECTOR, "tr.tl-row").text

    # and keys typed while a filter has the focus are the filter's
    browser.find_element(By.NAME, "class").send_keys("j")
    assert selected(browser) == []

    # when a time range is given with the button, the link holds only the fields given
    Select(browser.find_element(By.NAME, "type")).select_by_value("")
    wait.until(lambda b: b.current_url.endswith("/admin/timeline/"))
    wait.until(lambda b: row_ids(b) is not None and len(row_ids(b)) == 4)
    since = browser.find_element(By.NAME, "from")
    browser.execute_script("arguments[0].value = '2026-12-01T12:00:05'", since)
    browser.find_element(By.CSS_SELECTOR, "#timeline-filters button[type=submit]").click()
    wait.until(lambda b: "from=" in b.current_url)
    assert browser.current_url.split("?", 1)[1] == "from=2026-12-01T12%3A00%3A05"
    expected = [f"event-{newest.pk}", f"event-{leave.pk}", f"detection-{detection.pk}"]
    wait.until(lambda b: row_ids(b) == expected)
