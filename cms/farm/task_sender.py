"""Sends the farm's Celery tasks by name from the Django side.

``cms`` never imports ``tasks`` (imports run ``tasks -> cms``), and the web and
control processes must not import the ingest code and torch. So the tasks are sent by
name through a send-only Celery app configured from the same settings (broker,
routes, serializer) as the workers' app in ``tasks.celery``.
"""

from __future__ import annotations

from celery import Celery

RECONCILE = "tasks.control.reconcile"
INGEST_CAMERA = "tasks.ingest.ingest_camera"
VALIDATE_MODEL = "tasks.control.validate_model"
RECORD_WORKER_REPORTS = "tasks.control.record_worker_reports"
TRY_MODEL = "tasks.ingest.try_model"  # to one ingest worker's direct queue (cms.model_tryout)

sender = Celery("sightline-sender", set_as_current=False)
sender.config_from_object("django.conf:settings", namespace="CELERY")
# Nothing on the Django side waits for a task's result, and a result backend makes every
# send subscribe to it first: with Redis down that blocks for 20 retries and raises a
# RuntimeError instead of the broker error callers handle.
sender.conf.update(result_backend=None)
