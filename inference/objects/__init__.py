"""Objects, not boxes: tracks, zones and lines, debounced presence and object events.

Pure logic for the camera runner, called after inference on full-frame boxes: a camera's
``CameraTracker`` (in ``inference.objects.tracker``, imported on its own because it loads
ultralytics), a ``DisplayPresence`` per display, and the plain data they return. See
docs/objects.md.
"""

from inference.objects.entities import (
    NO_ATTRIBUTES,
    Attributes,
    OpenPresence,
    PresenceEvent,
    TrackedObject,
    attributes_json,
    cross_key,
    enter_key,
    leave_key_for,
)
from inference.objects.geometry import (
    VIEW_ZONE,
    Line,
    Zone,
    anchor,
    view_zone,
)
from inference.objects.ids import TrackIds, TrackIdsExhaustedError
from inference.objects.presence import DisplayPresence, PresenceUpdate, ZoneState

__all__ = [
    "NO_ATTRIBUTES",
    "VIEW_ZONE",
    "Attributes",
    "DisplayPresence",
    "Line",
    "OpenPresence",
    "PresenceEvent",
    "PresenceUpdate",
    "TrackIds",
    "TrackIdsExhaustedError",
    "TrackedObject",
    "Zone",
    "ZoneState",
    "anchor",
    "attributes_json",
    "cross_key",
    "enter_key",
    "leave_key_for",
    "view_zone",
]
