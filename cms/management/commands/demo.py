"""Create the demo camera, model and display (what `make run` shows on a fresh machine)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from cms.demo import ensure_demo


class Command(BaseCommand):
    help = "Create the demo camera (a looping clip), model and display, once."

    def handle(self, *args: Any, **options: Any) -> None:
        display = ensure_demo(settings.DATA_DIR / "demo")
        self.stdout.write(
            f"demo: display {display.name!r} watches {display.camera.name!r} "
            f"through {display.model}"
        )
