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


def labels(candidates):
    return [c.label for c in candidates]


def test_candidates_are_torch_first_then_each_backends_variants():
    assert labels(candidates_to_try("auto", ["openvino", "torch", "onnxruntime"])) == [
        "torch",
        "openvino",
        "openvino dynamic",
        "onnxruntime",
        "onnxruntime dynamic",
    ]
    # A forced backend is tried even where it is not available, so its failure is shown.
    assert labels(candidates_to_try("tensorrt", ["openvino"])) == [
        "torch",
        "tensorrt",
        "tensorrt dynamic",
    ]
    assert labels(candidates_to_try("torch", ["openvino"], device_precision="bf16")) == ["torch"]


def test_openvino_gets_a_variant_at_the_cpus_default_precision_unless_that_is_f32():
    # Its dynamic export at that precision only with AMX: without, it missed the agreement bar.
    assert labels(candidates_to_try("openvino", ["openvino"], device_precision="bf16")) == [
        "torch",
        "openvino",
        "openvino bf16",
        "openvino dynamic",
    ]
    bf16 = candidates_to_try("openvino", ["openvino"], device_precision="bf16", amx=True)
    assert labels(bf16) == [
        "torch",
        "openvino",
        "openvino bf16",
        "openvino dynamic",
        "openvino dynamic bf16",
    ]
    assert [(c.backend, c.precision, c.exact_precision, c.dynamic) for c in bf16] == [
        ("torch", "", True, False),
        ("openvino", "", True, False),
        ("openvino", "bf16", False, False),
        ("openvino", "", True, True),
        ("openvino", "bf16", False, True),
    ]
    # A report's label reads back as the same candidate.
    assert [Measurement(c.label).candidate for c in bf16] == bf16
    assert "openvino f32" not in labels(
        candidates_to_try("auto", ["openvino"], device_precision="f32")
    )
    # Only OpenVINO is compiled at the device's precision.
    assert "onnxruntime bf16" not in labels(
        candidates_to_try("auto", ["onnxruntime"], device_precision="bf16")
    )


def test_the_cost_follows_the_size_of_the_passes_the_model_runs():
    both = Measurement("openvino", ms_per_frame=20.0, ms_batched=10.0)
    assert both.cost_at(1.0) == 20.0  # a lone live camera: single frames
    assert both.cost_at(2.5) == 15.0  # half way to the BATCHED_FRAMES (4) of the batched figure
    assert both.cost_at(4.0) == both.cost_at(8.0) == 10.0  # batches: the batched figure
    assert both.cost_at(None) == 15.0  # no pass seen yet: the mean of the two
    assert Measurement("openvino", ms_per_frame=20.0).cost_at(8.0) == 20.0
    assert Measurement("openvino", error="boom").cost_at(1.0) is None


def test_auto_chooses_for_the_passes_the_model_runs():
    measured = [
        Measurement("torch", ms_per_frame=34.5, agreement=1.0, ms_batched=16.5),
        Measurement("openvino", ms_per_frame=18.5, agreement=1.0, ms_batched=11.0),
        Measurement("openvino dynamic", ms_per_frame=20.5, agreement=1.0, ms_batched=9.5),
    ]

    alone = choose("auto", measured, frames_per_pass=1.0)
    batched = choose("auto", measured, frames_per_pass=7.9)

    assert alone.variant == "openvino"
    assert "1.9x torch at 1.0 frames per pass" in alone.reason
    assert batched.variant == "openvino dynamic"
    assert "1.7x torch at 7.9 frames per pass" in batched.reason
    assert choose("auto", measured).variant == "openvino"  # the mean: 14.75 against 15.0


def test_auto_ranks_every_variant_by_its_cost_and_reports_both_figures():
    choice = choose(
        "auto",
        [
            Measurement("torch", ms_per_frame=24.0, agreement=1.0, ms_batched=23.0),
            Measurement("openvino", ms_per_frame=18.8, agreement=1.0, ms_batched=18.4),
            Measurement("openvino bf16", ms_per_frame=14.2, agreement=0.995, ms_batched=11.7),
            Measurement("openvino dynamic", ms_per_frame=20.4, agreement=1.0, ms_batched=19.2),
            # faster single frames, but slower batches: the mean ranks it behind bf16
            Measurement("onnxruntime", ms_per_frame=13.0, agreement=1.0, ms_batched=16.0),
        ],
    )
    assert (choice.backend, choice.variant) == ("openvino", "openvino bf16")
    assert choice.candidates["openvino bf16"] == 14.2
    assert choice.batched == {
        "torch": 23.0,
        "openvino": 18.4,
        "openvino bf16": 11.7,
        "openvino dynamic": 19.2,
        "onnxruntime": 16.0,
    }
    assert "1.8x torch" in choice.reason


def test_a_variant_that_disagrees_is_never_chosen_and_its_backend_keeps_another():
    choice = choose(
        "auto",
        [
            TORCH,
            Measurement("openvino", ms_per_frame=20.0, agreement=1.0, ms_batched=20.0),
            Measurement("openvino bf16", ms_per_frame=10.0, agreement=0.98, ms_batched=8.0),
        ],
    )
    assert choice.variant == "openvino"
    assert "openvino bf16 disagrees with torch" in choice.reason


def test_a_tie_between_variants_keeps_the_exact_one():
    choice = choose(
        "auto",
        [
            TORCH,
            Measurement("openvino bf16", ms_per_frame=20.0, agreement=1.0),
            Measurement("openvino", ms_per_frame=20.0, agreement=1.0),
        ],
    )
    assert choice.variant == "openvino"


def test_a_forced_backend_runs_its_cheapest_eligible_variant():
    measured = [
        TORCH,
        Measurement("openvino", ms_per_frame=10.0, agreement=1.0),
        Measurement("onnxruntime", ms_per_frame=30.0, agreement=1.0, ms_batched=30.0),
        Measurement("onnxruntime dynamic", ms_per_frame=32.0, agreement=1.0, ms_batched=24.0),
    ]
    choice = choose("onnxruntime", measured)
    assert (choice.backend, choice.variant) == ("onnxruntime", "onnxruntime dynamic")
    assert choice.reason == "forced by setting"


def test_a_forced_backend_whose_variants_all_fail_names_each_reason():
    choice = choose(
        "tensorrt",
        [
            TORCH,
            Measurement("tensorrt", error="tensorrt is not installed"),
            Measurement("tensorrt dynamic", error="tensorrt is not installed"),
        ],
    )
    assert (choice.backend, choice.variant) == ("torch", "torch")
    assert "tensorrt failed" in choice.reason and "tensorrt dynamic failed" in choice.reason


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="unknown backend"):
        choose("cuda", [TORCH])
    with pytest.raises(ValueError, match="unknown backend"):
        candidates_to_try("tflite", [])


def test_a_models_backend_wins_over_the_workers():
    assert wanted_backend("", "auto") == "auto"
    assert wanted_backend("openvino", "torch") == "openvino"
    assert wanted_backend("", "") == "auto"
