"""The `results` process: Redis Stream -> cms.signals.detection_received (at least once)."""

from __future__ import annotations

import os
import signal
import socket
import threading
from typing import Any

from django.core.management.base import BaseCommand

from cms import redis_connection
from cms.results.consumer import ResultsConsumer


class Command(BaseCommand):
    help = "Deliver detections from the results stream to Django signal receivers."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--name", default=f"{socket.gethostname()}-{os.getpid()}")

    def handle(self, *args: Any, name: str, **options: Any) -> None:
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            # Finish the batch in hand, then exit: unacknowledged work is claimed later anyway.
            signal.signal(signum, lambda *_: stop.set())
        ResultsConsumer(redis_connection.client(), name).run(stop)
        self.stdout.write(f"results consumer {name} stopped")
