"""Zones, lines and the geometry of an object's anchor point, in source-frame pixels.

Image coordinates: x grows to the right, y grows DOWN (row 0 is the top of the frame).

An object's position is its anchor, the bottom-centre of its box (where it stands on the ground).
It is in a zone when the anchor is inside the zone's polygon or on its edge.

A line ``p1 -> p2`` has a direction. Its LEFT side is the side on your left hand when you walk from
``p1`` to ``p2`` on the screen as a viewer sees it; its RIGHT side the other. For a line drawn left
to right, left is above it and right below::

        left  (cross(p) < 0)
    p1 ───────────────────────► p2
        right (cross(p) > 0)

In numbers: ``cross(p) = (x2 - x1) * (py - y1) - (y2 - y1) * (px - x1)`` is negative on the left,
positive on the right (with y down; with y up the signs would swap). Crossing ``in`` is moving
from the left side to the right side across the line's SEGMENT (not its extension); ``out`` the
reverse.

What a display may store (names, point counts, bounds) is checked on the Django side
(cms/display_geometry.py); this module takes zones and lines that passed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from inference.crops import Crop
from inference.entities import Box

Point = tuple[float, float]
FrameSize = tuple[int, int]
"""(width, height) of the source frame in pixels."""

VIEW_ZONE = "view"
"""The implicit zone every display has: its crop, or the whole frame."""

MIN_POLYGON_POINTS = 3


def anchor(box: Box) -> Point:
    """The box's bottom-centre ``((x1 + x2) / 2, y2)``: the point zones and lines test."""
    return ((box[0] + box[2]) / 2.0, box[3])


def _cross(a: Point, b: Point, p: Point) -> float:
    return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])


def _on_segment(a: Point, b: Point, p: Point, eps: float = 1e-9) -> bool:
    if abs(_cross(a, b, p)) > eps * max(1.0, math.dist(a, b)):
        return False
    return (
        min(a[0], b[0]) - eps <= p[0] <= max(a[0], b[0]) + eps
        and min(a[1], b[1]) - eps <= p[1] <= max(a[1], b[1]) + eps
    )


def point_in_polygon(point: Point, polygon: Sequence[Point]) -> bool:
    """True when ``point`` is inside ``polygon`` or on its edge (even-odd rule for the inside)."""
    x, y = point
    inside = False
    n = len(polygon)
    j = n - 1
    for i in range(n):
        xi, yi = polygon[i]
        xj, yj = polygon[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    if inside:
        return True
    # The even-odd test leaves part of the edge outside; a box standing on the zone's (or the
    # frame's) bottom edge is in it.
    return any(_on_segment(polygon[i - 1], polygon[i], point) for i in range(n))


def side_of_line(point: Point, p1: Point, p2: Point) -> int:
    """-1 when ``point`` is on the line's left (see the module doc), +1 on its right, 0 on it."""
    c = _cross(p1, p2, point)
    return 1 if c > 0 else -1 if c < 0 else 0


def segment_crosses(a: Point, b: Point, p1: Point, p2: Point) -> bool:
    """True when the movement ``a -> b`` goes from one side of segment ``p1 p2`` to the other.

    ``a`` and ``b`` must be strictly on opposite sides; the crossing point must lie on the segment
    (its ends included), not on the line's extension.
    """
    sa, sb = side_of_line(a, p1, p2), side_of_line(b, p1, p2)
    if sa == 0 or sb == 0 or sa == sb:
        return False
    s1, s2 = side_of_line(p1, a, b), side_of_line(p2, a, b)
    return s1 != s2 or s1 == 0


def crossing_fraction(a: Point, b: Point, p1: Point, p2: Point) -> float:
    """Where along ``a -> b`` (0 at a, 1 at b) the movement meets the line through p1, p2."""
    ca, cb = _cross(p1, p2, a), _cross(p1, p2, b)
    if ca == cb:
        return 0.0
    return min(1.0, max(0.0, ca / (ca - cb)))


def direction_of(from_side: int) -> str:
    """The crossing direction when leaving ``from_side``: from the left (-1) is "in"."""
    return "in" if from_side < 0 else "out"


@dataclass(frozen=True, slots=True)
class Zone:
    """A named polygon; ``contains`` tests a point (edges included)."""

    name: str
    polygon: tuple[Point, ...]
    _bounds: tuple[float, float, float, float] = field(init=False, repr=False, compare=False)
    _is_box: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.polygon) < MIN_POLYGON_POINTS:
            raise ValueError(f"zone {self.name!r} needs at least {MIN_POLYGON_POINTS} points")
        xs = [p[0] for p in self.polygon]
        ys = [p[1] for p in self.polygon]
        bounds = (min(xs), min(ys), max(xs), max(ys))
        object.__setattr__(self, "_bounds", bounds)
        object.__setattr__(self, "_is_box", _is_box(self.polygon, bounds))

    def contains(self, point: Point) -> bool:
        """True when ``point`` is inside the polygon or on its edge."""
        x0, y0, x1, y1 = self._bounds
        if not (x0 <= point[0] <= x1 and y0 <= point[1] <= y1):
            return False
        # An axis-aligned rectangle (the view zone, most drawn zones) is its bounds, edges
        # included: every point that passed the test above is in it.
        return self._is_box or point_in_polygon(point, self.polygon)


def _is_box(polygon: Sequence[Point], bounds: tuple[float, float, float, float]) -> bool:
    """True when ``polygon`` goes once around the axis-aligned rectangle ``bounds``."""
    x0, y0, x1, y1 = bounds
    corners = {(x0, y0), (x1, y0), (x1, y1), (x0, y1)}
    if len(polygon) != 4 or not (x0 < x1 and y0 < y1) or {(p[0], p[1]) for p in polygon} != corners:
        return False
    # Each edge along one axis: four distinct corners in that order are the rectangle's outline
    # (a diagonal edge would make a bow tie).
    return all(
        (a[0] == b[0]) != (a[1] == b[1])
        for a, b in zip(polygon, (*polygon[1:], polygon[0]), strict=True)
    )


@dataclass(frozen=True, slots=True)
class Line:
    """A named directed segment ``p1 -> p2``; crossing it left to right is "in"."""

    name: str
    points: tuple[Point, Point]

    def __post_init__(self) -> None:
        if self.points[0] == self.points[1]:
            raise ValueError(f"line {self.name!r} needs two distinct points")

    def side(self, point: Point) -> int:
        """-1 left, +1 right, 0 on the line (see the module doc)."""
        # side_of_line, inlined: it runs for every track and line in every frame.
        (ax, ay), (bx, by) = self.points
        c = (bx - ax) * (point[1] - ay) - (by - ay) * (point[0] - ax)
        return 1 if c > 0 else -1 if c < 0 else 0

    def crossed_by(self, a: Point, b: Point) -> bool:
        """True when the movement ``a -> b`` crosses this segment."""
        return segment_crosses(a, b, self.points[0], self.points[1])


def view_zone(crop: Crop | Sequence[float] | None, frame_size: FrameSize) -> Zone:
    """The implicit zone ``view``: the crop (a ``Crop`` or x1, y1, x2, y2), else the whole frame."""
    if crop is None:
        x1, y1, x2, y2 = 0.0, 0.0, float(frame_size[0]), float(frame_size[1])
    elif isinstance(crop, Crop):
        x1, y1, x2, y2 = float(crop.x1), float(crop.y1), float(crop.x2), float(crop.y2)
    else:
        x1, y1, x2, y2 = (float(v) for v in crop)
    return Zone(VIEW_ZONE, ((x1, y1), (x2, y1), (x2, y2), (x1, y2)))
