"""The suite's own trained models, each trained once per machine and cached on disk: the shapes
detector and the shades classifier (a secondary model: "dark" or "light" per shape).

The cache lives under `SIGHTLINE_TEST_CACHE` (default `~/.cache/sightline`), so fresh clones
on one machine share it; its key covers the generator's code, the training settings and
the library versions, so a change to any of them trains again (about 5 minutes on two
CPU cores; the classifier about 30 s) instead of using stale weights.
"""

from __future__ import annotations

import os
from pathlib import Path

from inference.synthetic import (
    DEFAULT_CLASSIFIER_SPEC,
    cached_classifier_path,
    cached_detector_path,
    trained_classifier,
    trained_detector,
)

TRAINING_ALLOWANCE_S = 1200.0
"""Extra time a test gets when its session must train the detector first (5 min measured)."""
CLASSIFIER_TRAINING_ALLOWANCE_S = 600.0
"""The same for the shades classifier (30 s measured; the rest is for a busy machine)."""
TRAINED_CONFIDENCE = 0.25
"""The confidence threshold at which the trained detector's accuracy is asserted."""
TRAINED_IMGSZ = 320
"""The size it was trained at: the generated frames' width."""
TRAINED_CLASSIFIER_IMGSZ = DEFAULT_CLASSIFIER_SPEC.crops.imgsz
"""The classifier's crop size: make its crops with `classification_crop(size=this)`."""


def suite_cache_root() -> Path:
    """Where the suite caches what it trains."""
    configured = os.environ.get("SIGHTLINE_TEST_CACHE", "")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "sightline"


def trained_detector_weights() -> Path:
    """The trained shapes detector's .pt, training it first on a cache miss."""
    return trained_detector(suite_cache_root())


def trained_detector_is_cached() -> bool:
    """Whether the trained detector is in the cache already (no training this session)."""
    return cached_detector_path(suite_cache_root()).is_file()


def trained_classifier_weights() -> Path:
    """The trained shades classifier's .pt ("dark", "light"), training it first on a cache miss."""
    return trained_classifier(suite_cache_root())


def trained_classifier_is_cached() -> bool:
    """Whether the trained classifier is in the cache already (no training this session)."""
    return cached_classifier_path(suite_cache_root()).is_file()
