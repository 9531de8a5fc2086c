"""The display's event policy, applied before storing and pushing (pure).

- every:    every result is delivered.
- change:   a result is delivered when what it shows differs from the last delivered
            one: the tracked objects and their zones, or (without tracking) the classes
            and their counts.
- interval: at most one result per ``interval_ms``.
Under "change" and "interval", a result is also delivered when nothing was delivered
for ``beat_s``: the periodic "unchanged" beat that tells a client its state is fresh.
What "differs" means is cms.results.signature's, shared with the ingest workers.
"""

from __future__ import annotations

from dataclasses import dataclass

from cms.models import Display
from cms.results.signature import Signature


@dataclass(frozen=True)
class PolicyState:
    signature: Signature
    delivered_at: float  # the frame time of the last delivered result


def should_deliver(
    policy: Display.Policy,
    *,
    interval_ms: int,
    beat_s: float,
    last: PolicyState | None,
    signature: Signature,
    frame_time: float,
) -> bool:
    if policy is Display.Policy.EVERY or last is None:
        return True
    since_last = frame_time - last.delivered_at
    if since_last >= beat_s:
        return True
    if policy is Display.Policy.CHANGE:
        return signature != last.signature
    if policy is Display.Policy.INTERVAL:
        return since_last * 1000 >= interval_ms
    raise ValueError(f"unknown event policy {policy!r}")
