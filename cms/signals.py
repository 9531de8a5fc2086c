"""Sightline's signals.

``detection_received`` is how detections reach Django code: the results consumer
sends it once per delivered result, after the result was stored. Connect your own
receiver to react to what a display's camera sees (see docs/results.md)::

    from django.dispatch import receiver
    from cms.signals import detection_received

    @receiver(detection_received)
    def on_detection(sender, *, display, camera, model, result, detection, **kwargs):
        if any(obj["class_name"] == "car" for obj in result.objects):
            ...

Keyword arguments (all receivers get all of them):
    display: cms.models.Display       the display the result is for
    camera: cms.models.Camera         its camera
    model: cms.models.DetectionModel  the model that produced it
    result: cms.results.result_message.ResultMessage  the result as the worker sent it:
        objects (each a DetectedObject.to_dict()), frame_time (Unix seconds),
        frame_seq, generation, key (idempotency), display_id, camera_id, model_id
    detection: cms.models.Detection   the stored row (its id is the live event id)

Delivery is at least once: a message whose receivers did not all finish is delivered
again, so receivers must be idempotent (``detection.key`` is unique). A receiver that
raises makes the message fail; after SIGHTLINE_RESULTS_MAX_DELIVERIES failures it goes
to the dead letters (admin: Dead letters), from where it can be replayed.

``object_event`` is sent once per delivered object event (an object entered or left one
of a display's zones, or crossed one of its lines), after it was stored, in the same
batch as the detections and on the same terms (at least once, idempotent by
``event.key``, retried and dead-lettered alike)::

    from cms.signals import object_event

    @receiver(object_event)
    def on_object_event(sender, *, display, camera, event, message, **kwargs):
        if event.type == "enter" and event.zone == "lane" and event.class_name == "car":
            ...

Keyword arguments (all receivers get all of them):
    display: cms.models.Display       the display the event is for
    camera: cms.models.Camera         its camera
    event: cms.models.ObjectEvent     the stored row (its id is the live event id):
        type ("enter" | "leave" | "cross"), track_id, class_id, class_name, time
        (datetime), box, zone and dwell_s (leave), line and direction ("in" | "out")
    message: cms.results.object_event_message.ObjectEventMessage  as the worker sent it
        (time in Unix seconds, None where the row has "")

``session_updated`` tells about a display session (cms.display_sessions): sent at most
once a second per session while its live summary changes (by the results consumer), and
once when it closes (by whoever closed it: the API, a new session, the farm's expiry)::

    from cms.signals import session_updated

    @receiver(session_updated)
    def on_session(sender, *, display, session, summary, closed, **kwargs):
        if closed:
            report(session.session_id, summary["counts"])

Keyword arguments (all receivers get all of them):
    display: cms.models.Display         the session's display
    session: cms.models.DisplaySession  the row: session_id, started, ended (None while
        open), end_reason ("client" | "staff" | "replaced" | "expired"; "" while open)
    summary: dict  the summary as the API shows it (cms.display_sessions.summary.view):
        tracks (each track_id, class_id, class_name, confidence, first_seen, last_seen in
        Unix seconds, dwell_s, zones, attributes), counts, untracked, tracks_not_listed
    closed: bool   True exactly once, when the session closed

Best effort, unlike the two above: a receiver that raises is logged, nothing is retried.

The module also triggers a reconcile after committed changes to cameras, displays and
models: saves enqueue a debounced reconcile once the transaction commits, so a burst
of changes runs it a few times and a rolled-back change never runs it. A model saved
with a new weights file has it checked once the save commits (cms.model_validation).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal, receiver

from cms.models import Camera, DetectionModel, Display

detection_received = Signal()
object_event = Signal()
session_updated = Signal()

# Saves limited to these fields do not change what should run.
_BOOKKEEPING_FIELDS = {
    "client_last_seen",
    "client_version",
    "client_showing",
    "token_hash",
    "class_names",
    "updated",
}


@receiver([post_save, post_delete], sender=Camera)
@receiver([post_save, post_delete], sender=Display)
@receiver([post_save, post_delete], sender=DetectionModel)
def reconcile_after_commit(sender: type, instance: Any, **kwargs: Any) -> None:
    from cms.farm.reconcile import request_reconcile

    update_fields = kwargs.get("update_fields")
    if update_fields and set(update_fields) <= _BOOKKEEPING_FIELDS:
        return
    reason = f"{sender.__name__} {instance.pk} changed"
    transaction.on_commit(lambda: request_reconcile(reason))


@receiver(post_save, sender=DetectionModel)
def check_new_weights_after_commit(sender: type, instance: DetectionModel, **kwargs: Any) -> None:
    """New weights are checked off the web process (cms.model_validation)."""
    from cms.model_validation import request_validation

    if getattr(instance, "weights_to_check", False):
        instance.weights_to_check = False
        pk = instance.pk
        transaction.on_commit(lambda: request_validation(pk))
