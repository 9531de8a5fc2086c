"""A camera's spec travels to the ingest worker through Redis, written by reconcile."""

from __future__ import annotations

import dataclasses
import json

import pytest

from cms.farm import farm_keys
from cms.farm.commands import Start, UpdateSpec
from cms.farm.desired import (
    CameraSpec,
    DisplaySpec,
    LineSpec,
    ModelSpec,
    SecondarySpec,
    ZoneSpec,
)
from cms.farm.reconcile import load_desired, reconcile_once, write_specs
from cms.models import Camera, StreamAssignment
from tests.factories import make_display

MODEL = ModelSpec(1, "yolo", "1", "abc", 0.25, 0.7, 640, (0, 2), backend="onnx")
CLASSIFIER = ModelSpec(2, "colour", "2", "def", 1, 0.5, 224, None)


def full_spec() -> CameraSpec:
    display = DisplaySpec(
        7, MODEL, (1, 2, 300, 200), "change", 500, tracking=False,
        zones=(ZoneSpec("door", ((0.0, 0.0), (10.5, 0.0), (10.5, 9.0))),),
        lines=(LineSpec("gate", ((1.0, 2.0), (3.0, 4.0))),),
        min_seen_s=1, max_lost_s=3.5,
        secondary=(SecondarySpec(CLASSIFIER, classes=(0,), min_size=16, every_s=1.5),),
    )  # fmt: skip
    return CameraSpec(3, "0123456789abcdef", (display, DisplaySpec(8, MODEL, None, "all", 0)))


def test_a_camera_spec_reads_back_as_written_with_the_same_hash() -> None:
    spec = full_spec()

    read = CameraSpec.from_bytes(spec.to_bytes())

    assert read == spec
    assert read.spec_hash == spec.spec_hash  # an int stays an int (confidence 1, min_seen_s 1)


@pytest.mark.parametrize(
    "raw",
    [b"", b"[]", b"{}", b'{"camera_id": "3", "source_hash": "x", "displays": []}',
     b'{"camera_id": 3, "source_hash": "x", "displays": [{"id": 1}]}'],
)  # fmt: skip
def test_anything_else_is_a_value_error(raw: bytes) -> None:
    with pytest.raises(ValueError):
        CameraSpec.from_bytes(raw)


def test_read_spec_is_none_for_a_missing_or_garbled_key(redis_client) -> None:
    assert farm_keys.read_spec(redis_client, 3) is None
    redis_client.set(farm_keys.spec_key(3), b"garbage")
    assert farm_keys.read_spec(redis_client, 3) is None
    farm_keys.write_specs(redis_client, [full_spec()])
    assert farm_keys.read_spec(redis_client, 3) == full_spec()


@pytest.mark.django_db
def test_load_desired_specs_round_trip() -> None:
    display = make_display(zones=[{"name": "z", "polygon": [[0, 0], [5, 0], [5, 5]]}])
    spec = load_desired()[display.camera_id]

    assert CameraSpec.from_bytes(spec.to_bytes()).spec_hash == spec.spec_hash


def test_reconcile_writes_started_and_changed_specs_and_those_redis_lost(redis_client) -> None:
    a, b, c = (CameraSpec(i, f"h{i}") for i in (1, 2, 3))
    desired = {1: a, 2: b, 3: c}
    commands = [Start(1, "w", 0, a.spec_hash, "new"), UpdateSpec(2, 1, b.spec_hash)]
    redis_client.set(farm_keys.spec_key(3), c.to_bytes())

    assert write_specs(redis_client, desired, commands) == 2
    assert [farm_keys.read_spec(redis_client, i) for i in (1, 2)] == [a, b]

    redis_client.flushdb()  # a Redis restart: every wanted camera's spec comes back
    assert write_specs(redis_client, desired, []) == 3
    assert write_specs(redis_client, desired, []) == 0  # nothing to do: nothing written


@pytest.mark.django_db
def test_reconcile_deletes_the_spec_of_a_camera_no_longer_wanted(redis_client) -> None:
    display = make_display()
    camera = display.camera
    reconcile_once(redis_client)  # no worker: pending, its spec written all the same
    assert farm_keys.read_spec(redis_client, camera.id) == load_desired()[camera.id]
    StreamAssignment.objects.filter(camera=camera).update(worker="ingest@gone", generation=1)
    Camera.objects.filter(pk=camera.pk).update(enabled=False)
    farm_keys.note_desired_change(redis_client)  # what the save's signal does after commit

    reconcile_once(redis_client)

    assert StreamAssignment.objects.get(camera=camera).generation == 2  # stopped
    assert not redis_client.exists(farm_keys.spec_key(camera.id))


def test_the_hand_written_encoder_writes_every_field_as_asdict_would() -> None:
    # A field added to a spec and forgotten by the encoder fails here.
    spec = full_spec()
    as_json = json.loads(json.dumps([dataclasses.asdict(d) for d in spec.displays]))
    assert json.loads(spec.to_bytes())["displays"] == as_json
