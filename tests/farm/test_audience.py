"""Audience per content on a real farm: the suite's trained shapes detector on a generated video,
real Celery workers, the real results consumer storing object events, heartbeats through the API.

The video loops in real time; the content is switched at known moments of one loop, and each
play's impressions must be the shapes the video shows in it (of the audience classes).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from cms.models import Camera, Detection, Display
from inference.synthetic.video import Scene, stationary_path, write_video
from tests.farm.conftest import wait_for
from tests.farm.test_objects import consume_until, consumer, shapes_model  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

LOOP_S = 24.0
FPS = 10.0
SWITCH_AT, END_AT = 8.0, 19.0  # seconds into a loop: between the two parts, after the second
# First part (1-6 s): a square and a circle; second (10-15 s): another circle and a triangle.
# Audience classes square and circle: 2 impressions in the first play, 1 in the second.
SCENE = Scene(
    paths=(
        stationary_path(1, "square", at=(60, 120), t0=1.0, t1=6.0, jitter_px=1),
        stationary_path(2, "circle", at=(240, 120), t0=1.0, t1=6.0, jitter_px=1),
        stationary_path(3, "circle", at=(80, 160), t0=10.0, t1=15.0, jitter_px=1),
        stationary_path(4, "triangle", at=(240, 80), t0=10.0, t1=15.0, jitter_px=1),
    ),
    duration_s=LOOP_S,
    fps=FPS,
    seed=5,
)
EXPECTED = [("first", 2), ("second", 1)]


@pytest.fixture(scope="module")
def audience_video(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("audience") / "audience.mp4"
    write_video(SCENE, path)
    return path


def wait_until(moment: float) -> None:
    """Wait for a wall-clock moment (bounded: a loop at most)."""
    assert moment - time.time() <= LOOP_S * 2, "waiting too long"
    while time.time() < moment:
        time.sleep(min(0.02, max(moment - time.time(), 0)))


def test_content_switched_during_a_video_gives_each_play_its_impressions(
    farm_factory,
    consumer,  # noqa: F811
    audience_video,
    trained_detector_path,
    django_user_model,
):
    farm = farm_factory()
    farm.control()
    worker = farm.ingest(capacity=1)
    camera = Camera.objects.create(
        name="signage", identifier="signage", url=str(audience_video), fps=5
    )
    display = Display.objects.create(
        name="signage",
        identifier="signage",
        camera=camera,
        model=shapes_model(trained_detector_path),
        policy=Display.Policy.EVERY,
        audience_classes=["square", "circle"],
    )
    token = display.rotate_token()
    display.save(update_fields=["token_hash"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    wait_for(lambda: farm.running_on(camera) == worker.name, 90, "the camera to run")

    # The file plays in real time from its first frame: find when a loop starts.
    first = consume_until(
        consumer,
        lambda: Detection.objects.filter(display=display).order_by("id").first(),
        60,
        "a first result",
    )
    video_start = first.frame_time.timestamp() - first.frame_seq / FPS
    loops = int((time.time() + 1.0 - video_start) // LOOP_S) + 1
    loop_start = video_start + loops * LOOP_S

    # When the client reports the content at known moments of that loop
    def report(showing: str, at_s: float) -> None:
        wait_until(loop_start + at_s)
        assert client.post("/api/v1/display/heartbeat/", {"showing": showing}).status_code == 200

    while time.time() < loop_start - 0.5:
        consumer.step()
    report("first", 0.0)
    while time.time() < loop_start + SWITCH_AT - 0.3:
        consumer.step()
    report("second", SWITCH_AT)
    while time.time() < loop_start + END_AT - 0.3:
        consumer.step()
    report("", END_AT)

    # Then, once the loop's leaves are stored, each play has the video's shapes
    since = datetime.fromtimestamp(loop_start, UTC)
    consume_until(
        consumer,
        lambda: (
            display.object_events.filter(type="leave", zone="view", time__gte=since).count()
            >= len(SCENE.paths)
        ),
        60,
        "the loop's leaves",
    )
    staff = django_user_model.objects.create_superuser("root", "", "root-pass-123")
    answer = farm_api_audience(display, since - timedelta(seconds=1), staff)
    got = [(p["content"], p["impressions"]) for p in answer["plays"]]
    assert got == EXPECTED, (
        answer,
        list(
            display.object_events.values_list("type", "class_name", "track_id", "time", "dwell_s")
        ),
    )
    for play in answer["plays"]:
        assert 3.5 <= play["max_dwell_s"] <= 5.5, play  # each shape stands 5 s


def farm_api_audience(display: Display, start: datetime, staff) -> dict:
    client = APIClient()
    client.force_authenticate(staff)
    response = client.get(f"/api/v1/displays/{display.pk}/audience/", {"from": start.isoformat()})
    assert response.status_code == 200, response.content
    return response.json()
