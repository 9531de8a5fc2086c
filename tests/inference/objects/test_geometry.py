"""Zones, lines and the anchor (inference/objects/geometry.py), and the zone/line validators."""

from __future__ import annotations

import subprocess
import sys

import pytest

from inference.crops import Crop
from inference.objects.geometry import (
    Line,
    Zone,
    anchor,
    crossing_fraction,
    direction_of,
    point_in_polygon,
    segment_crosses,
    side_of_line,
    view_zone,
)

SQUARE = ((100.0, 100.0), (200.0, 100.0), (200.0, 200.0), (100.0, 200.0))
FRAME = (640, 480)


def test_the_anchor_is_the_bottom_centre_of_the_box() -> None:
    assert anchor((10.0, 20.0, 30.0, 60.0)) == (20.0, 60.0)


@pytest.mark.parametrize(
    ("point", "inside"),
    [
        ((150, 150), True),
        ((99.9, 150), False),
        ((250, 150), False),
        ((150, 200), True),  # on the bottom edge
        ((100, 100), True),  # a corner
        ((200, 150), True),  # on the right edge
        ((150, 200.1), False),
    ],
)
def test_a_point_is_in_a_polygon_inside_or_on_its_edge(
    point: tuple[float, float], inside: bool
) -> None:
    assert point_in_polygon(point, SQUARE) is inside
    assert Zone("z", SQUARE).contains(point) is inside


def test_a_rectangle_zone_s_bounds_test_agrees_with_the_polygon_test() -> None:
    # Axis-aligned rectangles skip the polygon test; in any corner order and orientation they
    # must contain exactly the points point_in_polygon does, edges and near misses included.
    coords = [99.0, 99.9999999, 100.0, 100.0000001, 150.0, 199.9999999, 200.0, 200.0000001, 201.0]
    points = [(x, y) for x in coords for y in coords]
    x0, y0, x1, y1 = 100.0, 100.0, 200.0, 200.0
    outlines = [
        SQUARE,
        SQUARE[::-1],
        SQUARE[2:] + SQUARE[:2],
        ((x0, y0), (x0, y1), (x1, y1), (x1, y0)),
        ([x0, y0], [x1, y0], [x1, y1], [x0, y1]),  # lists, as read from JSON
    ]
    for outline in outlines:
        zone = Zone("r", outline)  # type: ignore[arg-type]
        assert zone._is_box
        for p in points:
            assert zone.contains(p) is point_in_polygon(p, outline), (outline, p)
    # The same corners as a bow tie, and a 4-gon that is not a rectangle, take the polygon test.
    bow_tie = Zone("b", ((x0, y0), (x1, y1), (x1, y0), (x0, y1)))
    kite = Zone("k", ((x0, y0), (x1, y0), (x1, y1), (x0 + 10, y1)))
    for zone in (bow_tie, kite):
        assert not zone._is_box
        for p in points:
            assert zone.contains(p) is point_in_polygon(p, zone.polygon), (zone.name, p)


def test_a_concave_polygon_leaves_its_notch_outside() -> None:
    # A U shape: the notch between the arms is outside.
    u = Zone("u", ((0, 0), (30, 0), (30, 30), (20, 30), (20, 10), (10, 10), (10, 30), (0, 30)))
    assert u.contains((5, 20))
    assert u.contains((25, 20))
    assert not u.contains((15, 20))
    assert u.contains((15, 5))


def test_left_is_above_a_line_drawn_left_to_right_in_image_coordinates() -> None:
    line = Line("door", ((0.0, 100.0), (200.0, 100.0)))
    assert line.side((50.0, 40.0)) == -1  # above on screen (smaller y): left
    assert line.side((50.0, 160.0)) == 1  # below: right
    assert line.side((50.0, 100.0)) == 0
    # Reversing the line swaps its sides.
    assert side_of_line((50.0, 40.0), (200.0, 100.0), (0.0, 100.0)) == 1


def test_a_downward_line_has_its_left_on_the_right_of_the_screen() -> None:
    # Walking down the screen (p1 at the top), the viewer's right-hand side (larger x) is the
    # walker's left.
    line = Line("v", ((100.0, 0.0), (100.0, 200.0)))
    assert line.side((150.0, 50.0)) == -1
    assert line.side((50.0, 50.0)) == 1


def test_crossing_is_across_the_segment_not_its_extension() -> None:
    p1, p2 = (0.0, 100.0), (200.0, 100.0)
    assert segment_crosses((50, 50), (60, 150), p1, p2)
    assert not segment_crosses((250, 50), (260, 150), p1, p2)  # past the end
    assert not segment_crosses((50, 50), (60, 90), p1, p2)  # same side
    assert not segment_crosses((50, 50), (50, 100), p1, p2)  # onto the line only
    assert segment_crosses((200, 50), (200, 150), p1, p2)  # through the end point


def test_crossing_direction_in_is_from_left_to_right() -> None:
    line = Line("door", ((0.0, 100.0), (200.0, 100.0)))
    a, b = (50.0, 50.0), (50.0, 150.0)
    assert line.crossed_by(a, b)
    assert direction_of(line.side(a)) == "in"
    assert direction_of(line.side(b)) == "out"
    assert crossing_fraction(a, b, *line.points) == pytest.approx(0.5)
    assert crossing_fraction((50, 90), (50, 130), *line.points) == pytest.approx(0.25)


def test_a_line_needs_two_distinct_points() -> None:
    with pytest.raises(ValueError, match="distinct"):
        Line("l", ((1.0, 1.0), (1.0, 1.0)))


def test_the_view_zone_is_the_crop_or_the_whole_frame() -> None:
    whole = view_zone(None, FRAME)
    assert whole.name == "view"
    assert whole.contains((320, 480))  # a box standing on the frame's bottom edge
    assert whole.contains((0, 0))
    assert not whole.contains((641, 10))
    cropped = view_zone(Crop(100, 50, 300, 250), FRAME)
    assert cropped.contains((200, 250))
    assert not cropped.contains((50, 100))
    assert view_zone((100, 50, 300, 250), FRAME) == cropped


def test_importing_the_object_layer_loads_neither_torch_nor_ultralytics() -> None:
    # The Django side imports it (farm_keys, the checkpoint); only .tracker loads ultralytics.
    code = (
        "import sys, inference.objects; "
        "print(sorted(m for m in ('torch', 'ultralytics', 'django', 'celery') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    assert out.strip() == "[]"
