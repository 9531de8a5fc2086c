"""zone_counts: objects per zone from one result's objects (pure)."""

from __future__ import annotations

from cms.zone_counts import zone_counts


def obj(class_name, *zones):
    return {"class_id": 0, "class_name": class_name, "box": [0, 0, 1, 1], "zones": list(zones)}


def test_counts_by_zone_and_class_view_first_in_order_of_appearance():
    objects = [
        obj("car", "lane", "view"),
        obj("person", "kerb", "view"),
        obj("car", "view", "lane"),
    ]

    assert zone_counts(objects) == [
        {"zone": "view", "count": 3, "by_class": {"car": 2, "person": 1}},
        {"zone": "lane", "count": 2, "by_class": {"car": 2}},
        {"zone": "kerb", "count": 1, "by_class": {"person": 1}},
    ]


def test_given_zones_are_listed_exactly_with_zeros_and_unknown_ones_left_out():
    objects = [obj("car", "view", "gone"), obj("car", "view", "view")]  # a zone named twice

    assert zone_counts(objects, ["view", "lane"]) == [
        {"zone": "view", "count": 2, "by_class": {"car": 2}},
        {"zone": "lane", "count": 0, "by_class": {}},
    ]


def test_untracked_objects_have_no_zones():
    assert zone_counts([{"class_name": "car"}]) == []
    assert zone_counts([], ["view"]) == [{"zone": "view", "count": 0, "by_class": {}}]
