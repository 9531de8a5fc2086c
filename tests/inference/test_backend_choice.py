"""The backend choice: fastest eligible for auto, forced ones fall back to torch with a reason."""

from __future__ import annotations

import pytest

from inference.backend_choice import (
    MIN_AGREEMENT,
    Measurement,
    candidates_to_try,
    choose,
    wanted_backend,
)

TORCH = Measurement("torch", ms_per_frame=40.0, agreement=1.0)


def test_auto_picks_the_fastest_backend_that_agrees():
    choice = choose(
        "auto",
        [
            TORCH,
            Measurement("openvino", ms_per_frame=20.0, agreement=1.0),
            Measurement("onnxruntime", ms_per_frame=30.0, agreement=0.995),
        ],
    )
    assert choice.backend == "openvino"
    assert choice.candidates == {"torch": 40.0, "openvino": 20.0, "onnxruntime": 30.0}
    assert "2.0x torch" in choice.reason


def test_auto_never_picks_a_disagreeing_backend():
    choice = choose(
        "auto",
        [
            TORCH,
            Measurement("openvino", ms_per_frame=5.0, agreement=MIN_AGREEMENT - 0.001),
            Measurement("onnxruntime", ms_per_frame=30.0, agreement=1.0),
        ],
    )
    assert choice.backend == "onnxruntime"
    assert "openvino disagrees with torch" in choice.reason


def test_auto_never_picks_a_failed_backend_and_keeps_torch_when_nothing_beats_it():
    choice = choose(
        "auto",
        [TORCH, Measurement("openvino", error="export failed: boom")],
    )
    assert choice.backend == "torch"
    assert "torch is the fastest" in choice.reason
    assert "openvino failed: export failed: boom" in choice.reason
    assert choice.candidates == {"torch": 40.0}


def test_auto_keeps_torch_on_a_tie():
    tie = Measurement("onnxruntime", ms_per_frame=40.0, agreement=1.0)
    assert choose("auto", [tie, TORCH]).backend == "torch"


def test_a_forced_backend_is_used_when_it_works_even_if_slower():
    slow = Measurement("onnxruntime", ms_per_frame=80.0, agreement=1.0)
    choice = choose("onnxruntime", [TORCH, slow])
    assert (choice.backend, choice.reason) == ("onnxruntime", "forced by setting")


@pytest.mark.parametrize(
    ("forced", "expected"),
    [
        (Measurement("tensorrt", error="tensorrt is not installed"), "tensorrt failed"),
        (Measurement("openvino", ms_per_frame=1.0, agreement=0.5), "openvino disagrees"),
        (None, "openvino was not measured"),
    ],
)
def test_a_forced_backend_that_fails_falls_back_to_torch_with_the_reason(forced, expected):
    wanted = forced.backend if forced else "openvino"
    choice = choose(wanted, [TORCH, *([forced] if forced else [])])
    assert choice.backend == "torch"
    assert choice.reason.startswith("fell back to torch: ")
    assert expected in choice.reason


def test_forced_torch_needs_no_measurement():
    assert choose("torch", []).backend == "torch"


def test_candidates_are_torch_first_then_what_the_device_has():
    assert candidates_to_try("auto", ["openvino", "torch", "onnxruntime"]) == [
        "torch",
        "openvino",
        "onnxruntime",
    ]
    # A forced backend is tried even where it is not available, so its failure is shown.
    assert candidates_to_try("tensorrt", ["openvino"]) == ["torch", "tensorrt"]
    assert candidates_to_try("torch", ["openvino"]) == ["torch"]


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="unknown backend"):
        choose("cuda", [TORCH])
    with pytest.raises(ValueError, match="unknown backend"):
        candidates_to_try("tflite", [])


def test_a_models_backend_wins_over_the_workers():
    assert wanted_backend("", "auto") == "auto"
    assert wanted_backend("openvino", "torch") == "openvino"
    assert wanted_backend("", "") == "auto"
