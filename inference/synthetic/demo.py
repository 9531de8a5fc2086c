"""The offline demo's scene: shapes crossing a lane (a zone) and a door (a line), on a loop.

Pixel coordinates are in the scene's 320x240 frame. Every 12 s: a square drives left to
right through the lane, a triangle walks down across the door line, a circle parks in the
lane for 6 s (its box jittering like a parked car's), and one more square crosses
right to left. The loop repeats seamlessly when played again from the start.
"""

from __future__ import annotations

from inference.synthetic.video import Scene, linear_path, stationary_path

DEMO_LOOP_S = 12.0
DEMO_FPS = 10.0
DEMO_ZONE = ((40.0, 110.0), (280.0, 110.0), (280.0, 200.0), (40.0, 200.0))
"""The lane: a polygon (x, y) through which the squares drive and where the circle parks."""
DEMO_LINE = ((200.0, 80.0), (300.0, 80.0))
"""The door: the triangle crosses it downwards, from its left side to its right ("in")."""


def demo_scene(seed: int = 0) -> Scene:
    """One 12 s loop of the demo, at 10 fps."""
    return Scene(
        paths=(
            linear_path(1, "square", start=(-30, 160), end=(350, 160), t0=0.0, t1=6.0, size=44),
            linear_path(2, "triangle", start=(250, -20), end=(250, 100), t0=1.0, t1=5.0, size=36),
            stationary_path(3, "circle", at=(120, 170), t0=4.0, t1=10.0, size=40, jitter_px=2),
            linear_path(4, "square", start=(350, 125), end=(-30, 125), t0=6.5, t1=11.5, size=36),
        ),
        duration_s=DEMO_LOOP_S,
        fps=DEMO_FPS,
        seed=seed,
    )
