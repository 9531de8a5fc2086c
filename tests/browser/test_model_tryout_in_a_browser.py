"""'Try on a camera' in a real browser over a real farm: the operator picks a camera on a
model's admin page, clicks, and sees the newest frame with the boxes drawn and the raw
detections, run by a real ingest worker on the suite's trained shapes detector."""

from __future__ import annotations

import base64

import cv2
import numpy as np
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from cms import redis_connection
from cms.api.drawing import PALETTE
from cms.farm import farm_keys
from cms.models import Camera, Display
from tests.farm.conftest import wait_for
from tests.farm.test_model_tryout import TRUTH, shapes_model
from tests.farm.test_model_tryout import parked_video as parked_video  # a fixture

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
PASSWORD = "operator-pass-123"


@pytest.fixture(autouse=True)
def clean_redis_after(redis_client):
    """Leave no snapshot or heartbeat behind (later tests reuse these camera ids), after the
    farm's workers stopped: an autouse fixture is set up first, so torn down last."""
    yield
    redis_client.flushdb()


def test_the_try_out_draws_the_shapes_boxes_in_the_page(
    browser, live_server, farm_factory, parked_video, trained_detector_path, settings,
    django_user_model,
):  # fmt: skip
    settings.SIGHTLINE_TRYOUT_TIMEOUT_S = 90.0
    farm = farm_factory()
    farm.control()
    farm.start_beat()
    farm.ingest(capacity=2)
    camera = Camera.objects.create(name="lot", identifier="lot", url=str(parked_video), fps=5)
    model = shapes_model(trained_detector_path, "shapes")
    Display.objects.create(name="lot", identifier="lot", camera=camera, model=model)
    r = redis_connection.client()
    wait_for(lambda: farm_keys.read_snapshot(r, camera.pk), 120, f"a snapshot\n{farm.logs()}")

    django_user_model.objects.create_superuser("operator", "", PASSWORD)
    browser.get(f"{live_server.url}/admin/cms/detectionmodel/{model.pk}/change/")
    browser.find_element(By.NAME, "username").send_keys("operator")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    wait = WebDriverWait(browser, 120)
    panel = wait.until(lambda b: b.find_element(By.CSS_SELECTOR, ".model-tryout"))

    Select(panel.find_element(By.CSS_SELECTOR, "[data-tryout-camera]")).select_by_visible_text(
        "lot"
    )
    panel.find_element(By.CSS_SELECTOR, "[data-tryout-run]").click()
    image = wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "img[data-tryout-image]"))[0]
    wait.until(lambda b: b.execute_script("return arguments[0].naturalWidth", image) == 320)

    status = panel.find_element(By.CSS_SELECTOR, "[data-tryout-status]").text
    assert status.startswith("2 object(s) on lot's newest frame"), status
    rows = panel.find_elements(By.CSS_SELECTOR, "[data-tryout-objects] tbody tr")
    assert {row.get_attribute("data-class-name") for row in rows} == set(TRUTH)
    assert all(row.text.count("%") == 1 for row in rows)  # confidence as a percent

    # the picture shown is the frame with each box drawn in its class's colour
    data = image.get_attribute("src").split(",", 1)[1]
    drawn = cv2.imdecode(np.frombuffer(base64.b64decode(data), np.uint8), cv2.IMREAD_COLOR)
    rows_text = [row.text for row in rows]
    for row in rows:
        cells = row.find_elements(By.TAG_NAME, "td")
        class_id = int(cells[0].text.rsplit("(", 1)[1].rstrip(")"))
        x1, y1, _, y2 = (int(v) for v in cells[2].text.split(", "))
        colour = np.array(PALETTE[class_id % len(PALETTE)])

        def off(x: int, y1: int = y1, y2: int = y2, colour: np.ndarray = colour) -> float:
            """How far column x, along the box's left edge, is from the box colour (the
            undrawn frame measured about 60 at the edge and 50 outside; drawn: 17 and 53)."""
            return float(np.abs(drawn[y1 + 3 : y2 - 3, x].astype(int) - colour).mean())

        assert off(x1) < off(x1 - 4) - 20, (rows_text, off(x1), off(x1 - 4))
