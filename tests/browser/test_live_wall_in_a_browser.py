"""The live wall in a real browser over a real farm: a running camera's frame with its boxes
drawn, a dead camera's placeholder with its reason, filters that change the wall; and the
label placement, called directly."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from cms import redis_connection
from cms.farm import farm_keys
from cms.models import Camera
from tests.farm.conftest import wait_for

LAYOUT_JS = Path(__file__).parents[2] / "cms" / "static" / "cms" / "label_layout.js"
PASSWORD = "operator-pass-123"


def overlap(a: dict, b: dict) -> float:
    width = min(a["x"] + a["w"], b["x"] + b["w"]) - max(a["x"], b["x"])
    height = min(a["y"] + a["h"], b["y"] + b["h"]) - max(a["y"], b["y"])
    return max(0, width) * max(0, height)


def place(browser, items: list[dict], width: int, height: int) -> list[dict]:
    browser.get("about:blank")
    script = (
        LAYOUT_JS.read_text() + "\nreturn SightlineLabels.placeLabels(arguments[0], arguments[1]);"
    )
    return browser.execute_script(script, items, {"width": width, "height": height})


def test_labels_of_a_crowd_are_stacked_not_overlapped_into_a_strip(browser):
    # given six people side by side, their labels wider than their boxes
    boxes = [[40 + i * 30, 100, 65 + i * 30, 200] for i in range(6)]
    items = [{"box": box, "w": 80, "h": 16} for box in boxes]

    places = place(browser, items, 480, 360)

    # then no two labels overlap, each stays in the frame and near its own box
    for i, a in enumerate(places):
        assert 0 <= a["x"] <= 480 - 80 and 0 <= a["y"] <= 360 - 16
        assert abs(a["x"] - boxes[i][0]) <= 80 and abs(a["y"] - boxes[i][1]) <= 16 * 7
        for b in places[i + 1 :]:
            assert overlap(a, b) == 0, places
    assert places[0] == {"x": 40, "y": 84, "w": 80, "h": 16, "moved": False}  # above its box
    assert any(p["moved"] for p in places)  # some moved (and get a leader line)


def test_a_label_at_the_top_edge_goes_inside_its_box_and_one_at_the_right_stays_in(browser):
    items = [
        {"box": [0, 0, 50, 50], "w": 60, "h": 16},
        {"box": [450, 100, 479, 150], "w": 60, "h": 16},
    ]
    places = place(browser, items, 480, 360)
    assert (places[0]["x"], places[0]["y"]) == (0, 0)
    assert (places[1]["x"], places[1]["y"]) == (420, 84)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tile(browser, name: str):
    for node in browser.find_elements(By.CSS_SELECTOR, ".wall-tile"):
        if node.find_element(By.CSS_SELECTOR, ".wall-name").text == name:
            return node
    return None


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_the_wall_shows_frames_with_boxes_a_dead_cameras_reason_and_filters(
    browser, live_server, farm_factory, results_consumer, django_user_model
):
    # given a farm running a camera and one whose source is dead
    farm = farm_factory()
    farm.control()
    worker = farm.ingest(capacity=2)
    camera = farm.camera("entrance", fps=2)
    left = [{"name": "left", "polygon": [[0, 0], [160, 0], [160, 240], [0, 240]]}]
    # Untracked: untrained boxes are too weak to make tracks, and a tracker would drop them.
    farm.display("entrance-screen", camera, zones=left, tracking=False)
    dead = Camera.objects.create(
        name="loading-dock",
        identifier="loading-dock",
        url=f"http://127.0.0.1:{closed_port()}/video.mjpg",
        fps=2,
    )
    farm.display("dock-screen", dead)
    wait_for(lambda: farm.running_on(camera) == worker.name, 90, "the camera to run")
    wait_for(lambda: farm_keys.read_snapshot(redis_connection.client(), camera.id), 30, "a frame")
    wait_for(lambda: getattr(farm.streams().get(dead.id), "reconnects", 0), 60, "a reconnect")
    wait = WebDriverWait(browser, 30)

    # when someone not logged in opens the wall, they are sent to the login page
    browser.get(f"{live_server.url}/admin/live/")
    assert "/admin/login/" in browser.current_url

    # when the operator logs in there
    django_user_model.objects.create_superuser("operator", "", PASSWORD)
    browser.find_element(By.NAME, "username").send_keys("operator")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()

    # then the running camera's tile shows its frame with boxes drawn over it
    wait.until(
        lambda b: (
            tile(b, "entrance") and tile(b, "entrance").get_attribute("data-frame") == "loaded"
        )
    )
    running = tile(browser, "entrance")
    frame = running.find_element(By.CSS_SELECTOR, "img.wall-frame")
    assert browser.execute_script("return arguments[0].naturalWidth", frame) == 320
    assert "running" in running.find_element(By.CSS_SELECTOR, ".badge").text
    wait.until(lambda b: int(tile(b, "entrance").get_attribute("data-boxes") or 0) > 0)
    labels = json.loads(tile(browser, "entrance").get_attribute("data-labels"))
    assert all("%" in label["text"] for label in labels)
    canvas = running.find_element(By.CSS_SELECTOR, "canvas.wall-overlay")
    drawn = browser.execute_script(
        "const c = arguments[0];"
        "const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        "let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n;",
        canvas,
    )
    assert drawn > 100  # boxes, labels and the zone are on the canvas
    assert running.find_element(By.CSS_SELECTOR, ".wall-counts").text

    # and the dead camera's tile shows a placeholder with its state and reason, no image
    dock = tile(browser, "loading-dock")
    placeholder = dock.find_element(By.CSS_SELECTOR, ".wall-placeholder")
    assert placeholder.is_displayed()
    assert not dock.find_element(By.CSS_SELECTOR, "img.wall-frame").is_displayed()
    assert placeholder.text.startswith("recovering: unreachable"), placeholder.text
    assert "reconnect" in placeholder.text

    # when they filter by state, the wall is a link that shows only the matching cameras
    Select(browser.find_element(By.NAME, "state")).select_by_value("recovering")
    wait.until(lambda b: "state=recovering" in b.current_url)
    wait.until(lambda b: tile(b, "loading-dock") is not None)
    assert tile(browser, "entrance") is None
    assert "worker=" not in browser.current_url  # the unset filters stay out of the link

    # and clicking a tile opens the camera's admin page
    tile(browser, "loading-dock").find_element(By.CSS_SELECTOR, ".wall-view").click()
    wait.until(lambda b: f"/admin/cms/camera/{dead.id}/change/" in b.current_url)
