"""cms.display_secondary's rules over any JSON: messages naming the item, never an exception."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cms.display_secondary import model_ids, model_problems, shape_errors, with_defaults


def test_a_valid_list_gets_its_defaults_and_plain_numbers():
    value = [{"model": 3.0}, {"model": 4, "classes": [1.0, 2], "min_size": 8.0, "every_s": 1}]

    assert shape_errors(value) == []
    assert with_defaults(value) == [
        {"model": 3, "classes": None, "min_size": 32, "every_s": 2.0},
        {"model": 4, "classes": [1, 2], "min_size": 8, "every_s": 1.0},
    ]
    assert [type(v) for v in with_defaults(value)[1].values()] == [int, list, int, float]


@pytest.mark.parametrize(
    "value, message",
    [
        ([{"model": 1, "every_s": math.nan}], "secondary[0].every_s: must be greater than 0"),
        ([{"model": 1, "every_s": math.inf}], "secondary[0].every_s: must be at most 3600"),
        ([{"model": 1, "every_s": 10**400}], "secondary[0].every_s: must be at most 3600"),
        ([{"model": 10**30}], "secondary[0].model: must be a model id"),
        ([{"model": 0}], "secondary[0].model: must be a model id"),
        ([{"model": 1, "classes": [True]}], "secondary[0].classes: class ids are integers"),
        ([{"model": 1, "classes": list(range(1001))}], "at most 1000 class ids, got 1001"),
        ([{"model": 1}, {"model": 1.0}], "secondary[1].model: model 1 is already secondary[0]"),
        ([{"model": 1, "x" * 5000: 1}], "unknown key(s) '" + "x" * 50 + "'"),
    ],
)
def test_problems_name_the_item_and_the_key(value, message):
    assert message in shape_errors(value)[0]


def test_messages_are_capped():
    errors = shape_errors([{"model": -1, "min_size": 0, "every_s": 0, "a": 1, "b": 2}] * 4)

    assert len(errors) <= 21


def test_model_problems_skip_the_models_kept_from_before():
    value = with_defaults([{"model": 1}, {"model": 2}, {"model": 3}])
    unusable = {2: "it is a 'detect' model, not a classify model", 3: ""}

    assert model_problems(value, unusable) == [
        "secondary[0].model: unknown model 1",
        "secondary[1].model: model 2 cannot be a secondary model: it is a 'detect' model, "
        "not a classify model",
    ]
    assert model_problems(value, unusable, unchecked={1, 2}) == []


def test_model_ids_of_anything():
    assert model_ids([{"model": 2}, {"model": "x"}, 5, {"model": 3}]) == [2, 3]
    assert model_ids({"model": 2}) == []


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=30,
)
ITEM = st.fixed_dictionaries(
    {"model": st.integers(1, 10)},
    optional={"classes": st.none() | JSON, "min_size": JSON, "every_s": JSON},
)


@given(st.one_of(JSON, st.lists(ITEM | JSON, max_size=6)))
def test_any_json_gives_messages_or_a_valid_list_never_an_exception(value):
    errors = shape_errors(value)
    if not errors:
        assert isinstance(value, list)
        assert shape_errors(with_defaults(value)) == []
