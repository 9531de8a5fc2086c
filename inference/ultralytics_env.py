"""Make ultralytics safe to import in a worker: no network at import, no writes to $HOME.

ultralytics reads its environment once, at first import: without YOLO_OFFLINE it
resolves DNS names at import (which blocks for seconds where there is no network), its
settings file lives in the user's config dir, and a missing optional package makes it
try `pip install` at run time. Everything here is a default: the environment wins.
Hub downloads (`yolo11n.pt`) still work where the internet is reachable; YOLO_OFFLINE
only switches off the connectivity probe, update checks and analytics.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

ULTRALYTICS_DEFAULTS = {
    "YOLO_OFFLINE": "true",
    "YOLO_AUTOINSTALL": "false",
    "YOLO_VERBOSE": "false",
}


def _default_config_dir() -> str:
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    return str(Path(tempfile.gettempdir()) / f"sightline-ultralytics-{uid}")


def configure_ultralytics() -> None:
    """Set ultralytics' environment defaults; call before ultralytics is first imported."""
    for name, value in ULTRALYTICS_DEFAULTS.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("YOLO_CONFIG_DIR", _default_config_dir())


def yolo_class() -> Any:
    """The `ultralytics.YOLO` class, imported lazily so `import inference` stays cheap."""
    configure_ultralytics()
    from ultralytics import YOLO

    return YOLO
