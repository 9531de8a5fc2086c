"""The admin's model pages: class filters picked by name, and warnings about a model.

A class filter is stored as it always was (a model's ``classes``: class ids; a display's
``audience_classes``: class names); only how the operator chooses it changes. Where the
model's classes are known (``DetectionModel.class_names``, filled when its weights are first
read) the admin offers them as checkboxes; until then it keeps the JSON text input and says
why (docs/admin.md#models).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Count, QuerySet

from cms import display_secondary
from cms.models import DetectionModel, Display

# The version the offline demo gives its untrained stand-in model (cms.demo).
UNTRAINED_VERSION = "untrained"

NOT_KNOWN_YET = (
    "The model's class names are not known yet (its weights have not been read: they are "
    "read when an upload is checked or a worker first loads the model), so type them here."
)


def class_id_choices(model: DetectionModel | None, stored: Any) -> list[tuple[str, str]]:
    """The model's classes as (id, "id: name") choices, plus any stored id it lacks (so a
    saved filter never drops silently); [] when the model's classes are not known."""
    names = _names(model)
    if not names:
        return []
    known = {int(k) for k in names if str(k).isdecimal()}
    extra = sorted(
        {c for c in (stored or []) if isinstance(c, int) and not isinstance(c, bool)} - known
    )
    choices = [(str(i), f"{i}: {names[str(i)]}") for i in sorted(known)]
    return choices + [(str(i), f"{i}: (not a class of this model)") for i in extra]


def class_name_choices(model: DetectionModel | None, stored: Any) -> list[tuple[str, str]]:
    """The model's class names as choices, plus any stored name it lacks; [] when the
    model's classes are not known."""
    names = _names(model)
    if not names:
        return []
    ordered = [names[k] for k in sorted(names, key=_id_order)]
    unique = list(dict.fromkeys(str(n) for n in ordered))
    extra = [n for n in (stored or []) if isinstance(n, str) and n not in unique]
    return [(n, n) for n in unique] + [(n, f"{n} (not a class of this model)") for n in extra]


def _names(model: DetectionModel | None) -> dict[str, str]:
    if model is None or not isinstance(model.class_names, dict):
        return {}
    return {str(k): str(v) for k, v in model.class_names.items()}


def _id_order(key: str) -> tuple[int, str]:
    return (int(key), "") if key.isdecimal() else (1 << 30, key)


class ClassIdsField(forms.TypedMultipleChoiceField):
    """Class ids chosen by name; cleans to a sorted list of ints, or None for all classes
    (what the model's ``classes`` stores today: null keeps all)."""

    def __init__(self, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(
            choices=choices,
            coerce=int,
            required=False,
            empty_value=None,
            widget=forms.CheckboxSelectMultiple(attrs={"class": "class-filter"}),
            **kwargs,
        )

    def clean(self, value: Any) -> list[int] | None:
        cleaned = super().clean(value)
        return sorted(set(cleaned)) if cleaned else None

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return [str(v) for v in value]
        return value


class ClassNamesField(forms.MultipleChoiceField):
    """Class names chosen from the model's; cleans to a list of names in the model's order."""

    def __init__(self, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        self.order = [value for value, _ in choices]
        super().__init__(
            choices=choices,
            required=False,
            widget=forms.CheckboxSelectMultiple(attrs={"class": "class-filter"}),
            **kwargs,
        )

    def clean(self, value: Any) -> list[str]:
        chosen = set(super().clean(value))
        return [name for name in self.order if name in chosen]


class DetectionModelForm(forms.ModelForm):
    """The model's class filter as checkboxes of its classes, once they are known."""

    class Meta:
        model = DetectionModel
        # Every field, as the admin's default form: its get_fields() reads them from here.
        fields = "__all__"  # noqa: DJ007

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "classes" not in self.fields:
            return
        current = self.fields["classes"]
        choices = class_id_choices(self.instance, self.instance.classes)
        if choices:
            self.fields["classes"] = ClassIdsField(
                choices,
                label=current.label,
                help_text="Tick the classes to keep; none ticked keeps all. Stored as their "
                "class ids.",
            )
        else:
            current.help_text = f"{current.help_text} {NOT_KNOWN_YET}"


def audience_classes_field(display: Display, current: forms.Field) -> forms.Field:
    """The display's audience classes as checkboxes of its model's class names; the JSON
    text input (``current``) with a note while they are not known."""
    model = display.model if display.model_id is not None else None
    choices = class_name_choices(model, display.audience_classes)
    if not choices:
        current.help_text = f"{current.help_text} {NOT_KNOWN_YET}"
        return current
    return ClassNamesField(
        choices,
        label=current.label,
        help_text="Tick the classes counted as audience; none ticked: person.",
    )


# --- warnings ------------------------------------------------------------------------------


def with_use_counts(queryset: QuerySet[DetectionModel]) -> QuerySet[DetectionModel]:
    """Annotates ``display_total``: the displays that use each model as their model."""
    return queryset.annotate(display_total=Count("displays", distinct=True))


def model_warnings(model: DetectionModel, *, used_as_secondary: bool | None = None) -> list[str]:
    """What an operator should know before relying on this model, short ("" when none).

    - untrained: the offline demo's untrained stand-in (its boxes are random);
    - disabled: no display runs on it;
    - unused: no display uses it, as its model or as a secondary model.
    """
    warnings = []
    if model.version == UNTRAINED_VERSION:
        warnings.append("untrained: the demo's stand-in weights, its boxes are random")
    if not model.enabled:
        warnings.append("disabled: no display runs on it")
    total = getattr(model, "display_total", None)
    if total is None:
        total = model.displays.count() if model.pk else 0
    if used_as_secondary is None:
        used_as_secondary = bool(model.pk and Display.using_as_secondary([model.pk]))
    if not total and not used_as_secondary:
        warnings.append("unused: no display uses this model")
    return warnings


def secondary_users(model_ids: list[int]) -> set[int]:
    """Which of these models some display uses as a secondary model."""
    wanted = set(model_ids)
    used: set[int] = set()
    for display in Display.using_as_secondary(model_ids):
        used |= wanted.intersection(display_secondary.model_ids(display.secondary))
    return used
