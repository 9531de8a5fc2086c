"""Sends the farm's Celery tasks by name from the Django side.

``cms`` never imports ``tasks`` (imports run ``tasks -> cms``), and the web and
control processes must not import the ingest code and torch. So the tasks are sent by
name through a send-only Celery app configured from the same settings (broker,
routes, serializer) as the workers' app in ``tasks.celery``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from celery import Celery
from celery.utils import worker_direct
from celery.utils.nodenames import anon_nodename
from kombu.utils.uuid import uuid

RECONCILE = "tasks.control.reconcile"
START_CAMERAS = "tasks.ingest.start_cameras"  # to one ingest worker's direct queue
INGEST_CAMERA = "tasks.ingest.ingest_camera"  # the same, to a worker from before start lists
VALIDATE_MODEL = "tasks.control.validate_model"
RECORD_WORKER_REPORTS = "tasks.control.record_worker_reports"
TRY_MODEL = "tasks.ingest.try_model"  # to one ingest worker's direct queue (cms.model_tryout)

sender = Celery("sightline-sender", set_as_current=False)
sender.config_from_object("django.conf:settings", namespace="CELERY")
# Nothing on the Django side waits for a task's result, and a result backend makes every
# send subscribe to it first: with Redis down that blocks for 20 retries and raises a
# RuntimeError instead of the broker error callers handle.
sender.conf.update(result_backend=None)


def send_to_workers(
    name: str, messages: Sequence[tuple[str, list[Any]]], *, expires_s: float
) -> None:
    """Send task ``name`` once per (worker, args), each to that worker's direct queue, in one
    pipelined batch: what ``sender.send_task(name, args=..., queue=worker_direct(worker),
    expires=expires_s)`` sends for each, with the work that is the same for every message
    done once per batch. Celery spends about 0.35 ms of Python on a send_task, most of it on
    that work, and reconcile at 20,000 cameras on 500 workers sends 500 in one run.

    Once per batch: the expiry time (counted from the batch's start, so its messages expire
    together), the origin, the parent task (the reconcile task sending them), each worker's
    queue and its declaration. The argsrepr (shown by Flower) is ``repr`` cut at Celery's
    length, not its saferepr, which takes 1 ms on a list of 40 cameras. No retry per
    message: the batch reaches the broker when it ends, in pipelines kombu never retries.
    """
    if not messages:
        return
    amqp = sender.amqp
    conf = sender.conf
    expires = sender.now() + timedelta(seconds=expires_s)
    parent = sender.current_worker_task
    root_id = (parent.request.root_id or parent.request.id) if parent else None
    parent_id = parent.request.id if parent else None
    origin = anon_nodename()  # the sending process, as Celery names it in every message
    sent_event = conf.task_send_sent_event
    queues = {worker: worker_direct(worker) for worker in {w for w, _ in messages}}
    with sender.producer_or_acquire() as producer:
        for queue in queues.values():
            producer.maybe_declare(
                queue, retry=conf.task_publish_retry, **conf.task_publish_retry_policy
            )
        with producer.batch():
            for worker, args in messages:
                task_id = uuid()
                message = amqp.create_task_message(
                    task_id,
                    name,
                    args,
                    None,
                    expires=expires,
                    reply_to=sender.thread_oid,
                    create_sent_event=sent_event,
                    root_id=root_id,
                    parent_id=parent_id,
                    ignore_result=None,
                    argsrepr=repr(args)[: amqp.argsrepr_maxsize],
                    kwargsrepr="{}",
                    origin=origin,
                )
                amqp.send_task_message(
                    producer,
                    name,
                    message,
                    queue=queues[worker],
                    declare=[],
                    retry=False,
                    expiration=expires_s,
                )
