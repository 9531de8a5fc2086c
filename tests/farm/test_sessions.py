"""A display session on a real farm: the suite's trained shapes detector on a generated video,
real Celery workers and beat, the real results consumer, the display client's API.

A session opened, a dark square and a light circle pass, the session closed: its summary lists
each track with the right class, dwell and label (the trained shade classifier as the
display's secondary model), results inside carry its session_id and results after it do
not. Then the farm's housekeeping (beat -> control worker) ends a session open too long.
"""

from __future__ import annotations

import itertools
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from cms import redis_connection
from cms.display_sessions.services import start_session
from cms.models import Camera, Detection, Display, DisplaySession
from cms.results import results_stream
from cms.results.consumer import ResultsConsumer
from cms.signals import session_updated
from inference.synthetic.video import Scene, linear_path, write_video
from tests.api.conftest import token_client
from tests.farm.conftest import wait_for
from tests.farm.test_objects import consume_until, shapes_model
from tests.farm.test_secondary import classifier_model

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.timeout(420)]

# A square left to right, a circle right to left, then 6 s of empty road before it loops.
PASSING = Scene(
    paths=(
        linear_path(
            1, "square", start=(30, 110), end=(290, 110), t0=0.5, t1=5.5, size=40, shade="dark"
        ),
        linear_path(
            2, "circle", start=(290, 190), end=(30, 190), t0=1.0, t1=6.0, size=36, shade="light"
        ),
    ),
    duration_s=12.0,
    fps=10.0,
    seed=7,
)
SHADE_OF = {"square": "dark", "circle": "light"}
RIGHT = [{"name": "right", "polygon": [[160, 0], [320, 0], [320, 240], [160, 240]]}]
# The farm's housekeeping looks every SIGHTLINE_SESSION_MAX_S / 2 when that is under a minute.
FARM_SESSION_MAX_S = 30


@pytest.fixture
def consumer(redis_client, settings):
    settings.SIGHTLINE_RESULTS_BLOCK_MS = 50
    results_stream.ensure_group(redis_client)
    return ResultsConsumer(redis_connection.client(), "test-sessions")


@pytest.fixture(scope="module")
def passing_video(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("passing") / "passing.mp4"
    write_video(PASSING, path)
    return path


def classes_in(detection: Detection) -> set[str]:
    return {o["class_name"] for o in detection.detected_objects}


def road_clear(display: Display) -> bool:
    """Whether the newest results have been empty for a second of frames: the video is in its
    empty stretch, so the next pass is seen whole (the frames before the model loaded are not)."""
    newest = Detection.objects.filter(display=display).order_by("-id")[:50]
    empty = list(itertools.takewhile(lambda row: not row.detected_objects, newest))
    return len(empty) >= 2 and (empty[0].frame_time - empty[-1].frame_time).total_seconds() >= 1


def passed_by(display: Display, after: int) -> Detection | None:
    """The first empty result after both shapes were seen (the road is clear again)."""
    rows = Detection.objects.filter(display=display, id__gt=after).order_by("id")
    seen: set[str] = set()
    for row in rows:
        seen |= classes_in(row)
        if {"square", "circle"} <= seen and not row.detected_objects:
            return row
    return None


def test_a_session_summarises_the_shapes_that_passed_and_the_farm_expires_old_ones(
    farm_factory,
    consumer,
    passing_video,
    trained_detector_path,
    trained_classifier_path,
):
    signals = []
    session_updated.connect(
        receiver := lambda sender, **kw: signals.append((kw["closed"], kw["summary"], time.time()))
    )
    farm = farm_factory(SIGHTLINE_SESSION_MAX_S=str(FARM_SESSION_MAX_S))
    farm.control()
    farm.start_beat()
    farm.ingest(capacity=1)
    camera = Camera.objects.create(name="road", identifier="road", url=str(passing_video), fps=5)
    display = Display.objects.create(
        name="road",
        identifier="road",
        camera=camera,
        model=shapes_model(trained_detector_path),
        zones=RIGHT,
        secondary=[{"model": classifier_model(trained_classifier_path).pk, "every_s": 1.0}],
    )
    token = display.rotate_token()
    display.save(update_fields=["token_hash"])
    client = token_client(token)

    # given a session opened while the road is clear
    wait_for(lambda: farm.running_on(camera), 120, "the camera to run")
    consume_until(consumer, lambda: road_clear(display), 60, "the road to be clear")
    assert client.post("/api/v1/display/session/", {"session_id": "farm-visit"}).status_code == 201
    before = Detection.objects.filter(display=display).order_by("id").last()

    # when the shapes pass and the road is clear again, the client ends it
    consume_until(consumer, lambda: passed_by(display, before.id), 90, "both shapes to pass")
    ended = client.delete("/api/v1/display/session/")
    assert ended.status_code == 200
    session = DisplaySession.objects.get(display=display)
    consume_until(
        consumer,
        lambda: Detection.objects.filter(display=display, frame_time__gt=session.ended).exists(),
        30,
        "a result after the session",
    )

    # then its summary lists each shape once, with its class, dwell, zones and shade
    summary = ended.json()["summary"]
    assert summary["counts"] == {"square": 1, "circle": 1}, summary
    tracks = {t["class_name"]: t for t in summary["tracks"]}
    for shape in ("square", "circle"):
        assert 4.0 <= tracks[shape]["dwell_s"] <= 5.6, tracks[shape]  # on screen for 5 s
        assert {"view", "right"} <= set(tracks[shape]["zones"]), tracks[shape]
        assert tracks[shape]["attributes"]["shade"]["label"] == SHADE_OF[shape], tracks[shape]
    # results inside carry its session_id, results after it do not
    rows = list(Detection.objects.filter(display=display).order_by("id"))
    earlier = [r for r in rows if r.frame_time < session.started]
    inside = [r for r in rows if session.started <= r.frame_time < session.ended]
    after = [r for r in rows if r.frame_time >= session.ended]
    assert earlier and inside and after
    assert {r.session_id for r in earlier} == {""}
    assert {r.session_id for r in inside} == {"farm-visit"}
    assert {r.session_id for r in after} == {""}
    shown = client.get("/api/v1/display/detections/", {"limit": 1}).json()["results"][0]
    assert "session_id" not in shown
    # session_updated: throttled while it changed, once at the close with the final summary
    updates = [s for s in signals if not s[0]]
    closing = [s for s in signals if s[0]]
    assert updates and len(closing) == 1
    assert all(b[2] - a[2] >= 0.95 for a, b in itertools.pairwise(updates))
    assert closing[0][1]["counts"] == {"square": 1, "circle": 1}

    # and a session open longer than SIGHTLINE_SESSION_MAX_S is ended by the farm's housekeeping
    old = start_session(
        display=display,
        session_id="forgotten",
        now=timezone.now() - timedelta(seconds=FARM_SESSION_MAX_S + 1),
    )[0]
    wait_for(
        lambda: DisplaySession.objects.filter(pk=old.pk, end_reason="expired").exists(),
        FARM_SESSION_MAX_S + 30,
        "beat and the control worker to expire the session",
    )
    session_updated.disconnect(receiver)
