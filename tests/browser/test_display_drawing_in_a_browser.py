"""An operator draws a display's zones, lines and crop on the camera's newest frame.

The frame is what an ingest worker leaves in Redis (a JPEG under the camera's snapshot key,
written through cms.farm.farm_keys); the page, its scripts and the save are real.
"""

from __future__ import annotations

import json

import cv2
import numpy as np
import orjson
import pytest
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from cms import live
from cms.farm import farm_keys
from cms.models import Display
from tests.browser.test_farm_pages_in_a_browser import log_in
from tests.factories import make_camera, make_display

pytestmark = pytest.mark.django_db(transaction=True)

WIDTH, HEIGHT = 640, 360


def frame_jpeg() -> bytes:
    image = np.full((HEIGHT, WIDTH, 3), 90, np.uint8)
    cv2.rectangle(image, (100, 100), (300, 250), (40, 160, 40), -1)
    return cv2.imencode(".jpg", image)[1].tobytes()


class Board:
    """The drawing board on the page, addressed in the frame's source pixels."""

    def __init__(self, browser) -> None:
        self.browser = browser
        self.svg = browser.find_element(By.CSS_SELECTOR, "[data-geometry-overlay]")
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", self.svg)

    def at(self, x: int, y: int) -> tuple[int, int]:
        """Where source pixel (x, y) is in the viewport, in CSS pixels."""
        rect = self.browser.execute_script(
            "const r = arguments[0].getBoundingClientRect();"
            "return [r.left, r.top, r.width, r.height];",
            self.svg,
        )
        left, top, width, height = rect
        return round(left + x * width / WIDTH), round(top + y * height / HEIGHT)

    def tool(self, mode: str) -> None:
        self.browser.find_element(By.CSS_SELECTOR, f'[data-mode="{mode}"]').click()

    def name(self, text: str) -> None:
        field = self.browser.find_element(By.CSS_SELECTOR, "[data-geometry-name]")
        field.clear()
        field.send_keys(text)

    def _pointer(self) -> ActionBuilder:
        return ActionBuilder(self.browser)

    def click(self, x: int, y: int, times: int = 1) -> None:
        actions = self._pointer()
        actions.pointer_action.move_to_location(*self.at(x, y))
        for _ in range(times):
            actions.pointer_action.click()
        actions.perform()

    def double_click(self, x: int, y: int) -> None:
        actions = self._pointer()
        actions.pointer_action.move_to_location(*self.at(x, y)).double_click()
        actions.perform()

    def drag(self, start: tuple[int, int], end: tuple[int, int]) -> None:
        actions = self._pointer()
        middle = ((start[0] + end[0]) // 2, (start[1] + end[1]) // 2)
        actions.pointer_action.move_to_location(*self.at(*start)).pointer_down()
        actions.pointer_action.move_to_location(*self.at(*middle))
        actions.pointer_action.move_to_location(*self.at(*end)).pointer_up()
        actions.perform()

    def shapes(self, css: str) -> int:
        return len(self.svg.find_elements(By.CSS_SELECTOR, css))


def stream_a_frame(redis_client, camera_id: int) -> None:
    """The newest frame, as an ingest worker keeps it; without expiry, as a worker would
    rewrite it every few seconds while the test runs."""
    redis_client.set(farm_keys.snapshot_key(camera_id), frame_jpeg())


def field(browser, name: str):
    return browser.find_element(By.NAME, name)


def test_operator_draws_a_zone_a_line_and_the_crop_on_the_frame_and_saves(
    browser, live_server, django_user_model, redis_client
):
    # given a display whose camera streams (its newest frame is in Redis)
    display = make_display(name="Lane screen", camera=make_camera(name="Lane"))
    stream_a_frame(redis_client, display.camera_id)
    wait = WebDriverWait(browser, 30)
    log_in(browser, live_server, django_user_model, f"/admin/cms/display/{display.pk}/change/")

    # when the page has loaded the frame
    editor = browser.find_element(By.CSS_SELECTOR, "[data-geometry-editor]")
    wait.until(lambda b: editor.get_attribute("data-frame-size") == f"{WIDTH}x{HEIGHT}")
    assert (
        browser.find_element(By.CSS_SELECTOR, "[data-geometry-placeholder]").is_displayed() is False
    )
    board = Board(browser)

    # and the operator clicks out a zone, closing it on its first point
    board.tool("zone")
    board.name("lane")
    for x, y in [(100, 100), (300, 100), (300, 250)]:
        board.click(x, y)
    board.click(101, 101)  # within a few pixels of the first point: closes the zone
    wait.until(lambda b: board.shapes("polygon.geometry-zone") == 1)

    # and clicks out a second one, finished with a double-click, then deletes it
    board.click(400, 50)
    board.click(500, 50)
    board.double_click(450, 150)
    wait.until(lambda b: board.shapes("polygon.geometry-zone") == 2)
    assert "zone 1" in field(browser, "zones").get_attribute("value")
    board.tool("select")
    board.click(450, 80)
    browser.find_element(By.CSS_SELECTOR, "[data-geometry-delete]").click()
    wait.until(lambda b: board.shapes("polygon.geometry-zone") == 1)

    # and drags a line and a crop box
    board.tool("line")
    board.name("door")
    board.drag((400, 300), (500, 60))
    board.tool("crop")
    board.drag((600, 330), (50, 40))  # from any corner

    # then the form's fields hold them in source pixels
    assert json.loads(field(browser, "zones").get_attribute("value")) == [
        {"name": "lane", "polygon": [[100, 100], [300, 100], [300, 250]]}
    ]
    assert json.loads(field(browser, "lines").get_attribute("value")) == [
        {"name": "door", "points": [[400, 300], [500, 60]]}
    ]
    crop = [field(browser, f"crop_{c}").get_attribute("value") for c in ("x1", "y1", "x2", "y2")]
    assert crop == ["50", "40", "600", "330"]

    # when they save
    field(browser, "_continue").click()
    wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, ".messagelist .success"))

    # then the display keeps exactly what was drawn
    display = Display.objects.get(pk=display.pk)
    assert display.zones == [{"name": "lane", "polygon": [[100, 100], [300, 100], [300, 250]]}]
    assert display.lines == [{"name": "door", "points": [[400, 300], [500, 60]]}]
    assert display.crop == (50, 40, 600, 330)

    # and the page draws the saved shapes again; typing in a field redraws
    editor = browser.find_element(By.CSS_SELECTOR, "[data-geometry-editor]")
    wait.until(lambda b: editor.get_attribute("data-frame-size") == f"{WIDTH}x{HEIGHT}")
    board = Board(browser)
    wait.until(lambda b: board.shapes("polygon.geometry-zone") == 1)
    assert board.shapes("g.geometry-line") == 1 and board.shapes("rect.geometry-crop") == 1
    zones = field(browser, "zones")
    zones.clear()
    zones.send_keys('[{"name": "a", "polygon": [[0, 0], [9, 0], [9, 9]]}, '
                    '{"name": "b", "polygon": [[20, 20], [29, 20], [29, 29]]}]')  # fmt: skip
    wait.until(lambda b: board.shapes("polygon.geometry-zone") == 2)

    # and the live counts follow the display's newest result
    event = {"id": 1, "frame_seq": 1, "frame_time": "2026-12-01T12:00:00Z",
             "objects": [{"class_name": "car", "class_id": 2, "confidence": 0.9,
                          "zones": ["lane"]}]}  # fmt: skip
    redis_client.set(live.latest_key(display.pk), orjson.dumps(event))
    counts = browser.find_element(By.CSS_SELECTOR, "[data-zone-counts-url] tbody")
    wait.until(lambda b: "lane 1 car 1" in counts.text)
    assert "view 1 car 1" in counts.text


