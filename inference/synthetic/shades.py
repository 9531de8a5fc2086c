"""A second property of every shape, which the detector ignores: its shade, "light" or "dark".

The known truth for secondary classifiers: a light shape is drawn in its class colour
raised by `SHADE_OFFSET` per channel, a dark one lowered by it, each with a little jitter.
Both stay inside the colour range the detector was trained on (its class colour +/-
`shapes.COLOR_JITTER`), so the detector finds shaded shapes as it finds any other.
"""

from __future__ import annotations

import numpy as np

from inference.synthetic.shapes import SHAPE_CLASSES

SHADES = ("dark", "light")
"""The labels, in the order ultralytics gives their class ids (sorted folder names)."""

SHADE_OFFSET = 20
"""How far a shade moves its class colour, per channel: up for light, down for dark."""
SHADE_JITTER = 4
"""Each drawn shape's shade colour moves by up to this much more per channel."""


def check_shade(shade: str) -> str:
    """`shade` itself; ValueError naming the known shades otherwise."""
    if shade not in SHADES:
        raise ValueError(f"unknown shade {shade!r} (known: {', '.join(SHADES)})")
    return shade


def shade_color(cls: int, shade: str, rng: np.random.Generator) -> tuple[int, int, int]:
    """The colour (BGR, ints in 0..255) of a shape of class `cls` in `shade`, jittered."""
    sign = 1 if check_shade(shade) == "light" else -1
    base = np.array(SHAPE_CLASSES[cls].color, dtype=np.int32) + sign * SHADE_OFFSET
    jittered = np.clip(base + rng.integers(-SHADE_JITTER, SHADE_JITTER + 1, 3), 0, 255)
    b, g, r = (int(v) for v in jittered)
    return b, g, r


def random_shade(rng: np.random.Generator) -> str:
    """Either shade, equally likely."""
    return SHADES[int(rng.integers(0, len(SHADES)))]
