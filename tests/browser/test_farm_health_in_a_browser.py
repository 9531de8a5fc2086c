"""An operator in a real browser opens the farm health charts from the admin and reads them.

The series are sampled (cms.farm_health.service.sample_farm, what the beat task runs) from
heartbeats written as the ingest workers write them (cms.farm.farm_keys); the page draws them
with the vendored uPlot (`make static`).
"""

from __future__ import annotations

import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from cms import static_vendor
from cms.farm import farm_keys
from cms.farm.heartbeats import StreamInfo, WorkerInfo
from cms.farm_health.service import sample_farm
from streams import StreamState
from tests.browser.test_farm_pages_in_a_browser import log_in
from tests.factories import make_camera

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def uplot_vendored():
    """cms/static/vendor/uplot as `make static` leaves it (from the cache when it is there)."""
    try:
        for package in static_vendor.load_manifest():
            static_vendor.vendor(package)
    except static_vendor.VendorError as exc:
        pytest.skip(f"uPlot is not vendored and cannot be: {exc}")


@pytest.fixture
def sampled_farm(redis_client):
    """Fifteen minutes of samples, 30 s apart, of "Gate" on a CPU worker: the hour has its
    points and the day at least two five-minute rollups."""
    gate = make_camera(name="Gate")
    now = time.time()
    for t in range(int(now) - 900, int(now) + 1, 30):
        farm_keys.write_worker(
            redis_client, WorkerInfo("cpu-1@rack", "cpu", 4, (gate.pk,), 30, 40, last_seen=t)
        )
        farm_keys.write_stream(
            redis_client,
            StreamInfo(gate.pk, "cpu-1@rack", 2, "h", StreamState.ONLINE, fps_in=5, fps_out=4,
                       frame_age=0.2, latency_ms=35, updated=t),
        )  # fmt: skip
        sample_farm(redis_client, now=float(t))
    return gate


def legend(browser, chart_id: str) -> str:
    return browser.find_element(By.CSS_SELECTOR, f'[data-chart="{chart_id}"] .u-legend').text


def test_operator_reads_the_farm_health_charts_and_switches_to_the_day(
    browser, live_server, django_user_model, uplot_vendored, sampled_farm
):
    wait = WebDriverWait(browser, 30)

    # given an operator on the admin's index
    log_in(browser, live_server, django_user_model)

    # when they click the Farm box's health link
    browser.find_element(By.CSS_SELECTOR, '#farm-links a[href="/admin/farm/health/"]').click()

    # then uPlot draws the charts: canvases, axes with units, legends with names and values
    wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, '[data-chart="fps"] canvas'))
    wait.until(lambda b: "5 fps" in legend(b, "fps"))
    fps = legend(browser, "fps")
    assert "Gate in" in fps and "Gate out" in fps and "4 fps" in fps
    assert "35 ms" in legend(browser, "latency")
    assert "0.2 s" in legend(browser, "frame_age")
    assert "cpu-1@rack" in legend(browser, "cpu") and "30 %" in legend(browser, "cpu")
    assert "cpu-1@rack capacity" in legend(browser, "load")
    assert "entries/s" in browser.find_element(By.CSS_SELECTOR, '[data-chart="throughput"] h3').text
    assert len(browser.find_elements(By.CSS_SELECTOR, ".health-chart canvas")) >= 10
    notes = browser.find_element(By.ID, "health-notes").text
    assert "cpu-1@rack reports no GPU" in notes
    gpu = browser.find_element(By.CSS_SELECTOR, '[data-chart="gpu"]').text
    assert "No worker reports a GPU." in gpu
    assert "a point every 10 s" in browser.find_element(By.ID, "health-status").text

    # when they switch to the last day
    browser.find_element(By.CSS_SELECTOR, 'a[data-range="day"]').click()

    # then the day's five-minute points are drawn
    wait.until(lambda b: "a point every 5 min" in b.find_element(By.ID, "health-status").text)
    wait.until(lambda b: "5 fps" in legend(b, "fps"))
    assert "Gate in" in legend(browser, "fps")
    assert browser.find_element(By.CSS_SELECTOR, '#farm-health [aria-current="page"]').text == (
        "last day"
    )
    logs = [
        e
        for e in browser.get_log("browser")
        if e["level"] == "SEVERE" and "favicon.ico" not in e["message"]
    ]
    assert not logs, logs