def test_without_a_frame_the_page_says_so_and_the_fields_still_work(
    browser, live_server, django_user_model, redis_client
):
    # given a display whose camera has not delivered a frame
    display = make_display(name="Dark screen")
    wait = WebDriverWait(browser, 30)
    log_in(browser, live_server, django_user_model, f"/admin/cms/display/{display.pk}/change/")

    # then a placeholder says why, in place of the frame
    placeholder = browser.find_element(By.CSS_SELECTOR, "[data-geometry-placeholder]")
    wait.until(lambda b: "Not running" in placeholder.text or "No frame" in placeholder.text)
    assert placeholder.is_displayed()
    assert "fields below still work" in placeholder.text
    assert not browser.find_element(By.CSS_SELECTOR, "[data-geometry-stage]").is_displayed()

    # and the operator types the zones and the crop instead, and saves
    zones = field(browser, "zones")
    zones.clear()
    zones.send_keys('[{"name": "lane", "polygon": [[1, 2], [30, 2], [30, 40]]}]')
    crop = {"crop_x1": "0", "crop_y1": "0", "crop_x2": "64", "crop_y2": "48"}
    for name, value in crop.items():
        field(browser, name).send_keys(value)
    field(browser, "_continue").click()
    wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, ".messagelist .success"))
    display = Display.objects.get(pk=display.pk)
    assert display.zones == [{"name": "lane", "polygon": [[1, 2], [30, 2], [30, 40]]}]
    assert display.crop == (0, 0, 64, 48)

    # and a frame that arrives later replaces the placeholder
    stream_a_frame(redis_client, display.camera_id)
    editor = browser.find_element(By.CSS_SELECTOR, "[data-geometry-editor]")
    wait.until(lambda b: editor.get_attribute("data-frame-size") == f"{WIDTH}x{HEIGHT}")
    assert not browser.find_element(By.CSS_SELECTOR, "[data-geometry-placeholder]").is_displayed()
