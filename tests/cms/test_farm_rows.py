"""The Farm page's rows in words: errors with their time, displays and models by name,
pending displays' models, and stale displays (real database, real Redis heartbeats)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from cms import live
from cms.farm import farm_keys
from cms.farm.heartbeats import StreamInfo, WorkerInfo, secondary_error
from cms.models import Detection, Display, StreamAssignment
from streams import StreamReason, StreamState
from tests.factories import make_camera, make_display, make_model

pytestmark = pytest.mark.django_db

SECRET = "cam-secret-937"


def deliver(redis_client, display: Display, *, age_s: float) -> None:
    """The display's newest result, ``age_s`` old, as the results consumer keeps it."""
    frame_time = timezone.now() - timedelta(seconds=age_s)
    detection = Detection.objects.create(
        display=display, camera=display.camera, model=display.model, generation=2,
        frame_seq=1, frame_time=frame_time, key=f"{display.pk}-{age_s}", detected_objects=[],
    )  # fmt: skip
    live.push_delivered(redis_client, [detection])


def seen(display: Display, *, ago_s: float) -> None:
    last_seen = timezone.now() - timedelta(seconds=ago_s)
    Display.objects.filter(pk=display.pk).update(client_last_seen=last_seen, client_showing="menu")


@pytest.fixture
def farm(redis_client):
    """Camera Gate runs on cpu-1 with four displays (fresh, silent, offline client, model that
    does not load); camera Yard recovers with a password in its error; camera Dock is pending."""
    now = time.time()
    gate = make_camera(name="Gate")
    colour = make_model(name="colour", version="v2")
    displays = {
        name: make_display(name=name, camera=gate, model=make_model(name=f"{name}-net"))
        for name in ("Fresh", "Silent", "Away", "Broken")
    }
    started = timezone.now() - timedelta(minutes=10)
    StreamAssignment.objects.create(camera=gate, worker="cpu-1", generation=2, assigned_at=started)
    broken = displays["Broken"]
    farm_keys.write_stream(
        redis_client,
        StreamInfo(
            gate.id, "cpu-1", 2, "h", StreamState.ONLINE, fps_in=5, fps_out=5, updated=now,
            display_errors=(
                (broken.id, "model Broken-net: weights do not load"),
                (displays["Fresh"].id, secondary_error("colour v2", "no such file")),
            ),
        ),
    )  # fmt: skip
    for name, client_ago, result_ago in (
        ("Fresh", 5, 1),
        ("Silent", 5, 180),
        ("Away", 600, 1),
        ("Broken", 5, 900),
    ):
        seen(displays[name], ago_s=client_ago)
        deliver(redis_client, displays[name], age_s=result_ago)

    yard = make_camera(name="Yard", url=f"rtsp://admin:{SECRET}@10.0.0.9/s", password=SECRET)
    make_display(name="Yard screen", camera=yard)
    StreamAssignment.objects.create(camera=yard, worker="cpu-1", generation=5, assigned_at=started)
    farm_keys.write_stream(
        redis_client,
        StreamInfo(
            yard.id, "cpu-1", 5, "h", StreamState.RECOVERING, reason=StreamReason.UNREACHABLE,
            reconnects=6, updated=now, last_error_at=now - 120,
            last_error=f"cannot open rtsp://admin:{SECRET}@10.0.0.9/s: Connection refused",
        ),
    )  # fmt: skip
    dock = make_camera(name="Dock")
    make_display(name="Dock screen", camera=dock, model=make_model(name="dock-net"))
    StreamAssignment.objects.create(camera=dock, pending_reason="no ingest worker online")
    farm_keys.write_worker(
        redis_client, WorkerInfo("cpu-1", "cpu", 4, (gate.id, yard.id), last_seen=now)
    )
    return {"gate": gate, "yard": yard, "dock": dock, "colour": colour, **displays}


def farm_state(admin_client) -> dict:  # type: ignore[type-arg]
    response = admin_client.get(reverse("admin-farm-state"))
    assert response.status_code == 200
    return response.json()


def test_stream_rows_name_the_camera_its_displays_and_their_models_errors(admin_client, farm):
    state = farm_state(admin_client)

    gate = next(s for s in state["streams"] if s["camera"] == farm["gate"].id)
    assert (gate["camera_name"], gate["camera_url"]) == (
        "Gate",
        reverse("admin:cms_camera_change", args=[farm["gate"].id]),
    )
    shown = {d["name"]: d for d in gate["displays"]}
    assert list(shown) == ["Away", "Broken", "Fresh", "Silent"]
    assert shown["Broken"]["model_name"] == f"Broken-net {farm['Broken'].model.version}"
    assert shown["Broken"]["error"] == "model Broken-net: weights do not load"
    assert shown["Broken"]["url"] == reverse("admin:cms_display_change", args=[farm["Broken"].id])
    assert shown["Fresh"]["error"] is None
    assert shown["Fresh"]["secondary_errors"] == ["secondary model colour v2: no such file"]


