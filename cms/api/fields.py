"""Serializer fields that take exactly what the OpenAPI schema says, nothing DRF would coerce.

DRF's own fields are lenient: a CharField takes the number ``0`` as ``"0"``, a FloatField takes
``true`` as ``1.0``, a BooleanField takes ``"on"`` or ``1``, a CharField trims before counting
its length. Here, in a JSON body a string is a JSON string, a number a JSON number (a boolean is
not one), a boolean ``true`` or ``false``, and lengths count what was sent. Form bodies
(multipart, urlencoded) carry every value as text, so there a number is its decimal text and a
boolean is ``true`` or ``false``.
"""

from __future__ import annotations

import math
from typing import Any

from django.core.validators import RegexValidator
from django.db.models import Model
from rest_framework import serializers
from rest_framework.utils import html

# DRF refuses NUL characters in every CharField; the schema says so with this pattern. It
# matches no empty string: drf-spectacular states a blank value as a oneOf branch of its own.
NO_NUL_PATTERN = r"^[^\x00]+\Z"


def is_form_input(field: serializers.Field) -> bool:
    """Whether the field's input came as form data (every value a string), not as JSON."""
    root = field.root
    return html.is_html_input(getattr(root, "initial_data", None))


def _is_json_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class SchemaExtra:
    """A field whose OpenAPI schema states a rule drf-spectacular cannot read from its validators
    (an exclusive minimum, a multiple, a pattern the model checks): ``schema_extra`` is merged into
    the field's schema (cms.api.schema.SchemaExtraExtension). The rule itself is enforced where
    it lives, usually the model's validators."""

    schema_extra: dict[str, Any]
    response_extra: dict[str, Any]

    def __init__(
        self,
        *args: Any,
        schema_extra: dict[str, Any] | None = None,
        response_extra: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self.schema_extra = dict(schema_extra or {})
        # What only the response says (a field null in output that input cannot set to null).
        self.response_extra = dict(response_extra or {})
        super().__init__(*args, **kwargs)


class WeightsField(SchemaExtra, serializers.FileField):
    """An uploaded file; ``null`` in a response where a model has none (a hub model)."""


class EmptyFormValue:
    """An empty form or query value is a value: not a number or a boolean, and for a string
    that may not be blank, a blank one (DRF would skip it and take the default)."""

    def get_value(self, dictionary: Any) -> Any:
        name = getattr(self, "field_name", None)
        if html.is_html_input(dictionary) and name is not None and dictionary.get(name) == "":
            return ""
        return super().get_value(dictionary)  # type: ignore[misc]  # a mixin for DRF fields


class StrictCharField(EmptyFormValue, SchemaExtra, serializers.CharField):
    """A string, as sent: no number taken as its text, no trimming before the length check."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)
        if not self.read_only and not any(isinstance(v, RegexValidator) for v in self.validators):
            self.validators.append(
                RegexValidator(NO_NUL_PATTERN, message="Null characters are not allowed.")
            )

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictSlugField(EmptyFormValue, SchemaExtra, serializers.SlugField):
    """A slug, as sent (a number is not one)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(EmptyFormValue, SchemaExtra, serializers.IntegerField):
    """An integer: a JSON number without a fraction (not a boolean, not a string), or its text in
    form data."""

    def to_internal_value(self, data: Any) -> int:
        if not (isinstance(data, str) and is_form_input(self)) and not _is_json_number(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictFloatField(EmptyFormValue, SchemaExtra, serializers.FloatField):
    """A finite number: a JSON number (not a boolean, not a string), or its text in form data.

    Infinity and NaN cannot be stored or sent as JSON, so they are refused too.
    """

    def to_internal_value(self, data: Any) -> float:
        if not (isinstance(data, str) and is_form_input(self)) and not _is_json_number(data):
            self.fail("invalid")
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            self.fail("invalid")
        return value


class StrictDateTimeField(EmptyFormValue, SchemaExtra, serializers.DateTimeField):
    """An ISO time; an empty query value is not one (DRF would take it as left out)."""


class StrictChoiceField(EmptyFormValue, SchemaExtra, serializers.ChoiceField):
    """One of the choices; an empty query value is not one (DRF would take the default)."""


class StrictBooleanField(EmptyFormValue, SchemaExtra, serializers.BooleanField):
    """``true`` or ``false``: JSON booleans, or those two words in form data (in any case, as
    Python clients write ``True``); not ``1``, ``on`` or ``yes``."""

    FORM_VALUES = {"true": True, "false": False}

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, bool):
            return data
        if isinstance(data, str) and is_form_input(self) and data.lower() in self.FORM_VALUES:
            return self.FORM_VALUES[data.lower()]
        self.fail("invalid", input=data)
        raise AssertionError  # fail() raises


class StrictPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """The id of an existing row: an integer as StrictIntegerField takes it.

    Whether the row exists is not something a schema can say: an id that names no row is a 400
    naming the field (documented as such).
    """

    def to_internal_value(self, data: Any) -> Model:
        if isinstance(data, str) and is_form_input(self):
            if not data.isascii() or not data.isdigit():
                self.fail("incorrect_type", data_type="str")
        elif not _is_json_number(data) or (isinstance(data, float) and not data.is_integer()):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(int(data))
