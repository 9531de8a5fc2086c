"""An operator in a real browser: logs in, sees the farm, and a running camera's frame."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from cms import redis_connection
from cms.farm import farm_keys
from tests.farm.conftest import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_operator_sees_the_running_stream_and_its_frame(
    browser, live_server, farm_factory, django_user_model
):
    # given a farm running one camera
    farm = farm_factory()
    farm.control()
    worker = farm.ingest(capacity=2)
    camera = farm.camera("entrance", fps=2)
    farm.display("entrance-screen", camera, crop_x1=0, crop_y1=0, crop_x2=160, crop_y2=120)
    wait_for(lambda: farm.running_on(camera) == worker.name, 90, "the camera to run")
    wait_for(lambda: farm_keys.read_snapshot(redis_connection.client(), camera.id), 30, "a frame")
    django_user_model.objects.create_superuser("operator", "", "operator-pass-123")
    wait = WebDriverWait(browser, 30)

    # when the operator logs in
    browser.get(f"{live_server.url}/admin/login/?next=/admin/farm/")
    browser.find_element(By.NAME, "username").send_keys("operator")
    browser.find_element(By.NAME, "password").send_keys("operator-pass-123")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()

    # then the dashboard shows the worker and the stream online, without a reload
    wait.until(lambda b: worker.name in b.find_element(By.ID, "farm-workers").text)
    wait.until(lambda b: "online" in b.find_element(By.ID, "farm-streams").text)
    assert "entrance" in browser.find_element(By.ID, "farm-streams").text

    # and the camera's page shows its state and its newest frame
    browser.get(f"{live_server.url}/admin/cms/camera/{camera.pk}/change/")
    wait.until(lambda b: "running on" in b.find_element(By.CSS_SELECTOR, ".field-status").text)
    frame = browser.find_element(By.CSS_SELECTOR, "img.farm-snapshot")
    wait.until(lambda b: b.execute_script("return arguments[0].naturalWidth", frame) > 0)
    assert browser.execute_script("return arguments[0].naturalWidth", frame) == 320
