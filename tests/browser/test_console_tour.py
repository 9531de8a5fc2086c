"""A tour of the operator console in a real browser over a real farm: from the admin index,
every console page and every admin list is reached by its link and shows the farm's live data
(the suite's trained shapes detector on the demo scene, and a camera whose source is dead).

The same tour writes a screenshot of each console page: under the test's temp dir, or under
``$SCREENSHOTS_DIR`` (`make screenshots` sets docs/images, the pictures in the README).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select, WebDriverWait

from cms import redis_connection
from cms.demo import DEMO_LINES, DEMO_ZONES
from cms.farm import farm_keys
from cms.models import Camera, Display, ObjectEvent
from inference.synthetic.demo import demo_scene
from inference.synthetic.video import write_video
from tests.farm.conftest import wait_for
from tests.farm.test_model_tryout import shapes_model

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
PASSWORD = "operator-pass-123"


@dataclass(frozen=True)
class ConsolePage:
    """A page of the console: the index link that opens it, its screenshot's name, and what
    shows that it got the farm's live data."""

    link: str
    screenshot: str
    shows_live_data: Callable[[WebDriver], object]


def _text(selector: str) -> Callable[[WebDriver], str]:
    def read(browser: WebDriver) -> str:
        return " ".join(node.text for node in browser.find_elements(By.CSS_SELECTOR, selector))

    return read


def _wall_has_frames_and_a_placeholder(browser: WebDriver) -> bool:
    tiles = browser.find_elements(By.CSS_SELECTOR, ".wall-tile")
    loaded = [t for t in tiles if t.get_attribute("data-frame") == "loaded"]
    boxed = [t for t in loaded if int(t.get_attribute("data-boxes") or 0) > 0]
    placeholders = _text(".wall-placeholder")(browser)
    return bool(boxed) and "recovering: unreachable" in placeholders


def _farm_rows_show_both_cameras(browser: WebDriver) -> bool:
    streams = _text("#farm-streams tbody")(browser)
    return "lane" in streams and "online" in streams and "unreachable" in streams


def _timeline_has_events_with_pictures(browser: WebDriver) -> bool:
    rows = _text("#timeline tbody")(browser)
    pictures = browser.execute_script(
        "return [...document.querySelectorAll('#timeline img.tl-thumb')]"
        ".filter((i) => i.complete && i.naturalWidth > 0).length"
    )
    return "enter" in rows and "lane" in rows and pictures > 0


def _health_charts_show_the_lane(browser: WebDriver) -> bool:
    # Beat's sample-farm-health has sampled the running farm: uPlot's legend has its values.
    fps = _text('[data-chart="fps"] .u-legend')(browser)
    return "lane in" in fps and " fps" in fps


CONSOLE_PAGES = (
    ConsolePage("Live wall", "live-wall.png", _wall_has_frames_and_a_placeholder),
    ConsolePage("Dashboard", "farm.png", _farm_rows_show_both_cameras),
    ConsolePage("Event timeline", "timeline.png", _timeline_has_events_with_pictures),
    ConsolePage("Health", "farm-health.png", _health_charts_show_the_lane),
    ConsolePage("Dead letters", "dead-letters.png", lambda b: "Dead letters" in _text("h1")(b)),
)


def _image_loaded(selector: str) -> Callable[[WebDriver], object]:
    def loaded(browser: WebDriver) -> object:
        return browser.execute_script(
            "const i = document.querySelector(arguments[0]);"
            "return i && i.complete && i.naturalWidth;",
            selector,
        )

    return loaded


def screenshot_dir(tmp_path: Path) -> Path:
    directory = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path / "screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def demo_video(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.mp4"
    write_video(demo_scene(), path)
    return path


@pytest.fixture(autouse=True)
def clean_redis_after(redis_client):
    """Leave no snapshot, heartbeat or series behind for later tests (torn down last)."""
    yield
    redis_client.flushdb()


def log_in(browser: WebDriver, url: str, django_user_model) -> None:
    django_user_model.objects.create_superuser("operator", "", PASSWORD)
    browser.get(f"{url}/admin/")
    browser.find_element(By.NAME, "username").send_keys("operator")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()


def index_links(browser: WebDriver, url: str, selector: str) -> dict[str, str]:
    """The links of the admin index under ``selector``, by their text."""
    browser.get(f"{url}/admin/")
    return {
        a.text: a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, selector)
    }


