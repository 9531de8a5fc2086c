"""Which backend candidates `auto` measures on this machine, by label, for tests to expect."""

from __future__ import annotations

from inference.backends import device_precision, has_amx


def expected_labels() -> set[str]:
    """Every candidate `auto` measures here: "openvino bf16" only where OpenVINO's CPU
    default precision is not f32 (bf16 on this project's EPYCs), "openvino dynamic bf16"
    only where the CPU has AMX too."""
    return {"torch", "onnxruntime", "onnxruntime dynamic", *openvino_labels()}


def openvino_labels() -> set[str]:
    labels = {"openvino", "openvino dynamic"}
    precision = device_precision("cpu")
    if precision not in ("", "f32"):
        labels.add(f"openvino {precision}")
        if has_amx("cpu"):
            labels.add(f"openvino dynamic {precision}")
    return labels
