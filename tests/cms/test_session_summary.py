"""The display session summary's merge: plain dicts in, plain dicts out."""

from __future__ import annotations

from cms.display_sessions.summary import empty, merge_result, merge_results, normalised, view

T0 = 1_700_000_000.0


def car(track_id=None, confidence=0.8, zones=None, attributes=None, class_name="car", box_x=0.0):
    obj = {
        "class_id": 2 if class_name == "car" else 0,
        "class_name": class_name,
        "confidence": confidence,
        "box": [box_x, 0.0, box_x + 10.0, 10.0],
    }
    if track_id is not None:
        obj.update(track_id=track_id, first_seen=T0 - 100, zones=zones or ["view"])
    if attributes is not None:
        obj["attributes"] = attributes
    return obj


def test_a_track_seen_over_frames_has_its_first_and_last_seen_and_dwell():
    summary = empty()

    merge_results(summary, [(T0 + 1, [car(7)]), (T0 + 2.5, [car(7)]), (T0 + 4, [car(7)])])

    [track] = view(summary)["tracks"]
    assert track["track_id"] == 7 and track["class_name"] == "car"
    # The session's frames, not the object's own first_seen (before the session).
    assert (track["first_seen"], track["last_seen"], track["dwell_s"]) == (T0 + 1, T0 + 4, 3.0)
    assert view(summary)["counts"] == {"car": 1}


def test_frames_out_of_order_still_give_the_earliest_and_latest():
    summary = empty()

    merge_results(summary, [(T0 + 5, [car(1)]), (T0 + 2, [car(1)]), (T0 + 3, [car(1)])])

    [track] = view(summary)["tracks"]
    assert (track["first_seen"], track["last_seen"]) == (T0 + 2, T0 + 5)


def test_counts_are_distinct_tracks_per_class_and_tracks_are_listed_oldest_first():
    summary = empty()
    people = [car(10, class_name="person"), car(11, class_name="person")]

    merge_results(summary, [(T0, [car(1), *people]), (T0 + 1, [car(1), car(2), *people])])

    shown = view(summary)
    assert shown["counts"] == {"car": 2, "person": 2}
    assert [t["track_id"] for t in shown["tracks"]] == [1, 10, 11, 2]


def test_zones_visited_add_up_over_the_session():
    summary = empty()

    merge_results(
        summary,
        [(T0, [car(1, zones=["view"])]), (T0 + 1, [car(1, zones=["view", "lane"])])],
    )
    merge_result(summary, T0 + 2, [car(1, zones=["view", "kerb"])])

    assert view(summary)["tracks"][0]["zones"] == ["kerb", "lane", "view"]


def test_best_attributes_keep_the_most_confident_label_per_secondary_model():
    summary = empty()
    frames = [
        (T0, [car(1, attributes={"colour": {"label": "red", "confidence": 0.6}})]),
        (
            T0 + 1,
            [
                car(
                    1,
                    attributes={
                        "colour": {"label": "blue", "confidence": 0.9},
                        "body": {"label": "sedan", "confidence": 0.4},
                    },
                )
            ],
        ),
        (T0 + 2, [car(1, attributes={"colour": {"label": "green", "confidence": 0.7}})]),
    ]

    merge_results(summary, frames)

    assert view(summary)["tracks"][0]["attributes"] == {
        "colour": {"label": "blue", "confidence": 0.9},
        "body": {"label": "sedan", "confidence": 0.4},
    }


def test_a_track_takes_the_class_of_its_most_confident_detection_and_counts_move():
    summary = empty()

    merge_results(
        summary,
        [(T0, [car(1, confidence=0.4)]), (T0 + 1, [car(1, confidence=0.9, class_name="person")])],
    )

    [track] = view(summary)["tracks"]
    assert (track["class_name"], track["class_id"], track["confidence"]) == ("person", 0, 0.9)
    assert view(summary)["counts"] == {"person": 1}


def test_untracked_objects_count_as_the_most_of_a_class_in_one_result():
    summary = empty()
    three = [car(box_x=0), car(box_x=20), car(box_x=40)]

    merge_results(summary, [(T0, three[:2]), (T0 + 1, three), (T0 + 2, three[:1])])

    shown = view(summary)
    assert shown["untracked"] == {"car": 3}
    assert shown["tracks"] == [] and shown["counts"] == {}


def test_merging_the_same_results_again_changes_nothing():
    summary = empty()
    frames = [(T0, [car(1, zones=["lane"]), car()]), (T0 + 1, [car(1), car(2)])]
    assert merge_results(summary, frames)
    before = view(summary)

    assert not merge_results(summary, frames)  # a redelivered batch

    assert view(summary) == before


def test_beyond_the_bound_the_track_seen_longest_ago_is_no_longer_listed_but_counted():
    summary = empty()

    for n in range(5):
        merge_result(summary, T0 + n, [car(n)], max_tracks=3)
    merge_result(summary, T0 + 10, [car(0)], max_tracks=3)  # an evicted track seen again

    shown = view(summary)
    assert [t["track_id"] for t in shown["tracks"]] == [3, 4, 0]
    assert len(summary["tracks"]) == 3
    assert shown["tracks_not_listed"] == 3
    assert shown["counts"] == {"car": 6}  # track 0 was counted again (documented)


def test_malformed_attributes_are_ignored():
    summary = empty()

    merge_result(summary, T0, [car(1, attributes={"colour": {"label": 3}, "body": "x"})])

    assert view(summary)["tracks"][0]["attributes"] == {}


def test_a_new_rows_empty_summary_is_an_empty_summary():
    assert normalised({}) == empty()
    assert view({}) == {"tracks": [], "counts": {}, "untracked": {}, "tracks_not_listed": 0}
