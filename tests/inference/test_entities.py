from __future__ import annotations

import pytest

from inference import DetectedObject, ModelSource, PredictOptions

SHA = "ab" * 32


def test_detected_object_serialises_to_plain_json_types():
    obj = DetectedObject(class_id=2, class_name="car", confidence=0.5, box=(1.0, 2.0, 3.0, 4.0))

    assert obj.to_dict() == {
        "class_id": 2,
        "class_name": "car",
        "confidence": 0.5,
        "box": [1.0, 2.0, 3.0, 4.0],
    }


def test_a_detected_objects_dict_is_json_and_passes_its_own_check():
    obj = DetectedObject(class_id=2, class_name="car", confidence=0.5, box=(1.0, 2, 3, 4))

    data = obj.to_dict()

    assert data == {"class_id": 2, "class_name": "car", "confidence": 0.5, "box": [1.0, 2, 3, 4]}
    DetectedObject.check_dict(data)


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"class_id": "2"}, "'class_id' must be an integer"),
        ({"class_id": True}, "'class_id' must be an integer"),
        ({"class_name": None}, "'class_name' must be a string"),
        ({"confidence": "high"}, "'confidence' must be a number"),
        ({"box": [1, 2, 3]}, "'box' must be a list of 4 numbers"),
        ({"box": [1, 2, 3, "4"]}, "'box' must be a list of 4 numbers"),
        ({"box": None}, "'box' must be a list of 4 numbers"),
    ],
)
def test_detected_object_dicts_are_checked_field_by_field(changes, reason):
    data = {"class_id": 2, "class_name": "car", "confidence": 0.5, "box": [1, 2, 3, 4]}

    with pytest.raises(ValueError, match=reason):
        DetectedObject.check_dict({**data, **changes})


def test_a_detected_object_is_a_json_object():
    with pytest.raises(ValueError, match="JSON object"):
        DetectedObject.check_dict([2, "car", 0.5, [1, 2, 3, 4]])


def test_predict_options_are_hashable_and_canonical():
    a = PredictOptions(classes=(5, 0, 5))
    b = PredictOptions(classes=[0, 5])  # type: ignore[arg-type]

    assert a == b and hash(a) == hash(b) and a.classes == (0, 5)


@pytest.mark.parametrize(
    "kwargs", [{"confidence": 1.5}, {"confidence": -0.1}, {"iou": 2}, {"imgsz": 0}]
)
def test_predict_options_refuse_impossible_values(kwargs):
    with pytest.raises(ValueError):
        PredictOptions(**kwargs)


def test_model_source_needs_exactly_one_location():
    with pytest.raises(ValueError, match="exactly one"):
        ModelSource(name="m")
    with pytest.raises(ValueError, match="exactly one"):
        ModelSource(name="m", url="http://x/w.pt", path="/w.pt")


def test_model_source_is_keyed_by_sha256_when_known():
    by_url = ModelSource(name="m", sha256=SHA.upper(), url="http://cms/m/1?token=a")
    by_path = ModelSource(name="m", sha256=SHA, path="/weights/m.pt")

    assert by_url.key == by_path.key == f"sha256:{SHA}"


def test_signed_urls_for_the_same_weights_share_a_key():
    first = ModelSource(name="m", url="http://cms/models/1/weights?token=a")
    fresh = ModelSource(name="m", url="http://cms/models/1/weights?token=b")

    assert first.key == fresh.key
    assert "token" not in first.key


def test_model_source_refuses_a_malformed_sha256():
    with pytest.raises(ValueError, match="64 hex"):
        ModelSource(name="m", sha256="abc", path="/w.pt")


def test_a_tracked_object_carries_its_track_first_seen_and_zones():
    obj = DetectedObject(
        class_id=2, class_name="car", confidence=0.5, box=(1.0, 2, 3, 4),
        track_id=40000000001, first_seen=1_700_000_000.25, zones=("view", "lane"),
    )  # fmt: skip

    data = obj.to_dict()

    assert data == {
        "class_id": 2, "class_name": "car", "confidence": 0.5, "box": [1.0, 2, 3, 4],
        "track_id": 40000000001, "first_seen": 1_700_000_000.25, "zones": ["view", "lane"],
    }  # fmt: skip
    DetectedObject.check_dict(data)


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"track_id": "7"}, "'track_id' must be an integer"),
        ({"track_id": True}, "'track_id' must be an integer"),
        ({"track_id": None}, "'track_id' must be an integer"),
        ({"first_seen": "2025-01-01"}, "'first_seen' must be a number"),
        ({"zones": "lane"}, "'zones' must be a list of strings"),
        ({"zones": ["lane", 3]}, "'zones' must be a list of strings"),
    ],
)
def test_a_tracked_objects_optional_fields_are_checked_when_present(changes, reason):
    data = {"class_id": 2, "class_name": "car", "confidence": 0.5, "box": [1, 2, 3, 4]}

    with pytest.raises(ValueError, match=reason):
        DetectedObject.check_dict({**data, **changes})
