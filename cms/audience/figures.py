"""Audience figures per play, from a display's stored object events: pure, over plain data.

- A **presence** is one stay of one track in the audience zone: a leave event gives it whole
  (from ``time - dwell_s``, its enter's time, to ``time``, the last sighting); an enter whose
  leave is not stored yet (``open``) lasts up to ``now``. Presence is already debounced by the
  display's ``min_seen_s``: a track that entered was seen there at least that long.
- A track (``(camera_id, track_id)``: track ids are unique per camera) of one of the audience
  classes is an **impression** of a play when one of its presences overlaps the play.
- Its **dwell** in the play is the time its presences overlap the play (so a track that stays
  across a content change adds dwell to both plays, each only its own part).
- Its **label** per secondary model is the one its enter and leave events' attributes gave with
  the highest confidence (the latest among equals): one label per track, counted once per play
  it is in. A track with presences but no labelled event has no label (it still counts).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

Track = tuple[int, int]  # (camera id, track id)


@dataclass(frozen=True)
class EventRow:
    """The fields of a stored ObjectEvent the figures read."""

    type: str  # "enter" or "leave" (crossings are ignored)
    camera_id: int
    track_id: int
    class_name: str
    zone: str
    time: datetime
    dwell_s: float | None = None
    open: bool = False
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Presence:
    track: Track
    start: datetime
    end: datetime


@dataclass(frozen=True)
class PlaySpan:
    """A play as the figures see it: ``ended`` is when it ended, or now while it plays."""

    content: str
    started: datetime
    ended: datetime


@dataclass(frozen=True)
class Figures:
    impressions: int
    dwell_sum_s: float
    max_dwell_s: float | None
    attributes: dict[str, dict[str, int]]

    @property
    def mean_dwell_s(self) -> float | None:
        return round(self.dwell_sum_s / self.impressions, 3) if self.impressions else None


@dataclass(frozen=True)
class Audience:
    """The presences of the audience tracks, and each track's label per secondary model."""

    presences: list[Presence]
    labels: dict[Track, dict[str, str]]


def audience(
    events: Iterable[EventRow], *, classes: Sequence[str], zone: str, now: datetime
) -> Audience:
    """The presences in ``zone`` of tracks of ``classes`` (see the module doc), and the labels
    of the tracks that have presences."""
    wanted = set(classes)
    presences: list[Presence] = []
    best: dict[Track, dict[str, tuple[float, datetime, str]]] = {}
    for event in events:
        if event.zone != zone or event.class_name not in wanted:
            continue
        track = (event.camera_id, event.track_id)
        if event.type == "leave":
            dwell = max(event.dwell_s or 0.0, 0.0)
            start = event.time - timedelta(seconds=dwell)
            presences.append(Presence(track, start, event.time))
        elif event.type == "enter" and event.open:
            presences.append(Presence(track, event.time, max(now, event.time)))
        elif event.type != "enter":
            continue  # a closed enter adds no presence (its leave does), but it has labels
        _note_labels(best.setdefault(track, {}), event)
    present = {p.track for p in presences}
    labels = {
        track: {m: v[2] for m, v in by_model.items()}
        for track, by_model in best.items()
        if track in present
    }
    return Audience(presences=presences, labels=labels)


def _note_labels(best: dict[str, tuple[float, datetime, str]], event: EventRow) -> None:
    for model, result in (event.attributes or {}).items():
        if not isinstance(result, Mapping):
            continue
        label, confidence = result.get("label"), result.get("confidence")
        if not isinstance(label, str) or not isinstance(confidence, int | float):
            continue
        held = best.get(model)
        if held is None or (confidence, event.time) >= (held[0], held[1]):
            best[model] = (float(confidence), event.time, label)


def play_figures(play: PlaySpan, seen: Audience) -> Figures:
    """Impressions, dwell and label counts of one play (see the module doc)."""
    dwell: dict[Track, float] = {}
    for presence in seen.presences:
        if _overlaps(presence, play):
            overlap = (
                min(presence.end, play.ended) - max(presence.start, play.started)
            ).total_seconds()
            dwell[presence.track] = dwell.get(presence.track, 0.0) + max(overlap, 0.0)
    attributes: dict[str, dict[str, int]] = {}
    for track in dwell:
        for model, label in seen.labels.get(track, {}).items():
            counts = attributes.setdefault(model, {})
            counts[label] = counts.get(label, 0) + 1
    return Figures(
        impressions=len(dwell),
        dwell_sum_s=round(sum(dwell.values()), 3),
        max_dwell_s=round(max(dwell.values()), 3) if dwell else None,
        attributes=_sorted(attributes),
    )


def _overlaps(presence: Presence, play: PlaySpan) -> bool:
    """A presence that shares time with the play; one of no length counts where it falls
    (from the play's start, before its end)."""
    if presence.start == presence.end:
        return play.started <= presence.start < play.ended
    return presence.start < play.ended and presence.end > play.started


def totals(figures: Iterable[tuple[PlaySpan, Figures]]) -> dict[str, dict[str, Any]]:
    """Per content item: plays, seconds played, impressions (summed over plays), mean dwell
    (over those impressions), max dwell and label counts (summed)."""
    out: dict[str, dict[str, Any]] = {}
    for play, fig in figures:
        entry = out.setdefault(
            play.content,
            {
                "plays": 0,
                "played_s": 0.0,
                "impressions": 0,
                "dwell_sum_s": 0.0,
                "max": None,
                "attributes": {},
            },
        )
        entry["plays"] += 1
        entry["played_s"] += max((play.ended - play.started).total_seconds(), 0.0)
        entry["impressions"] += fig.impressions
        entry["dwell_sum_s"] += fig.dwell_sum_s
        if fig.max_dwell_s is not None:
            entry["max"] = max(entry["max"] or 0.0, fig.max_dwell_s)
        for model, counts in fig.attributes.items():
            into = entry["attributes"].setdefault(model, {})
            for label, n in counts.items():
                into[label] = into.get(label, 0) + n
    return {
        content: {
            "content": content,
            "plays": e["plays"],
            "played_s": round(e["played_s"], 3),
            "impressions": e["impressions"],
            "mean_dwell_s": round(e["dwell_sum_s"] / e["impressions"], 3)
            if e["impressions"]
            else None,
            "max_dwell_s": e["max"],
            "attributes": _sorted(e["attributes"]),
        }
        for content, e in sorted(out.items())
    }


def _sorted(attributes: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    return {m: dict(sorted(c.items())) for m, c in sorted(attributes.items())}
