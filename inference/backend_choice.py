"""Which backend a model runs on: pure logic over what was measured, no I/O.

The worker measures each candidate backend on a real frame of the stream (ms per frame, and
how many of torch's objects it reproduces: `agreement`), and `choose` keeps the fastest
eligible one. `auto` never picks a candidate that failed (export, load, run) or that
disagrees with torch; a forced backend that failed or disagrees falls back to torch, and
the reason says why. torch is always the reference and always a candidate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from inference.backends.agreement import REQUIRED_AGREEMENT
from inference.backends.formats import BACKENDS

TORCH = "torch"
BACKEND_NAMES = BACKENDS
"""Every backend a model can run on (what SIGHTLINE_INFERENCE_BACKEND and a model's
`backend` name); which of them a worker has is `inference.backends.available_backends`."""
AUTO = "auto"
WANTED_CHOICES = (AUTO, *BACKEND_NAMES)
"""What a worker setting may ask for: `auto` (the fastest that agrees) or one backend."""
MIN_AGREEMENT = REQUIRED_AGREEMENT
"""The fraction of torch's objects a backend must reproduce to be eligible (the issue's 99 %)."""


@dataclass(frozen=True)
class Measurement:
    """What trying one backend on a real frame gave: ms per frame and agreement with torch
    (1.0 for torch itself), or the error that stopped it (export, load or inference)."""

    backend: str
    ms_per_frame: float | None = None
    agreement: float | None = None
    error: str = ""

    @property
    def eligible(self) -> bool:
        """Whether it ran, and reproduced torch's objects well enough to replace it."""
        return (
            not self.error
            and self.ms_per_frame is not None
            and (self.backend == TORCH or (self.agreement or 0.0) >= MIN_AGREEMENT)
        )

    def why_not(self) -> str:
        """Why it is not eligible, for people ("" when it is)."""
        if self.error:
            return f"{self.backend} failed: {self.error}"
        if self.ms_per_frame is None:
            return f"{self.backend} was not measured"
        if not self.eligible:
            return (
                f"{self.backend} disagrees with torch "
                f"({self.agreement or 0.0:.1%} of objects agree, {MIN_AGREEMENT:.0%} needed)"
            )
        return ""


@dataclass(frozen=True)
class Choice:
    """The backend a model runs on, why, and what each candidate measured (ms per frame;
    a candidate that failed is missing from `candidates`)."""

    backend: str
    reason: str
    candidates: Mapping[str, float] = field(default_factory=dict)


def wanted_backend(model_backend: str, worker_backend: str) -> str:
    """A model's own backend when it has one, else the worker's setting."""
    return model_backend or worker_backend or AUTO


def candidates_to_try(wanted: str, available: Iterable[str]) -> list[str]:
    """The backends to measure for `wanted` on a worker that has `available`: torch first
    (the reference), then every available one for `auto`, else the forced one (measured
    even when not installed, so its failure is the reason shown)."""
    if wanted not in WANTED_CHOICES:
        raise ValueError(f"unknown backend {wanted!r}: use one of {', '.join(WANTED_CHOICES)}")
    if wanted == AUTO:
        others = [b for b in available if b != TORCH and b in BACKEND_NAMES]
        return [TORCH, *dict.fromkeys(others)]
    return [TORCH] if wanted == TORCH else [TORCH, wanted]


def choose(wanted: str, measurements: Iterable[Measurement]) -> Choice:
    """The backend to run for `wanted` given each candidate's measurement.

    `auto`: the fastest eligible candidate (ties keep torch). A forced backend: that one
    when eligible, else torch with the reason. torch is the answer whenever nothing else
    qualifies, even if torch's own measurement failed (it is what already runs).
    """
    if wanted not in WANTED_CHOICES:
        raise ValueError(f"unknown backend {wanted!r}: use one of {', '.join(WANTED_CHOICES)}")
    by_backend = {m.backend: m for m in measurements}
    timed = {b: m.ms_per_frame for b, m in by_backend.items() if m.eligible and m.ms_per_frame}
    candidates = {
        b: round(m.ms_per_frame, 2)
        for b, m in by_backend.items()
        if m.ms_per_frame is not None and not m.error
    }
    if wanted == TORCH:
        return Choice(TORCH, "forced by setting", candidates)
    if wanted != AUTO:
        forced = by_backend.get(wanted, Measurement(wanted))
        if forced.eligible:
            return Choice(wanted, "forced by setting", candidates)
        return Choice(TORCH, f"fell back to torch: {forced.why_not()}", candidates)
    rejected = [m.why_not() for m in by_backend.values() if not m.eligible and m.backend != TORCH]
    if not timed:
        return Choice(TORCH, _join("auto: nothing measured, torch kept", rejected), candidates)
    # Torch wins ties: switching costs memory and a swap for nothing.
    best = min(timed, key=lambda b: (timed[b], b != TORCH))
    if best == TORCH:
        return Choice(TORCH, _join("auto: torch is the fastest", rejected), candidates)
    torch_ms = timed.get(TORCH)
    speed = f" ({torch_ms / timed[best]:.1f}x torch)" if torch_ms else ""
    return Choice(best, _join(f"auto: fastest{speed}", rejected), candidates)


def _join(reason: str, rejected: list[str]) -> str:
    return "; ".join([reason, *rejected])