def test_a_streams_last_error_comes_with_when_it_was_first_reported_and_no_password(
    admin_client, farm
):
    state = farm_state(admin_client)

    yard = next(s for s in state["streams"] if s["camera"] == farm["yard"].id)
    assert yard["reason"] == "unreachable" and yard["reconnects"] == 6
    assert "Connection refused" in yard["last_error"]
    reported = timezone.datetime.fromisoformat(yard["last_error_at"])
    assert abs((timezone.now() - reported).total_seconds() - 120) < 30
    body = admin_client.get(reverse("admin-farm-state")).content.decode()
    assert SECRET not in body


def test_pending_rows_name_the_models(admin_client, farm):
    pending = farm_state(admin_client)["pending"]

    dock = next(p for p in pending if p["camera"] == farm["dock"].id)
    assert dock["reason"] == "no ingest worker online"
    assert dock["model_names"] == [str(Display.objects.get(name="Dock screen").model)]
    assert dock["camera_url"] == reverse("admin:cms_camera_change", args=[farm["dock"].id])
    broken = next(p for p in pending if p["display"] == farm["Broken"].id)
    assert broken["reason"].startswith("its model failed to load: model Broken-net")
    assert broken["model_names"] == [str(farm["Broken"].model)]


def test_displays_are_flagged_stale_by_client_and_by_results(admin_client, farm):
    rows = {d["name"]: d for d in farm_state(admin_client)["displays"]}

    assert [s["kind"] for s in rows["Fresh"]["stale"]] == []
    assert rows["Fresh"]["secondary_errors"] == ["secondary model colour v2: no such file"]
    assert [(s["kind"], s["text"]) for s in rows["Silent"]["stale"]] == [("results", "no results")]
    assert [(s["kind"], s["text"]) for s in rows["Away"]["stale"]] == [("client", "client offline")]
    # Its model does not load: pending (said so), not "stale" for the missing results.
    assert rows["Broken"]["stale"] == []
    assert rows["Broken"]["pending_reason"].startswith("its model failed to load")
    # A camera that does not run: its results are not expected; its client was never seen.
    assert [s["text"] for s in rows["Dock screen"]["stale"]] == ["client never seen"]
    assert rows["Dock screen"]["camera_state"] == "pending"
    fresh = rows["Fresh"]
    assert (fresh["camera_name"], fresh["model_name"], fresh["showing"]) == (
        "Gate",
        str(farm["Fresh"].model),
        "menu",
    )
    assert fresh["client_online"] is True


def test_the_client_offline_rule_is_the_display_lists(admin_client, farm):
    # Within SIGHTLINE_DISPLAY_CLIENT_TIMEOUT_S the client badge and the Farm page agree.
    with override_settings(SIGHTLINE_DISPLAY_CLIENT_TIMEOUT_S=3600):
        rows = {d["name"]: d for d in farm_state(admin_client)["displays"]}
        listed = admin_client.get(reverse("admin:cms_display_changelist"), {"client": "online"})
    assert rows["Away"]["stale"] == []
    assert farm["Away"].pk in {d.pk for d in listed.context["cl"].result_list}


def test_the_no_results_threshold_is_a_setting(admin_client, farm):
    with override_settings(SIGHTLINE_DISPLAY_NO_RESULTS_S=600):
        rows = {d["name"]: d for d in farm_state(admin_client)["displays"]}
    assert rows["Silent"]["stale"] == []


def test_the_page_has_the_displays_table(admin_client, farm):
    page = admin_client.get(reverse("admin-farm")).content.decode()
    assert 'id="farm-displays"' in page and "client last seen" in page


def test_a_camera_or_display_deleted_while_its_task_reports_is_named_so(admin_client, redis_client):
    gone = make_display(name="Gone soon")
    camera_id, display_id = gone.camera_id, gone.id
    stream = StreamInfo(
        camera_id, "cpu-1", 1, "h", StreamState.ONLINE, updated=time.time(),
        display_errors=((display_id, "model m: boom"),),
    )  # fmt: skip
    farm_keys.write_stream(redis_client, stream)
    gone.camera.delete()  # its displays go with it

    [row] = farm_state(admin_client)["streams"]

    assert (row["camera_name"], row["camera_url"]) == (f"camera {camera_id} (deleted)", None)
    assert row["displays"] == [
        {
            "id": display_id,
            "name": f"display {display_id} (gone or disabled)",
            "url": None,
            "model_name": None,
            "error": "model m: boom",
            "secondary_errors": [],
        }
    ]
