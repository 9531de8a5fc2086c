"""Signals: reconcile after committed changes to what should run.

Saves and deletes of cameras, displays and models enqueue a (debounced) reconcile
once the transaction commits, so a burst of changes runs reconcile a few times and a
rolled-back change never runs it at all.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from cms.models import Camera, DetectionModel, Display


@receiver([post_save, post_delete], sender=Camera)
@receiver([post_save, post_delete], sender=Display)
@receiver([post_save, post_delete], sender=DetectionModel)
def reconcile_after_commit(sender: type, instance: Any, **kwargs: Any) -> None:
    from tasks.reconcile import request_reconcile

    reason = f"{sender.__name__} {instance.pk} changed"
    transaction.on_commit(lambda: request_reconcile(reason))
