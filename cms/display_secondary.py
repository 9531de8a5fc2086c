"""A display's secondary models: the rules, in one place, for Display.clean(), admin and API.

``secondary`` is an ordered JSON list of classify models run on the crops of the display's
tracked objects: ``[{"model": 7, "classes": [2] | null, "min_size": 32, "every_s": 2.0}]``.

- ``model``: a DetectionModel id; it must exist and be a classify model (task "classify",
  or "" while its weights are not read yet), at most once per display;
- ``classes``: the primary model's class ids whose objects it classifies, null for all;
- ``min_size``: pixels; only objects whose box is at least this on its shorter side;
- ``every_s``: seconds; an object is classified when its track starts, then at most once
  per ``every_s``.

Pure functions over parsed JSON, like cms.display_geometry: each returns every problem as a
message naming the item (``secondary[1].every_s: must be greater than 0``), ``[]`` when the
value is valid, and never echoes what it was given beyond bounded numbers. Which models exist
and what they are is the caller's query (``model_problems`` gets the answers).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import Any

from cms.display_geometry import MAX_ERRORS, is_number, json_type

FIELD = "secondary"
KEYS = ("model", "classes", "min_size", "every_s")
REQUIRED_KEYS = ("model",)
MAX_ITEMS = 4
MIN_SIZE_DEFAULT = 32
MIN_SIZE_MAX = 4096
EVERY_S_DEFAULT = 2.0
EVERY_S_MAX = 3600.0
MAX_CLASSES = 1000
# Ids as the database stores them (BigAutoField; class ids as PositiveIntegerField).
MAX_MODEL_ID = 9_223_372_036_854_775_807
MAX_CLASS_ID = 2_147_483_647
DEFAULTS: dict[str, Any] = {
    "classes": None,
    "min_size": MIN_SIZE_DEFAULT,
    "every_s": EVERY_S_DEFAULT,
}


def shape_errors(value: object) -> list[str]:
    """Problems with ``value`` as a display's secondary list, rows aside; ``[]`` when valid."""
    if not isinstance(value, list):
        return [f"{FIELD}: must be a list, got {json_type(value)}"]
    if len(value) > MAX_ITEMS:
        return [f"{FIELD}: at most {MAX_ITEMS} secondary models, got {len(value)}"]
    errors: list[str] = []
    seen: dict[int, int] = {}
    for index, item in enumerate(value):
        where = f"{FIELD}[{index}]"
        if not isinstance(item, dict):
            errors.append(f"{where}: must be an object with a model id, got {json_type(item)}")
            continue
        unknown = sorted(str(key)[:50] for key in item if key not in KEYS)
        if unknown:
            shown = ", ".join(repr(key) for key in unknown[:5])
            errors.append(f"{where}: unknown key(s) {shown}; allowed: {', '.join(KEYS)}")
        errors.extend(f"{where}.{key}: required" for key in REQUIRED_KEYS if key not in item)
        errors.extend(_item_errors(where, item))
        model = item.get("model")
        if isinstance(model, int | float) and _is_int(model, 1, MAX_MODEL_ID):
            model_id = int(model)
            if model_id in seen:
                errors.append(
                    f"{where}.model: model {model_id} is already {FIELD}[{seen[model_id]}]"
                )
            else:
                seen[model_id] = index
    return _capped(errors)


def _item_errors(where: str, item: dict[str, Any]) -> list[str]:
    errors = []
    if "model" in item and not _is_int(item["model"], 1, MAX_MODEL_ID):
        errors.append(f"{where}.model: must be a model id (an integer >= 1)")
    if "classes" in item and item["classes"] is not None:
        problem = _classes_error(item["classes"])
        if problem:
            errors.append(f"{where}.classes: {problem}")
    if "min_size" in item and not _is_int(item["min_size"], 1, MIN_SIZE_MAX):
        errors.append(f"{where}.min_size: must be an integer from 1 to {MIN_SIZE_MAX} (pixels)")
    if "every_s" in item:
        problem = _seconds_error(item["every_s"])
        if problem:
            errors.append(f"{where}.every_s: {problem}")
    return errors


def _classes_error(classes: object) -> str:
    if not isinstance(classes, list):
        return f"must be null (all classes) or a list of class ids, got {json_type(classes)}"
    if len(classes) > MAX_CLASSES:
        return f"at most {MAX_CLASSES} class ids, got {len(classes)}"
    if not all(_is_int(c, 0, MAX_CLASS_ID) for c in classes):
        return "class ids are integers >= 0"
    return ""


def _seconds_error(value: object) -> str:
    if not is_number(value):
        return f"must be a number of seconds, got {json_type(value)}"
    assert isinstance(value, int | float)  # is_number said so; for mypy
    # Compared before any float(): a huge int does not fit one. NaN fails every comparison.
    if not value > 0:
        return "must be greater than 0"
    if not value <= EVERY_S_MAX or not math.isfinite(value):
        return f"must be at most {EVERY_S_MAX:g} seconds"
    return ""


def _is_int(value: object, low: int, high: int) -> bool:
    """An integer in [low, high]; a float with an integral value counts (JSON has no int type)."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def with_defaults(value: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A valid secondary list (``shape_errors`` gave ``[]``) with every key, in KEYS order:
    omitted keys take their defaults, integral numbers become ints, ``every_s`` a float."""
    items = []
    for item in value:
        full = {**DEFAULTS, **item}
        classes = full["classes"]
        items.append(
            {
                "model": int(full["model"]),
                "classes": None if classes is None else [int(c) for c in classes],
                "min_size": int(full["min_size"]),
                "every_s": float(full["every_s"]),
            }
        )
    return items


def model_ids(value: object) -> list[int]:
    """The model ids of a secondary list, in order; [] for anything that is not one."""
    if not isinstance(value, list):
        return []
    return [
        int(item["model"])
        for item in value
        if isinstance(item, dict) and _is_int(item.get("model"), 1, MAX_MODEL_ID)
    ]


def model_problems(
    value: list[dict[str, Any]],
    unusable: Mapping[int, str],
    *,
    unchecked: Collection[int] = (),
) -> list[str]:
    """Problems with the models a valid secondary list names.

    ``unusable`` maps each existing model among them to why it cannot be a secondary model
    ("" when it can: DetectionModel.secondary_unusable_reason); an id missing from it names
    no model. Ids in ``unchecked`` are not checked: a display keeps a secondary model that
    turned out unusable after it was chosen (desired state leaves it out, with the reason).
    """
    errors = []
    for index, item in enumerate(value):
        model_id = int(item["model"])
        if model_id in unchecked:
            continue
        where = f"{FIELD}[{index}].model"
        if model_id not in unusable:
            errors.append(f"{where}: unknown model {model_id}")
        elif unusable[model_id]:
            errors.append(
                f"{where}: model {model_id} cannot be a secondary model: {unusable[model_id]}"
            )
    return errors


def _capped(errors: list[str]) -> list[str]:
    if len(errors) <= MAX_ERRORS:
        return errors
    return [*errors[:MAX_ERRORS], f"... and more problems (the first {MAX_ERRORS} are listed)"]
