"""One batch of stream entries: parse, drop stale, apply the event policy, store, push, signal.

Pure decisions (parsing, policy) live in their own modules; this one does the I/O of a
batch: one query for the displays, one bulk insert, one query for the stored ids, and
one Redis pipeline for the live push and each display's latest state. Then
``detection_received`` goes to the receivers, one result at a time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import redis
from django.conf import settings
from django.db import transaction

from cms import live
from cms.farm import farm_keys
from cms.logs import log_context
from cms.models import Detection, Display, StreamAssignment
from cms.results.policy import PolicyState, should_deliver, signature
from cms.results.result_message import MalformedResult, ResultMessage
from cms.signals import detection_received

log = logging.getLogger(__name__)

Received = tuple[str, ResultMessage]  # (stream message id, its result)


@dataclass
class BatchOutcome:
    done: list[str] = field(default_factory=list)  # to acknowledge
    failed: dict[str, str] = field(default_factory=dict)  # message id -> error (retry)
    malformed: dict[str, str] = field(default_factory=dict)  # message id -> error (dead letter)
    delivered: int = 0
    stale: int = 0
    suppressed: int = 0
    orphaned: int = 0  # for a display that no longer exists


def process_batch(
    entries: Iterable[tuple[str, dict[bytes, bytes]]], client: redis.Redis
) -> BatchOutcome:
    outcome = BatchOutcome()
    received: list[Received] = []
    for message_id, fields in entries:
        try:
            received.append((message_id, ResultMessage.from_entry(fields)))
        except MalformedResult as exc:
            outcome.malformed[message_id] = str(exc)
    received = _drop_stale(received, client, outcome)
    displays = Display.objects.select_related("camera", "model").in_bulk(
        {r.display_id for _, r in received}
    )
    wanted = []
    for message_id, result in received:
        if result.display_id in displays:
            wanted.append((message_id, result))
        else:
            outcome.orphaned += 1
            outcome.done.append(message_id)
    deliver, policy_states = _apply_policy(wanted, displays, client, outcome)
    stored = _store([result for _, result in deliver])
    live.push_delivered(client, [stored[r.key] for _, r in deliver])
    failed_displays = set()
    for message_id, result in deliver:
        display = displays[result.display_id]
        # Receivers' records (and Django's report of a failing one) name the display.
        with log_context(camera_id=result.camera_id, display_id=result.display_id):
            responses = detection_received.send_robust(
                sender=Detection,
                display=display,
                camera=display.camera,
                model=display.model,
                result=result,
                detection=stored[result.key],
            )
        errors = [f"{getattr(r, '__name__', r)}: {e!r}" for r, e in responses if e is not None]
        if errors:
            outcome.failed[message_id] = "; ".join(errors)
            failed_displays.add(result.display_id)
            continue
        outcome.delivered += 1
        outcome.done.append(message_id)
    # Remember what was delivered; a display with a failure is decided again on retry.
    live.write_policy_states(
        client,
        {
            display_id: [state.signature, state.delivered_at]
            for display_id, state in policy_states.items()
            if state is not None and display_id not in failed_displays
        },
    )
    return outcome


def _drop_stale(
    received: list[Received], client: redis.Redis, outcome: BatchOutcome
) -> list[Received]:
    """Results from a generation that is no longer current are dropped (and counted)."""
    current = {}
    missing = []
    camera_ids = sorted({r.camera_id for _, r in received})
    for camera_id, published in zip(
        camera_ids, farm_keys.read_assignments(client, camera_ids), strict=True
    ):
        if published is None:
            missing.append(camera_id)
        else:
            current[camera_id] = published[0]
    if missing:  # Redis lost the fencing keys (restart): the database has them
        current.update(
            StreamAssignment.objects.filter(camera_id__in=missing).values_list(
                "camera_id", "generation"
            )
        )
    fresh = []
    for message_id, result in received:
        if result.generation < current.get(result.camera_id, 0):
            outcome.stale += 1
            outcome.done.append(message_id)
        else:
            fresh.append((message_id, result))
    return fresh


def _apply_policy(
    received: list[Received],
    displays: dict[int, Display],
    client: redis.Redis,
    outcome: BatchOutcome,
) -> tuple[list[Received], dict[int, PolicyState | None]]:
    display_ids = {r.display_id for _, r in received}
    stored = live.read_policy_states(client, sorted(display_ids))
    states: dict[int, PolicyState | None] = {
        d: PolicyState(tuple(tuple(p) for p in s[0]), s[1]) if s else None
        for d, s in ((d, stored.get(d)) for d in display_ids)
    }
    deliver = []
    for message_id, result in received:
        display = displays[result.display_id]
        classes = signature(result.objects)
        if should_deliver(
            Display.Policy(display.policy),
            interval_ms=display.policy_interval_ms,
            beat_s=settings.SIGHTLINE_RESULTS_BEAT_S,
            last=states[result.display_id],
            signature=classes,
            frame_time=result.frame_time,
        ):
            deliver.append((message_id, result))
            states[result.display_id] = PolicyState(classes, result.frame_time)
        else:
            outcome.suppressed += 1
            outcome.done.append(message_id)
    return deliver, states


def _store(results: list[ResultMessage]) -> dict[str, Detection]:
    """Insert the batch; a redelivered result's key already exists and is left alone."""
    if not results:
        return {}
    rows = [
        Detection(
            display_id=r.display_id,
            camera_id=r.camera_id,
            model_id=r.model_id,
            generation=r.generation,
            frame_seq=r.frame_seq,
            frame_time=datetime.fromtimestamp(r.frame_time, UTC),
            detected_objects=r.objects,  # the one rename: Detection.objects is the manager
            key=r.key,
        )
        for r in results
    ]
    with transaction.atomic():
        Detection.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    return Detection.objects.in_bulk([r.key for r in results], field_name="key")
