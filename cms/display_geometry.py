"""A display's zones and lines: the rules, in one place, for Display.clean(), the admin and the API.

Pure functions over parsed JSON. Each returns every problem it finds as a message that names
the item (``zones[1].polygon: needs 3 to 64 points, got 2``), or ``[]`` when the value is
valid. They walk a fixed depth and never echo what they were given beyond short names and
bounded numbers, so any JSON at all (nested deep, huge, NaN) gives messages, never an exception.

Geometry is in source pixels (the camera's full frame). A point is ``[x, y]``, two numbers
(booleans are not numbers), >= 0 and, when the frame size is known, inside the frame
(``x <= width``, ``y <= height``: a zone may follow the frame's edge). A display's crop does
not restrict its zones. Every display also has the implicit zone ``view`` (its crop or the
whole frame), so no zone may take that name.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

NAME_MAX_LENGTH = 50
# Names travel in events and query strings (?zone=lane): words of ASCII letters, digits and
# "_", "-", ".", separated by single spaces. The API schema states the same pattern.
NAME_PATTERN = r"^[A-Za-z0-9_.-]+( [A-Za-z0-9_.-]+)*$"
RESERVED_ZONE = "view"
POLYGON_MIN_POINTS = 3
POLYGON_MAX_POINTS = 64
MAX_ZONES = 50
MAX_LINES = 50
# No video frame is this large; bounds every coordinate when the frame size is not known yet.
MAX_COORDINATE = 100_000
# A response lists at most this many problems.
MAX_ERRORS = 20

ZONE_KEYS = ("name", "polygon")
LINE_KEYS = ("name", "points")

_NAME_RE = re.compile(NAME_PATTERN)
FrameSize = tuple[int, int]


def validate_zones(value: object, frame_size: FrameSize | None = None) -> list[str]:
    """Problems with ``value`` as a display's zones, ``[{"name": "lane", "polygon": [[x, y],
    ...]}]`` (3 to 64 points each); ``[]`` when it is valid."""
    return _validate_items(value, "zones", ZONE_KEYS, MAX_ZONES, _zone_errors, frame_size)


def validate_lines(value: object, frame_size: FrameSize | None = None) -> list[str]:
    """Problems with ``value`` as a display's lines, ``[{"name": "door", "points": [[x1, y1],
    [x2, y2]]}]`` (two distinct points); ``[]`` when it is valid."""
    return _validate_items(value, "lines", LINE_KEYS, MAX_LINES, _line_errors, frame_size)


def _validate_items(
    value: object,
    field: str,
    keys: tuple[str, ...],
    max_items: int,
    item_errors: Callable[[str, dict[str, Any], FrameSize | None], list[str]],
    frame_size: FrameSize | None,
) -> list[str]:
    if not isinstance(value, list):
        return [f"{field}: must be a list, got {json_type(value)}"]
    if len(value) > max_items:
        return [f"{field}: at most {max_items} {field}, got {len(value)}"]
    errors: list[str] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(value):
        where = f"{field}[{index}]"
        if not isinstance(item, dict):
            errors.append(f"{where}: must be an object with {_and(keys)}, got {json_type(item)}")
            continue
        unknown = sorted(str(key) for key in item if key not in keys)
        if unknown:
            errors.append(f"{where}: unknown key(s) {_names(unknown)}; allowed: {_and(keys)}")
        missing = [key for key in keys if key not in item]
        errors.extend(f"{where}.{key}: required" for key in missing)
        if "name" in item:
            name_problem = _name_error(item["name"], reserved=field == "zones")
            if name_problem:
                errors.append(f"{where}.name: {name_problem}")
            elif item["name"] in seen:
                errors.append(
                    f"{where}.name: {item['name']!r} is already the name of "
                    f"{field}[{seen[item['name']]}]"
                )
            else:
                seen[item["name"]] = index
        errors.extend(item_errors(where, item, frame_size))
        if len(errors) > MAX_ERRORS:
            break
    return _capped(errors)


def _zone_errors(where: str, item: dict[str, Any], frame_size: FrameSize | None) -> list[str]:
    if "polygon" not in item:
        return []
    where = f"{where}.polygon"
    polygon = item["polygon"]
    if not isinstance(polygon, list):
        return [f"{where}: must be a list of [x, y] points, got {json_type(polygon)}"]
    if not POLYGON_MIN_POINTS <= len(polygon) <= POLYGON_MAX_POINTS:
        return [
            f"{where}: needs {POLYGON_MIN_POINTS} to {POLYGON_MAX_POINTS} points, "
            f"got {len(polygon)}"
        ]
    return _points_errors(where, polygon, frame_size)


def _line_errors(where: str, item: dict[str, Any], frame_size: FrameSize | None) -> list[str]:
    if "points" not in item:
        return []
    where = f"{where}.points"
    points = item["points"]
    if not isinstance(points, list):
        return [f"{where}: must be a list of two [x, y] points, got {json_type(points)}"]
    if len(points) != 2:
        return [f"{where}: needs exactly 2 points, got {len(points)}"]
    errors = _points_errors(where, points, frame_size)
    if not errors and points[0] == points[1]:
        errors.append(f"{where}: the two points must differ")
    return errors


def _points_errors(where: str, points: list[Any], frame_size: FrameSize | None) -> list[str]:
    errors = []
    for index, point in enumerate(points):
        problem = point_error(point, frame_size)
        if problem:
            errors.append(f"{where}[{index}]: {problem}")
            if len(errors) > MAX_ERRORS:
                break
    return errors


def point_error(point: object, frame_size: FrameSize | None = None) -> str:
    """What is wrong with ``point`` as ``[x, y]`` in source pixels ("" when nothing is)."""
    if not isinstance(point, list) or len(point) != 2:
        return f"must be [x, y], two numbers, got {json_type(point)}"
    x, y = point
    if not (is_number(x) and is_number(y)):
        bad = y if is_number(x) else x
        return f"x and y must be numbers, got {json_type(bad)}"
    # Compared before anything converts them to float: a huge int does not fit one.
    if x < 0 or y < 0:
        return "x and y must be >= 0"
    if x > MAX_COORDINATE or y > MAX_COORDINATE:
        return f"x and y must be at most {MAX_COORDINATE}"
    if math.isnan(x) or math.isnan(y):  # NaN fails both comparisons above
        return "x and y must be numbers, not NaN"
    if frame_size is not None:
        width, height = frame_size
        if x > width or y > height:
            return f"[{x:g}, {y:g}] is outside the camera's {width}x{height} frame"
    return ""


def _name_error(name: object, *, reserved: bool) -> str:
    if not isinstance(name, str):
        return f"must be a string, got {json_type(name)}"
    if not 1 <= len(name) <= NAME_MAX_LENGTH:
        return f"must be 1 to {NAME_MAX_LENGTH} characters, got {len(name)}"
    if not _NAME_RE.fullmatch(name):  # fullmatch: "$" alone would let a final newline in
        return (
            "may hold ASCII letters, digits, '_', '-' and '.', in words separated by single spaces"
        )
    if reserved and name == RESERVED_ZONE:
        return (
            f"{RESERVED_ZONE!r} is reserved: it is the display's implicit zone (its crop or frame)"
        )
    return ""


def is_number(value: object) -> bool:
    """A JSON number: an int or a float, not a bool (True is an int to Python)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def json_type(value: object) -> str:
    """The JSON name of a parsed value's type, for messages that must not echo the value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _and(keys: tuple[str, ...]) -> str:
    return " and ".join(keys)


def _names(keys: list[str]) -> str:
    shown = ", ".join(repr(key[:NAME_MAX_LENGTH]) for key in keys[:5])
    return shown + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")


def _capped(errors: list[str]) -> list[str]:
    if len(errors) <= MAX_ERRORS:
        return errors
    return [*errors[:MAX_ERRORS], f"... and more problems (the first {MAX_ERRORS} are listed)"]
