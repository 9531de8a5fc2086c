"""Track ids unique for a camera and never reused, also across restarts and failover."""

from __future__ import annotations

ID_SPAN = 10**9
"""Ids one generation can hand out: ``generation * ID_SPAN + n`` with ``1 <= n < ID_SPAN``."""

MAX_SAFE_ID = 2**53 - 1
"""The largest integer a JavaScript client reads exactly (``Number.MAX_SAFE_INTEGER``)."""

MAX_GENERATION = MAX_SAFE_ID // ID_SPAN - 1
"""9_007_198: the highest generation whose every id stays at or below ``MAX_SAFE_ID``."""


class TrackIdsExhaustedError(RuntimeError):
    """A generation handed out all its ``ID_SPAN - 1`` ids (the runner needs a new generation)."""


class TrackIds:
    """Per-camera track id allocator: ``generation * 10**9 + 1``, ``+ 2``, ...

    Each camera assignment has its own generation (it grows on every restart or move), so ids of
    two generations never meet and a restarted runner never reissues an id. Ids stay below 2**53
    (JSON-safe in JavaScript) for generations up to ``MAX_GENERATION``. A generation's 10**9 - 1
    ids last 115 days at 100 new tracks per second. One allocator per camera runner, shared by
    that camera's trackers; never module- or class-level.
    """

    __slots__ = ("_base", "_next", "generation")

    def __init__(self, generation: int) -> None:
        if isinstance(generation, bool) or not isinstance(generation, int):
            raise TypeError(f"generation must be an int, got {generation!r}")
        if not 0 <= generation <= MAX_GENERATION:
            raise ValueError(f"generation must be within [0, {MAX_GENERATION}], got {generation}")
        self.generation = generation
        self._base = generation * ID_SPAN
        self._next = 1

    def next(self) -> int:
        """A new id, never returned before for this camera."""
        if self._next >= ID_SPAN:
            raise TrackIdsExhaustedError(
                f"generation {self.generation} handed out all of its {ID_SPAN - 1} track ids"
            )
        n = self._next
        self._next += 1
        return self._base + n

    @property
    def issued(self) -> int:
        """How many ids this allocator handed out."""
        return self._next - 1
