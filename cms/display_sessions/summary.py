"""A display session's live summary: pure functions over plain dicts (no Django, no I/O).

The stored form (``DisplaySession.summary``, JSON)::

    {"tracks": {"<track_id>": {"track_id", "class_id", "class_name", "confidence",
                               "first_seen", "last_seen", "zones", "attributes"}},
     "counts": {"<class name>": distinct tracks},
     "untracked": {"<class name>": most untracked objects of the class in one result},
     "tracks_not_listed": tracks counted but no longer listed}

- A track's ``first_seen`` / ``last_seen`` are the frame times (Unix seconds) of the first and
  last result of the session it was in; its class is that of its most confident detection
  (``confidence``); ``zones`` every zone it was in; ``attributes`` the most confident label per
  secondary model (``{"<model>": {"label", "confidence"}}``).
- Objects without a ``track_id`` (the display does not track) cannot be told apart from one
  frame to the next, so they are not tracks: ``untracked`` keeps, per class, the most of them
  seen in one result (a lower bound of how many there were).
- At most MAX_TRACKS tracks are listed: a new track beyond that evicts the one seen longest
  ago, which stays counted in ``counts`` (``tracks_not_listed`` says how many were evicted; an
  evicted track seen again is counted again).

Merging is idempotent: merging a result twice (a redelivery) changes nothing the second time,
so ``merge_result`` returning False means "nothing new".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

MAX_TRACKS = 500

Summary = dict[str, Any]


def empty() -> Summary:
    return {"tracks": {}, "counts": {}, "untracked": {}, "tracks_not_listed": 0}


def normalised(summary: Summary | None) -> Summary:
    """The summary with every key present (a new row's ``{}`` is an empty summary)."""
    base = empty()
    base.update(summary or {})
    return base


def merge_results(summary: Summary, results: Iterable[tuple[float, list[dict[str, Any]]]]) -> bool:
    """Merge (frame_time, objects) results into ``summary`` in place; whether it changed."""
    changed = False
    for frame_time, objects in results:
        changed |= merge_result(summary, frame_time, objects)
    return changed


def merge_result(
    summary: Summary,
    frame_time: float,
    objects: list[dict[str, Any]],
    *,
    max_tracks: int = MAX_TRACKS,
) -> bool:
    """Merge one result's objects (DetectedObject.to_dict() each) into ``summary`` in place."""
    changed = False
    untracked: Counter[str] = Counter()
    for obj in objects:
        if obj.get("track_id") is None:
            untracked[obj["class_name"]] += 1
        else:
            changed |= _merge_track(summary, frame_time, obj, max_tracks)
    peaks = summary["untracked"]
    for class_name, count in untracked.items():
        if count > peaks.get(class_name, 0):
            peaks[class_name] = count
            changed = True
    return changed


def _merge_track(summary: Summary, frame_time: float, obj: dict[str, Any], max_tracks: int) -> bool:
    tracks: dict[str, dict[str, Any]] = summary["tracks"]
    key = str(obj["track_id"])
    track = tracks.get(key)
    if track is None:
        if len(tracks) >= max_tracks:
            _evict_oldest(summary)
        tracks[key] = track = {
            "track_id": obj["track_id"],
            "class_id": obj["class_id"],
            "class_name": obj["class_name"],
            "confidence": obj["confidence"],
            "first_seen": frame_time,
            "last_seen": frame_time,
            "zones": [],
            "attributes": {},
        }
        _count(summary, track["class_name"], 1)
        changed = True
    else:
        changed = _merge_sighting(summary, track, frame_time, obj)
    changed |= _merge_zones(track, obj.get("zones"))
    changed |= _merge_attributes(track, obj.get("attributes"))
    return changed


def _merge_sighting(
    summary: Summary, track: dict[str, Any], frame_time: float, obj: dict[str, Any]
) -> bool:
    changed = False
    if frame_time < track["first_seen"]:
        track["first_seen"], changed = frame_time, True
    if frame_time > track["last_seen"]:
        track["last_seen"], changed = frame_time, True
    if obj["confidence"] > track["confidence"]:
        if obj["class_name"] != track["class_name"]:  # the track's class is its best guess
            _count(summary, track["class_name"], -1)
            _count(summary, obj["class_name"], 1)
        track.update(
            class_id=obj["class_id"], class_name=obj["class_name"], confidence=obj["confidence"]
        )
        changed = True
    return changed


def _merge_zones(track: dict[str, Any], zones: Any) -> bool:
    new = [z for z in zones or () if isinstance(z, str) and z not in track["zones"]]
    if new:
        track["zones"] = sorted({*track["zones"], *new})
    return bool(new)


def _merge_attributes(track: dict[str, Any], attributes: Any) -> bool:
    if not isinstance(attributes, dict):
        return False
    changed = False
    best = track["attributes"]
    for model, answer in attributes.items():
        if not _is_classification(answer):
            continue
        known = best.get(model)
        if known is None or answer["confidence"] > known["confidence"]:
            best[model] = {"label": answer["label"], "confidence": answer["confidence"]}
            changed = True
    return changed


def _is_classification(answer: Any) -> bool:
    return (
        isinstance(answer, dict)
        and isinstance(answer.get("label"), str)
        and type(answer.get("confidence")) in (int, float)
    )


def _count(summary: Summary, class_name: str, delta: int) -> None:
    counts = summary["counts"]
    counts[class_name] = counts.get(class_name, 0) + delta
    if counts[class_name] <= 0:
        del counts[class_name]


def _evict_oldest(summary: Summary) -> None:
    """Drop the track seen longest ago from the list; it stays counted."""
    tracks = summary["tracks"]
    oldest = min(tracks, key=lambda k: (tracks[k]["last_seen"], tracks[k]["track_id"]))
    del tracks[oldest]
    summary["tracks_not_listed"] += 1


def view(summary: Summary | None) -> Summary:
    """The summary as the API and the session_updated signal show it: ``tracks`` a list,
    oldest first, each with ``dwell_s`` = last_seen - first_seen (times in Unix seconds)."""
    summary = normalised(summary)
    tracks = sorted(summary["tracks"].values(), key=lambda t: (t["first_seen"], t["track_id"]))
    return {
        "tracks": [{**t, "dwell_s": round(t["last_seen"] - t["first_seen"], 3)} for t in tracks],
        "counts": dict(summary["counts"]),
        "untracked": dict(summary["untracked"]),
        "tracks_not_listed": summary["tracks_not_listed"],
    }
