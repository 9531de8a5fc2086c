"""What the display page's secondary-model editor offers (cms/static/cms/secondary_editor.js).

The editor is progressive enhancement over the ``secondary`` JSON field: it writes the same
JSON (cms.display_secondary), so the API and the model's validation are unchanged, and the
field's errors stay the messages of ``display_secondary.shape_errors``. Here: the choices it
needs, as plain data on the field (``data-secondary-options``):

- ``models``: enabled models that can be secondary models, classify models first then those
  whose weights are not read yet (unless a display runs one as its model), by name; plus every
  model the display already names that is not among them (disabled, deleted, no longer
  classify), labelled so, so a save keeps it;
- ``classes``: the display's saved primary model's classes by name ("2: car"), plus the ids
  its items name that the model lacks; [] while the model's classes are not known;
- the defaults and the limit of cms.display_secondary.
"""

from __future__ import annotations

from typing import Any

from cms import display_secondary
from cms.model_console import class_id_choices
from cms.models import CLASSIFY_TASK, DetectionModel, Display


def editor_options(display: Display) -> dict[str, Any]:
    """The editor's choices for this display (its stored ``secondary`` included)."""
    stored = display.secondary if isinstance(display.secondary, list) else []
    named = display_secondary.model_ids(stored)
    # A model whose weights are not read yet may be a classify model, unless a display
    # already runs it as its (detection) model.
    detecting = Display.objects.filter(model__task="").values("model_id")
    offered = (
        DetectionModel.objects.filter(DetectionModel.usable_as_secondary(), enabled=True)
        .exclude(task="", pk__in=detecting)
        .only("id", "name", "version", "task")
        .order_by("name", "version", "id")
    )
    models = [_offered(m) for m in sorted(offered, key=lambda m: m.task != CLASSIFY_TASK)]
    listed = {m["id"] for m in models}
    others = DetectionModel.objects.in_bulk([i for i in named if i not in listed])
    models += [_not_offered(i, others.get(i)) for i in named if i not in listed]
    primary = display.model if display.model_id is not None else None
    return {
        "models": models,
        "classes": [
            {"id": int(value), "label": label}
            for value, label in class_id_choices(primary, _stored_classes(stored))
        ],
        "defaults": {
            "min_size": display_secondary.MIN_SIZE_DEFAULT,
            "every_s": display_secondary.EVERY_S_DEFAULT,
        },
        "max_items": display_secondary.MAX_ITEMS,
    }


def _offered(model: DetectionModel) -> dict[str, Any]:
    unread = "" if model.task else " (weights not read yet)"
    return {"id": model.pk, "label": f"{model}{unread}"}


def _not_offered(model_id: int, model: DetectionModel | None) -> dict[str, Any]:
    if model is None:
        return {"id": model_id, "label": f"model {model_id} (deleted)"}
    why = "disabled" if not model.enabled else model.secondary_unusable_reason or "not offered"
    return {"id": model_id, "label": f"{model} ({why})"}


def _stored_classes(stored: list[Any]) -> list[int]:
    """Every class id the items name (a malformed item names none)."""
    ids: set[int] = set()
    for item in stored:
        classes = item.get("classes") if isinstance(item, dict) else None
        if isinstance(classes, list):
            ids |= {c for c in classes if isinstance(c, int) and not isinstance(c, bool)}
    return sorted(ids)
