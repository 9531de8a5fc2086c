"""Run an FP32 OpenVINO export at FP32, or say what the CPU's own default precision is.

OpenVINO's CPU plugin computes in bfloat16 by default on CPUs with native bf16 (AVX512_BF16,
AMX: this project's EPYC development machines among them), whatever precision the model was
exported in: boxes then move by about a pixel and confidences by about 0.01 against torch.
ultralytics compiles the model with its own settings, so an export made without `half` is
compiled again here with `INFERENCE_PRECISION_HINT=f32`; an FP16 (`half`) export keeps the
device's fast default. This reaches into ultralytics' OpenVINO backend (its `compile_model`
and `ov_compiled_model`); if those move, it warns and leaves the model as ultralytics made it,
and the exactness tests say so.

That default is faster (yolov8n at 640 on an AVX512_BF16 EPYC: 14 ms a frame against 19 at
FP32), so the backend switcher also measures the FP32 export left at it ("openvino bf16"),
held to the same agreement with torch as every candidate (`device_precision` names it).
"""

from __future__ import annotations

import importlib.util
import logging
from functools import partial
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


def device_precision(device: str) -> str:
    """The inference precision OpenVINO's CPU plugin uses by default here ("bf16" on CPUs
    with native bf16, "f16" on some, "f32" elsewhere); "" when `device` is not the CPU or
    openvino is not installed (importing it loads no model)."""
    if device != "cpu" or importlib.util.find_spec("openvino") is None:
        return ""
    import openvino as ov

    hint = ov.Core().get_property("CPU", "INFERENCE_PRECISION_HINT")
    return str(hint.get_type_name())


def has_amx(device: str) -> bool:
    """Whether `device` is a CPU with AMX (Linux's `amx_bf16` flag in /proc/cpuinfo). There,
    the dynamic export at bf16 runs a batch of frames much cheaper per frame than one at a
    time and agrees with torch; on an EPYC with AVX512_BF16 and no AMX it agreed on only
    98.3 % of the suite's objects, under the bar (docs/backends.md)."""
    if device != "cpu":
        return False
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return False
    return any(
        line.startswith("flags") and "amx_bf16" in line.split() for line in cpuinfo.splitlines()
    )


def is_full_precision_export(metadata: dict[str, Any]) -> bool:
    """Whether an export's metadata says it was made without FP16 or INT8 quantisation."""
    arguments = metadata.get("args") or {}
    return arguments.get("quantize") in (None, 32, "fp32")


def compile_at_fp32(yolo: Any, export_dir: Path) -> bool:
    """Recompile `yolo`'s loaded OpenVINO model (after ultralytics' predictor exists) at FP32.

    True when it now runs at FP32 (already did, or recompiled); False, with a warning, when
    ultralytics' backend is not what this expects.
    """
    predictor_model = getattr(getattr(yolo, "predictor", None), "model", None)
    backend: Any = getattr(predictor_model, "backend", None)
    compiled = getattr(backend, "ov_compiled_model", None)
    compile_model = getattr(backend, "compile_model", None)
    ov = getattr(backend, "ov", None)
    if compiled is None or not isinstance(compile_model, partial) or ov is None:
        logger.warning("%s: cannot set OpenVINO's precision (ultralytics changed)", export_dir)
        return False
    if compiled.get_property("INFERENCE_PRECISION_HINT") == ov.Type.f32:
        return True
    config = {**compile_model.keywords.get("config", {}), "INFERENCE_PRECISION_HINT": ov.Type.f32}
    xml = export_dir if export_dir.suffix == ".xml" else next(export_dir.glob("*.xml"))
    model = ov.Core().read_model(model=str(xml), weights=str(xml.with_suffix(".bin")))
    # Kept as the backend's compiler too: it recompiles with it when a shape changes.
    backend.compile_model = partial(compile_model, config=config)
    backend.ov_compiled_model = backend.compile_model(model)
    return True
