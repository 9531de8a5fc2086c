"""The assignment record and the commands a plan is made of, as plain data.

The pure planner (cms.farm.planner) makes them; cms.farm.reconcile carries them out.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Assignment:
    """What reconcile last commanded for a camera (the database's record)."""

    camera_id: int
    worker: str  # "" when stopped
    generation: int
    spec_hash: str = ""
    assigned_at: float = 0.0


@dataclass(frozen=True)
class Start:
    camera_id: int
    worker: str
    previous_generation: int
    spec_hash: str
    reason: str


@dataclass(frozen=True)
class Stop:
    camera_id: int
    previous_generation: int
    reason: str


@dataclass(frozen=True)
class UpdateSpec:
    camera_id: int
    generation: int
    spec_hash: str


Command = Start | Stop | UpdateSpec


@dataclass
class Plan:
    commands: list[Command] = field(default_factory=list)
    # camera id -> why it is not running (no worker, no capacity, ...)
    pending: dict[int, str] = field(default_factory=dict)
    # camera id -> since when it has been assigned but not seen running
    missing_since: dict[int, float] = field(default_factory=dict)
    # when to look again (a verdict waits for a heartbeat due by then), None: no need
    recheck_at: float | None = None
