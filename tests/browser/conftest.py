from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator

import pytest
from django.db import connection

from cms import redis_connection
from cms.results import results_stream
from cms.results.consumer import ResultsConsumer
from tests.farm.conftest import farm_factory, farm_video, farm_web_url, farm_weights  # noqa: F401

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture
def browser() -> Iterator[object]:
    """Headless Debian Chromium driven through chromedriver (Selenium)."""
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.skip("browser tests need Debian's chromium and chromium-driver packages")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture
def results_consumer(redis_client, settings):
    """The results consumer in a thread: it stores results and events and keeps each display's
    latest result in Redis."""
    settings.SIGHTLINE_RESULTS_BLOCK_MS = 50
    results_stream.ensure_group(redis_client)
    stop = threading.Event()

    def run() -> None:
        try:
            ResultsConsumer(redis_connection.client(), "test-browser").run(stop)
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(10)
