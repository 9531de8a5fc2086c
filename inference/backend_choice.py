"""Which backend (and which variant of it) a model runs on: pure logic over what was
measured, no I/O.

A candidate is a backend and a variant of it, named by a label: "torch", "openvino" (a static
batch-1 FP32 export run at FP32: the exact one), "openvino bf16" (the same export compiled at
the CPU's own default precision, where that is not f32), "openvino dynamic" (an export with a
dynamic batch and shape), "openvino dynamic bf16" (that export at the CPU's default precision,
on a CPU with AMX),
and the like for ONNX Runtime and TensorRT. The worker measures each on a real frame of the
stream, one frame per call and four frames in one call (ms per frame each), and how many of
torch's objects it reproduces (`agreement`); `choose` keeps the cheapest eligible one, the cost
being the per-frame figure at the size of the passes the model really runs
(`Measurement.cost_at`).
`auto` never picks a candidate that failed (export, load, run) or that disagrees with torch; a
forced backend runs its cheapest eligible variant, or falls back to torch with the reason.
torch is always the reference and always a candidate.
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
DYNAMIC = "dynamic"
"""The variant exported with a dynamic batch (and shape)."""
BATCHED_FRAMES = 4
"""How many copies of the frame the batched timing passes in one call."""


@dataclass(frozen=True)
class Candidate:
    """One way to run a model: a backend, and a variant of it: "" for the static batch-1
    export at its exported precision; DYNAMIC for the dynamic export; and either of them
    compiled at a device precision such as "bf16" (the device's default precision): "bf16",
    "dynamic bf16"."""

    backend: str
    variant: str = ""

    @property
    def label(self) -> str:
        """How people and the reports name it: "openvino", "openvino bf16"."""
        return f"{self.backend} {self.variant}".strip()

    @property
    def dynamic(self) -> bool:
        """Whether it runs an export with a dynamic batch and shape."""
        return DYNAMIC in self.variant.split()

    @property
    def precision(self) -> str:
        """The device precision it is compiled at ("bf16"); "" for the export's own."""
        return next((part for part in self.variant.split() if part != DYNAMIC), "")

    @property
    def exact_precision(self) -> bool:
        """Whether it runs the export at its own precision (not the device's default)."""
        return not self.precision


def backend_of_label(label: str) -> str:
    """The backend a candidate's label names ("openvino bf16" -> "openvino")."""
    return label.partition(" ")[0]


@dataclass(frozen=True)
class Measurement:
    """What trying one candidate (by label) on a real frame gave: ms per frame at one frame
    per call and with BATCHED_FRAMES frames in one call, and agreement with torch (1.0 for
    torch itself), or the error that stopped it (export, load or inference)."""

    label: str
    ms_per_frame: float | None = None
    agreement: float | None = None
    error: str = ""
    ms_batched: float | None = None

    @property
    def backend(self) -> str:
        return backend_of_label(self.label)

    @property
    def candidate(self) -> Candidate:
        backend, _, variant = self.label.partition(" ")
        return Candidate(backend, variant)

    def cost_at(self, frames_per_pass: float | None) -> float | None:
        """What ranking compares: ms per frame at passes of `frames_per_pass` frames (what the
        model's batcher has been running): the single-frame figure at one, the batched one at
        BATCHED_FRAMES or more, linear in between. Where the pass size is not known, the mean
        of the two (a camera alone runs single frames, several cameras on one model batch);
        the single-frame figure alone where batching was not measured."""
        if self.ms_per_frame is None:
            return None
        if self.ms_batched is None:
            return self.ms_per_frame
        if frames_per_pass is None:
            return (self.ms_per_frame + self.ms_batched) / 2
        weight = min(max((frames_per_pass - 1) / (BATCHED_FRAMES - 1), 0.0), 1.0)
        return (1 - weight) * self.ms_per_frame + weight * self.ms_batched

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
            return f"{self.label} failed: {self.error}"
        if self.ms_per_frame is None:
            return f"{self.label} was not measured"
        if not self.eligible:
            return (
                f"{self.label} disagrees with torch "
                f"({self.agreement or 0.0:.1%} of objects agree, {MIN_AGREEMENT:.0%} needed)"
            )
        return ""


@dataclass(frozen=True)
class Choice:
    """The backend a model runs on, the chosen candidate's label (`variant`), why, and what
    each candidate measured by label: ms per frame at one frame (`candidates`) and with
    BATCHED_FRAMES frames per call (`batched`); a candidate that failed is missing."""

    backend: str
    reason: str
    candidates: Mapping[str, float] = field(default_factory=dict)
    variant: str = ""
    batched: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.variant:
            object.__setattr__(self, "variant", self.backend)


def wanted_backend(model_backend: str, worker_backend: str) -> str:
    """A model's own backend when it has one, else the worker's setting."""
    return model_backend or worker_backend or AUTO


def variants_of(backend: str, *, device_precision: str = "", amx: bool = False) -> list[Candidate]:
    """The candidates of one backend: torch alone; an exported backend's static export and
    its dynamic one; OpenVINO also its static export at `device_precision` (the CPU's default
    inference precision, e.g. "bf16") when that is given and is not f32, and on a CPU with
    `amx` its dynamic export at that precision too. With AMX, bf16 runs a batch of frames in
    one pass much cheaper than one by one, which the static export cannot; without, the
    dynamic export at bf16 missed the agreement bar (docs/backends.md)."""
    if backend == TORCH:
        return [Candidate(TORCH)]
    if backend != "openvino" or device_precision in ("", "f32"):
        return [Candidate(backend), Candidate(backend, DYNAMIC)]
    dynamic_low = [Candidate(backend, f"{DYNAMIC} {device_precision}")] if amx else []
    return [
        Candidate(backend),
        Candidate(backend, device_precision),
        Candidate(backend, DYNAMIC),
        *dynamic_low,
    ]


def candidates_to_try(
    wanted: str, available: Iterable[str], *, device_precision: str = "", amx: bool = False
) -> list[Candidate]:
    """The candidates to measure for `wanted` on a worker that has `available`: torch first
    (the reference), then every variant (`variants_of`) of every available backend for
    `auto`, else of the forced one (measured even when not installed, so its failure is the
    reason shown)."""
    if wanted not in WANTED_CHOICES:
        raise ValueError(f"unknown backend {wanted!r}: use one of {', '.join(WANTED_CHOICES)}")
    if wanted == AUTO:
        backends = [b for b in dict.fromkeys(available) if b != TORCH and b in BACKEND_NAMES]
    else:
        backends = [] if wanted == TORCH else [wanted]
    variants = [
        v for b in backends for v in variants_of(b, device_precision=device_precision, amx=amx)
    ]
    return [Candidate(TORCH), *variants]


def choose(
    wanted: str, measurements: Iterable[Measurement], *, frames_per_pass: float | None = None
) -> Choice:
    """The candidate to run for `wanted` given each one's measurement and the mean size of
    the passes the model runs (`Measurement.cost_at`; None where not known).

    `auto`: the eligible candidate of the lowest cost (ties keep torch, then the exact
    variant, then the order measured). A forced backend: its cheapest eligible variant, else
    torch with the reason(s). torch is the answer whenever nothing else qualifies, even if
    torch's own measurement failed (it is what already runs).
    """
    if wanted not in WANTED_CHOICES:
        raise ValueError(f"unknown backend {wanted!r}: use one of {', '.join(WANTED_CHOICES)}")
    by_label = {m.label: m for m in measurements}
    ran = [m for m in by_label.values() if m.ms_per_frame is not None and not m.error]
    candidates = {m.label: round(m.ms_per_frame or 0.0, 2) for m in ran}
    batched = {m.label: round(m.ms_batched, 2) for m in ran if m.ms_batched is not None}

    def chosen(m: Measurement, reason: str) -> Choice:
        return Choice(m.backend, reason, candidates, m.label, batched)

    if wanted == TORCH:
        return Choice(TORCH, "forced by setting", candidates, TORCH, batched)
    if wanted != AUTO:
        variants = [m for m in by_label.values() if m.backend == wanted]
        best = _cheapest([m for m in variants if m.eligible], frames_per_pass)
        if best is not None:
            return chosen(best, "forced by setting")
        why = [m.why_not() for m in variants] or [f"{wanted} was not measured"]
        return Choice(TORCH, "fell back to torch: " + "; ".join(why), candidates, TORCH, batched)
    rejected = [m.why_not() for m in by_label.values() if not m.eligible and m.backend != TORCH]
    best = _cheapest([m for m in by_label.values() if m.eligible], frames_per_pass)
    if best is None:
        reason = _join("auto: nothing measured, torch kept", rejected)
        return Choice(TORCH, reason, candidates, TORCH, batched)
    if best.backend == TORCH:
        return chosen(best, _join("auto: torch is the fastest", rejected))
    reference = by_label.get(TORCH)
    torch_cost = None
    if reference is not None and reference.eligible:
        torch_cost = reference.cost_at(frames_per_pass)
    best_cost = best.cost_at(frames_per_pass)
    at = f" at {frames_per_pass:.1f} frames per pass" if frames_per_pass is not None else ""
    speed = f" ({torch_cost / best_cost:.1f}x torch{at})" if torch_cost and best_cost else ""
    return chosen(best, _join(f"auto: fastest{speed}", rejected))


def _cheapest(measurements: list[Measurement], frames_per_pass: float | None) -> Measurement | None:
    """The lowest cost; ties keep torch, then a variant at the export's own precision."""
    costs = {m.label: m.cost_at(frames_per_pass) for m in measurements}
    ranked = [m for m in measurements if costs[m.label] is not None]
    if not ranked:
        return None
    return min(
        ranked,
        key=lambda m: (costs[m.label], m.backend != TORCH, not m.candidate.exact_precision),
    )


def _join(reason: str, rejected: list[str]) -> str:
    return "; ".join([reason, *rejected])
