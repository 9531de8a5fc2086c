"""A slow user receiver, so a test can kill the consumer in the middle of a batch."""

from __future__ import annotations

import os
import time
from typing import Any

from django.dispatch import receiver

from cms.signals import detection_received


@receiver(detection_received)
def slow_receiver(**kwargs: Any) -> None:
    time.sleep(float(os.environ.get("TESTAPP_RECEIVER_DELAY_S", "0")))