def test_every_console_page_is_reached_from_the_index_and_shows_the_live_farm(
    browser, live_server, farm_factory, results_consumer, demo_video, trained_detector_path,
    django_user_model, tmp_path,
):  # fmt: skip
    # given a farm running the demo scene through the trained detector, and a dead camera
    farm = farm_factory()
    farm.control()
    farm.start_beat()
    farm.ingest(capacity=2)  # full: the try-out runs beside the two cameras
    model = shapes_model(trained_detector_path, "Shapes")
    lane = Camera.objects.create(name="lane", identifier="lane", url=str(demo_video), fps=5)
    Display.objects.create(
        name="lane screen", identifier="lane-screen", camera=lane, model=model,
        zones=DEMO_ZONES, lines=DEMO_LINES, policy=Display.Policy.CHANGE,
    )  # fmt: skip
    dead = Camera.objects.create(
        name="loading dock",
        identifier="loading-dock",
        url=f"http://127.0.0.1:{closed_port()}/video.mjpg",
        fps=2,
    )
    Display.objects.create(name="dock screen", identifier="dock-screen", camera=dead, model=model)
    r = redis_connection.client()
    wait_for(lambda: farm_keys.read_snapshot(r, lane.pk), 120, f"a frame\n{farm.logs()}")
    wait_for(lambda: ObjectEvent.objects.filter(camera=lane).exists(), 60, "an object event")
    wait_for(lambda: getattr(farm.streams().get(dead.pk), "reconnects", 0), 60, "a reconnect")
    log_in(browser, live_server.url, django_user_model)
    # the admin's navigation sidebar folded away: the pictures show the pages, wider
    browser.execute_script("localStorage.setItem('django.admin.navSidebarIsOpen', 'false')")
    shots = screenshot_dir(tmp_path)

    # when the operator follows each link of the index's Farm box
    console = index_links(browser, live_server.url, "#farm-links a")
    assert set(console) == {page.link for page in CONSOLE_PAGES}, console
    for page in CONSOLE_PAGES:
        browser.get(console[page.link])
        # then the page shows the farm's live data, and its picture is taken
        try:
            WebDriverWait(browser, 60).until(page.shows_live_data)
        except TimeoutException:
            content = browser.find_element(By.ID, "content").text
            raise AssertionError(f"{page.link} shows no live data:\n{content}") from None
        assert browser.save_screenshot(str(shots / page.screenshot)), page.link

    # and a timeline entry's detail shows its bigger picture and its JSON
    browser.get(console["Event timeline"])
    browser.find_element(By.CSS_SELECTOR, "#timeline tr.tl-event a").click()
    WebDriverWait(browser, 30).until(_image_loaded(".tl-detail img.tl-thumb"))
    assert '"track_id"' in _text("#timeline-json")(browser)
    assert browser.save_screenshot(str(shots / "timeline-detail.png"))

    # and every list of the admin index opens (the model pages of the app list)
    lists = index_links(browser, live_server.url, "#content-main th[scope=row] a")
    assert {"Cameras", "AI models", "Displays"} <= set(lists), lists
    for name, href in lists.items():
        browser.get(href)
        assert browser.find_elements(By.CSS_SELECTOR, "#changelist, #content-main"), name
        assert "Server Error" not in browser.title, name

    # and the model's page offers its classes by name and the try-out, from the AI models list
    browser.get(lists["AI models"])
    browser.find_element(By.PARTIAL_LINK_TEXT, "Shapes").click()
    classes = _text("#id_classes")(browser)
    assert all(name in classes for name in ("square", "circle", "triangle")), classes
    assert browser.save_screenshot(str(shots / "model.png"))
    # and trying it on the running camera draws the shapes it sees
    panel = browser.find_element(By.CSS_SELECTOR, ".model-tryout")
    Select(panel.find_element(By.CSS_SELECTOR, "[data-tryout-camera]")).select_by_visible_text(
        "lane"
    )
    panel.find_element(By.CSS_SELECTOR, "[data-tryout-run]").click()
    WebDriverWait(browser, 90).until(_image_loaded("img[data-tryout-image]"))
    assert "object(s) on lane's newest frame" in _text("[data-tryout-status]")(browser)
    browser.execute_script("arguments[0].scrollIntoView()", panel)
    assert panel.screenshot(str(shots / "model-tryout.png"))
