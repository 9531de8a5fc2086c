"""The size of the frames a camera's stream delivers, as the worker saw them.

Zones and lines are checked against it (Display.clean()), and the admin and the API show it.
"""

from __future__ import annotations

from cms.display_geometry import MAX_COORDINATE
from cms.models import Camera


def record_frame_size(camera_id: int, width: int, height: int) -> bool:
    """Store what the stream delivered; returns whether it changed (idempotent).

    A queryset update: it writes only on a change, sends no post_save (a new frame size
    changes nothing that runs, so it triggers no reconcile) and leaves ``updated`` alone.
    Raises ValueError for a size that is not two integers in 1..MAX_COORDINATE.
    """
    for value in (width, height):
        if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_COORDINATE:
            raise ValueError(
                f"A frame size is two integers in 1..{MAX_COORDINATE}, got {width!r}x{height!r}."
            )
    changed = (
        Camera.objects.filter(pk=camera_id)
        .exclude(frame_width=width, frame_height=height)
        .update(frame_width=width, frame_height=height)
    )
    return changed > 0
