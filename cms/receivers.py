"""Built-in receivers of ``detection_received``: the display's latest state and live push.

Storing the Detection row happens before the signal, in bulk per batch
(cms.results.processing), so these receivers get the stored row.
"""

from __future__ import annotations

import time
from typing import Any

from django.dispatch import receiver

from cms import live
from cms.signals import detection_received
from tasks import redis_state


def event_payload(detection: Any) -> dict[str, Any]:
    return {
        "id": detection.id,
        "frame_seq": detection.frame_seq,
        "frame_time": detection.frame_time.isoformat(),
        "objects": detection.detected_objects,
        "generation": detection.generation,
    }


@receiver(detection_received, dispatch_uid="sightline.latest_state")
def keep_latest_state(*, display: Any, result: Any, detection: Any, **kwargs: Any) -> None:
    """The newest result per display, for /api/v1/display/state/; older ones never overwrite."""
    client = redis_state.client()
    current = live.read_latest(client, display.id)
    if current is not None and current.get("detection_id", 0) > detection.id:
        return
    live.write_latest(
        client,
        display.id,
        {
            **event_payload(detection),
            "detection_id": detection.id,
            "received_at": time.time(),
        },
    )


@receiver(detection_received, dispatch_uid="sightline.live_push")
def push_live_event(*, display: Any, detection: Any, **kwargs: Any) -> None:
    """Push to the display's connected clients (Server-Sent Events)."""
    live.publish_event(redis_state.client(), display.id, event_payload(detection))
