"""The Celery application, configured from Django settings (the CELERY_ namespace)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings")

app = Celery("sightline")
app.config_from_object("django.conf:settings", namespace="CELERY")

# `celery -A tasks worker --ingest` turns a worker into an ingest worker.
from tasks.worker import install  # noqa: E402

install(app)
