"""A display's secondary models through the staff API: the shape, the models it may name, the
defaults, the schema that states them, and a failing secondary model in the stream status."""

from __future__ import annotations

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile

from cms.farm import farm_keys
from cms.farm.heartbeats import StreamInfo, secondary_error
from cms.farm.reconcile import load_desired
from cms.model_validation import validate_model
from cms.models import DetectionModel, Display, StreamAssignment
from streams.entities import StreamState
from tests.api.conftest import display_with_token, token_client
from tests.factories import make_camera, make_display, make_model
from tests.support.models import build_classifier_weights

pytestmark = pytest.mark.django_db

DEFAULTS = {"classes": None, "min_size": 32, "every_s": 2.0}


@pytest.fixture(scope="module")
def classifier_pt(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real ultralytics classify model (yolov8n-cls, untrained) as .pt bytes."""
    return build_classifier_weights(tmp_path_factory.mktemp("cls") / "cls.pt").read_bytes()


def read_model(**values) -> DetectionModel:
    """A model row as reading its weights left it (a save would forget what was read)."""
    model = make_model(name=values.pop("name", "m"))
    DetectionModel.objects.filter(pk=model.pk).update(**values)
    model.refresh_from_db()
    return model


@pytest.fixture
def classifier() -> DetectionModel:
    """A classify model row, its weights read already (task classify)."""
    return read_model(name="colour", task="classify", validation_state="valid")


def new_display(**fields):
    camera, model = make_camera(), read_model(task="detect")
    return {"name": "Hall", "identifier": "hall", "camera": camera.id, "model": model.id, **fields}


def test_secondary_models_round_trip_with_their_defaults(operator, classifier):
    other = make_model(name="make")  # not read yet: may be a classify model
    given = [
        {"model": classifier.id},
        {"model": other.id, "classes": [2, 7], "min_size": 64, "every_s": 1},
    ]

    response = operator.post("/api/v1/displays/", new_display(secondary=given))

    assert response.status_code == 201, response.json()
    expected = [
        {"model": classifier.id, **DEFAULTS},
        {"model": other.id, "classes": [2, 7], "min_size": 64, "every_s": 1.0},
    ]
    assert response.json()["secondary"] == expected
    display_id = response.json()["id"]
    assert operator.get(f"/api/v1/displays/{display_id}/").json()["secondary"] == expected
    assert Display.objects.get(pk=display_id).secondary == expected

    patched = operator.patch(f"/api/v1/displays/{display_id}/", {"secondary": given[1:]})
    assert patched.status_code == 200, patched.json()
    assert patched.json()["secondary"] == expected[1:]
    cleared = operator.patch(f"/api/v1/displays/{display_id}/", {"secondary": []})
    assert cleared.json()["secondary"] == []


def test_a_display_without_secondary_models_has_an_empty_list(operator):
    response = operator.post("/api/v1/displays/", new_display())

    assert response.status_code == 201, response.json()
    assert response.json()["secondary"] == []


@pytest.mark.parametrize(
    "secondary, words",
    [
        ({"model": 1}, "must be a list"),
        ("[]", "must be a list"),
        (None, "null"),
        ([7], "must be an object"),
        ([{"model": "CLS", "colour": 1}], "unknown key(s) 'colour'"),
        ([{"classes": [0]}], "model: required"),
        ([{"model": True}], "must be a model id"),
        ([{"model": "CLS", "every_s": -1}], "every_s: must be greater than 0"),
        ([{"model": "CLS", "every_s": 0}], "every_s: must be greater than 0"),
        ([{"model": "CLS", "every_s": 3601}], "at most 3600 seconds"),
        ([{"model": "CLS", "every_s": "2"}], "must be a number"),
        ([{"model": "CLS", "min_size": 0}], "min_size: must be an integer from 1 to 4096"),
        ([{"model": "CLS", "min_size": 4097}], "min_size: must be an integer from 1 to 4096"),
        ([{"model": "CLS", "min_size": 1.5}], "min_size: must be an integer"),
        ([{"model": "CLS", "classes": [-1]}], "class ids are integers >= 0"),
        ([{"model": "CLS", "classes": "person"}], "classes: must be null"),
        ([{"model": "CLS"}, {"model": "CLS"}], "is already secondary[0]"),
        ([{"model": 10**6}], "secondary[0].model: unknown model 1000000"),
        ([{"model": "DETECT"}], "cannot be a secondary model: it is a 'detect' model"),
        ([{"model": "INVALID"}], "cannot be a secondary model: its weights do not load"),
    ],
)
def test_bad_secondary_input_is_a_400_naming_secondary(operator, classifier, secondary, words):
    detector = read_model(task="detect")
    invalid = read_model(validation_state="invalid", invalid_reason="not a zip archive")
    ids = {"CLS": classifier.id, "DETECT": detector.id, "INVALID": invalid.id}

    def named(value):
        if isinstance(value, list):
            return [named(v) for v in value]
        if isinstance(value, dict):
            return {k: named(v) for k, v in value.items()}
        return ids.get(value, value) if isinstance(value, str) else value

    response = operator.post("/api/v1/displays/", new_display(secondary=named(secondary)))

    assert response.status_code == 400, response.json()
    assert list(response.json()) == ["secondary"]
    assert words in " ".join(response.json()["secondary"])
    assert not Display.objects.exists()


def test_more_than_four_secondary_models_are_refused(operator):
    items = [{"model": read_model(task="classify").id} for _ in range(5)]

    response = operator.post("/api/v1/displays/", new_display(secondary=items))

    assert response.status_code == 400
    assert "at most 4 secondary models" in " ".join(response.json()["secondary"])


def test_a_classify_model_cannot_be_a_displays_primary_model(operator, classifier):
    refused = operator.post("/api/v1/displays/", new_display(model=classifier.id))
    display = make_display()
    moved = operator.patch(f"/api/v1/displays/{display.id}/", {"model": classifier.id})

    for response in (refused, moved):
        assert response.status_code == 400
        assert list(response.json()) == ["model"]
        assert "a 'classify' model, not a detection model" in " ".join(response.json()["model"])
    display.refresh_from_db()
    assert display.model_id != classifier.id


def test_a_secondary_model_found_unusable_later_leaves_the_display_editable(operator, classifier):
    display = make_display(secondary=[{"model": classifier.id}])
    DetectionModel.objects.filter(pk=classifier.pk).update(task="detect")

    renamed = operator.patch(f"/api/v1/displays/{display.id}/", {"name": "Renamed"})
    added = operator.patch(
        f"/api/v1/displays/{display.id}/",
        {"secondary": [{"model": classifier.id}, {"model": read_model(task="detect").id}]},
    )

    assert renamed.status_code == 200, renamed.json()
    assert added.status_code == 400
    assert [m[:21] for m in added.json()["secondary"]] == ["secondary[1].model: m"]


def test_a_form_body_takes_the_list_as_json_or_one_field_per_item(operator, classifier):
    other = read_model(task="classify")
    whole = operator.post(
        "/api/v1/displays/",
        new_display(identifier="a", secondary=f'[{{"model": {classifier.id}}}]'),
        format="multipart",
    )
    items = operator.post(
        "/api/v1/displays/",
        new_display(
            identifier="b",
            secondary=[f'{{"model": {classifier.id}}}', f'{{"model": {other.id}, "min_size": 8}}'],
        ),
        format="multipart",
    )
    broken = operator.post(
        "/api/v1/displays/", new_display(identifier="c", secondary="[{"), format="multipart"
    )

    assert whole.status_code == 201, whole.json()
    assert whole.json()["secondary"] == [{"model": classifier.id, **DEFAULTS}]
    assert items.status_code == 201, items.json()
    assert [s["model"] for s in items.json()["secondary"]] == [classifier.id, other.id]
    assert items.json()["secondary"][1]["min_size"] == 8
    assert broken.status_code == 400 and "secondary" in broken.json()


def test_the_schema_states_the_secondary_shape(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    components = schema["components"]["schemas"]
    field = components["DisplayRequest"]["properties"]["secondary"]
    item = components["SecondaryModelRequest"]

    assert field["type"] == "array" and field["maxItems"] == 4
    assert field["items"] == {"$ref": "#/components/schemas/SecondaryModelRequest"}
    assert item["required"] == ["model"] and item["additionalProperties"] is False
    assert set(item["properties"]) == {"model", "classes", "min_size", "every_s"}
    every_s = item["properties"]["every_s"]
    assert (every_s["minimum"], every_s["exclusiveMinimum"], every_s["maximum"]) == (0, True, 3600)
    assert item["properties"]["min_size"]["minimum"] == 1
    assert item["properties"]["classes"]["nullable"] is True
    answer = components["SecondaryModel"]
    assert answer["required"] == ["model", "classes", "min_size", "every_s"]
    assert components["Display"]["properties"]["secondary"]["items"]["$ref"].endswith(
        "/SecondaryModel"
    )


def test_a_models_task_is_read_from_its_weights_and_shown(operator, classifier_pt, staff_admin):
    response = operator.post(
        "/api/v1/models/",
        {"name": "colour", "weights": SimpleUploadedFile("cls.pt", classifier_pt)},
        format="multipart",
    )
    model_id = response.json()["id"]
    assert response.json()["task"] == ""  # not read yet

    assert validate_model(model_id) == "valid"

    assert operator.get(f"/api/v1/models/{model_id}/").json()["task"] == "classify"
    listing = staff_admin.get("/admin/cms/detectionmodel/").content.decode()
    assert '<td class="field-task">classify</td>' in listing
    page = staff_admin.get(f"/admin/cms/detectionmodel/{model_id}/change/").content.decode()
    assert "classify" in page
    # and, read from real weights, it can be a secondary model
    display = operator.post(
        "/api/v1/displays/", new_display(secondary=[{"model": model_id, "classes": [0]}])
    )
    assert display.status_code == 201, display.json()
    [spec] = load_desired()[display.json()["camera"]].displays
    [secondary] = spec.secondary
    model = DetectionModel.objects.get(pk=model_id)
    assert (secondary.model.id, secondary.model.sha256) == (model_id, model.sha256)
    assert secondary.classes == (0,)


@pytest.fixture
def staff_admin(client, superuser):
    client.force_login(superuser)
    return client


def test_a_failing_secondary_model_shows_in_the_stream_status_not_as_pending(
    operator, classifier, redis_client, staff_admin
):
    display, token = display_with_token(secondary=[{"model": classifier.id}])
    StreamAssignment.objects.create(camera=display.camera, worker="w1", generation=3)
    error = secondary_error("colour 1", "cannot read weights")
    farm_keys.write_stream(
        redis_client,
        StreamInfo(
            display.camera_id, "w1", 3, "s", StreamState.ONLINE,
            display_errors=((display.id, error),),
        ),
    )  # fmt: skip

    cluster = operator.get("/api/v1/cluster/").json()
    state = token_client(token).get("/api/v1/display/state/").json()
    page = staff_admin.get(f"/admin/cms/display/{display.id}/change/").content.decode()
    listing = staff_admin.get("/admin/cms/display/").content.decode()

    [stream] = cluster["streams"]
    assert stream["display_errors"] == [{"display": display.id, "error": error}]
    assert cluster["pending"] == []  # its primary model still runs
    assert state["running"] is True and state["not_running_reason"] is None
    for html in (page, listing):
        assert "running on w1" in html
        assert "secondary model colour 1: cannot read weights" in html


def test_a_primary_model_error_still_makes_the_display_pending(operator, redis_client):
    display = make_display()
    farm_keys.write_stream(
        redis_client,
        StreamInfo(
            display.camera_id, "w1", 1, "s", StreamState.ONLINE,
            display_errors=(
                (display.id, secondary_error("colour 1", "gone")),
                (display.id, "model m 1: not a checkpoint"),
            ),
        ),
    )  # fmt: skip

    cluster = operator.get("/api/v1/cluster/").json()

    [pending] = cluster["pending"]
    assert pending["reason"] == "its model failed to load: model m 1: not a checkpoint"
    assert len(cluster["streams"][0]["display_errors"]) == 2
