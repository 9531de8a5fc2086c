"""``manage.py validate_models``: check uploaded models not checked yet (older uploads)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from cms.model_validation import validate_model
from cms.models import DetectionModel


class Command(BaseCommand):
    help = "Load each uploaded model not checked yet in a child process and record what it is."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all", action="store_true", help="Check every uploaded model again.")

    def handle(self, *args: Any, **options: Any) -> None:
        models = DetectionModel.objects.exclude(weights="")
        if not options["all"]:
            models = models.filter(validation_state=DetectionModel.Validation.PENDING)
        for model in models.order_by("id"):
            state = validate_model(model.pk) or "skipped"
            self.stdout.write(f"{model}: {state}")
