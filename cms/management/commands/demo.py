"""Create the demo camera, model and display (what `make run` shows on a fresh machine)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cms.api.services import rotate_display_token
from cms.demo import Demo, ensure_demo
from cms.models import Display


class Command(BaseCommand):
    help = (
        "Create the demo camera (a looping clip), model and display, once, and print the "
        "display's client token; --rotate-token issues a new one."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--rotate-token",
            action="store_true",
            help="Issue a new client token for the demo display (the old one stops working).",
        )

    def handle(self, *args: Any, rotate_token: bool = False, **options: Any) -> None:
        if rotate_token:
            display = Display.objects.filter(identifier="demo").first()
            if display is None:
                raise CommandError("There is no demo display yet: run `manage.py demo` first.")
            demo = Demo(display, token=rotate_display_token(display))
        else:
            demo = ensure_demo(settings.DATA_DIR / "demo")
            display = demo.display
            self.stdout.write(
                f"demo: display {display.name!r} watches {display.camera.name!r} "
                f"through {display.model}"
            )
        self.stdout.write(f"demo: display token {demo.token_text()}")
        self.stdout.write(
            f'demo: curl -H "Authorization: Token <token>" {settings.SIGHTLINE_WEB_URL}'
            "/api/v1/display/state/"
        )
