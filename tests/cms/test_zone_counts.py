"""zone_counts: objects per zone now, "view" holding every object."""

from __future__ import annotations

from cms.zone_counts import zone_counts


def obj(class_name: str, *zones: str, **extra: object) -> dict[str, object]:
    return {"class_name": class_name, "class_id": 0, "zones": list(zones), **extra}


def test_view_holds_every_object_and_each_zone_its_own():
    objects = [obj("car", "lane"), obj("car", "lane", "door"), obj("person", "door"), obj("car")]

    counts = zone_counts(objects, ["lane", "door"])

    assert counts == [
        {"zone": "view", "count": 4, "by_class": {"car": 3, "person": 1}},
        {"zone": "lane", "count": 2, "by_class": {"car": 2}},
        {"zone": "door", "count": 2, "by_class": {"car": 1, "person": 1}},
    ]


def test_configured_zones_with_nobody_in_them_count_zero_in_their_order():
    counts = zone_counts([], ["lane", "door"])

    assert [(c["zone"], c["count"], c["by_class"]) for c in counts] == [
        ("view", 0, {}),
        ("lane", 0, {}),
        ("door", 0, {}),
    ]


def test_zones_the_objects_name_but_the_display_does_not_come_last_sorted():
    counts = zone_counts([obj("car", "b-old"), obj("car", "a-old", "lane")], ["lane"])

    assert [c["zone"] for c in counts] == ["view", "lane", "a-old", "b-old"]
    assert [c["count"] for c in counts] == [2, 1, 1, 1]


def test_an_object_named_in_view_or_twice_in_a_zone_counts_once():
    counts = zone_counts([obj("car", "view", "lane", "lane")], ["lane"])

    assert [(c["zone"], c["count"]) for c in counts] == [("view", 1), ("lane", 1)]


def test_malformed_objects_count_in_view_with_a_class_that_says_what_is_known():
    objects = [
        {"class_id": 7, "zones": "lane"},  # zones not a list: in no named zone
        {"zones": ["lane", 3]},  # no class at all; a zone that is not a name is ignored
        {"class_name": "", "class_id": True},
        "not an object",
    ]

    counts = zone_counts(objects, ["lane"])

    assert counts[0] == {"zone": "view", "count": 3, "by_class": {"7": 1, "unknown": 2}}
    assert counts[1] == {"zone": "lane", "count": 1, "by_class": {"unknown": 1}}
