"""A camera's multi-object tracker: ultralytics' BYTETracker behind per-camera ids and seconds.

Why not ultralytics' tracker as is (see docs/objects.md, "Tracking"):

- Its ids restart at 1 when a tracker is created or reset (older releases even shared one
  class-level counter, ``BaseTrack._count``, between all trackers). Sightline never shows them:
  each ultralytics track object is mapped, by identity, to an id from the camera's ``TrackIds``.
- Its parameters are in frames, tuned for 30 fps (``track_buffer: 30``). ``TrackerParams`` are in
  seconds, turned into frames from the frame rate measured on the frame times.
- Its matching module imports ``lap`` and, when it is missing, pip-installs it at run time.
  ``lap`` is pinned in requirements.txt; ``CameraTracker`` refuses to start without it rather
  than let ultralytics install anything.

Importing this module imports ultralytics (and torch); ``import inference.objects`` does not.
"""

from __future__ import annotations

import importlib.util
import types
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from inference.entities import DetectedObject
from inference.errors import InferenceError
from inference.objects.entities import TrackedObject
from inference.objects.ids import TrackIds
from inference.ultralytics_env import configure_ultralytics

FPS_SMOOTHING = 0.1
"""Weight of the newest frame interval in the frame-rate average (an EMA over ~10 frames)."""


@dataclass(frozen=True, slots=True)
class TrackerParams:
    """Tracker settings; durations in seconds so behaviour is the same at 5 and 30 fps.

    ``max_lost_s``: how long a track that lost its detection is kept to be found again.
    The thresholds are BYTETracker's: detections at or above ``high_thresh`` are matched first,
    those between ``low_thresh`` and it only to keep existing tracks; a new track needs
    ``new_track_thresh``; ``match_thresh`` is the largest (1 - IoU) cost a match may have, and
    ``fuse_score`` scales the IoU by the detection's confidence first. ultralytics' defaults are
    0.8 with fuse_score on; 0.9 without it cut id switches at 5 fps by a third (98 to 63) and
    changed nothing at 30 fps in bench/tracking.py (docs/objects.md).
    """

    max_lost_s: float = 1.0
    high_thresh: float = 0.25
    low_thresh: float = 0.1
    new_track_thresh: float = 0.25
    match_thresh: float = 0.9
    fuse_score: bool = False

    def __post_init__(self) -> None:
        if not self.max_lost_s > 0:
            raise ValueError(f"max_lost_s must be positive, got {self.max_lost_s}")
        for name in ("high_thresh", "low_thresh", "new_track_thresh", "match_thresh"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {value}")
        if self.low_thresh > self.high_thresh:
            raise ValueError("low_thresh must not exceed high_thresh")


class FrameRate:
    """The frame rate measured on frame times: an EMA of the intervals between frames.

    Intervals longer than ``max_interval`` (a stalled stream, not its frame rate) are left out.
    """

    __slots__ = ("_interval", "_last", "max_interval")

    def __init__(self, max_interval: float) -> None:
        self.max_interval = max_interval
        self._last: float | None = None
        self._interval: float | None = None

    def observe(self, frame_time: float) -> float | None:
        """Take a frame's time; return the interval since the previous one (None for the first)."""
        last, self._last = self._last, frame_time
        if last is None:
            return None
        dt = frame_time - last
        if 0 < dt <= self.max_interval:
            old = self._interval
            self._interval = dt if old is None else old + FPS_SMOOTHING * (dt - old)
        return dt

    def frames(self, seconds: float) -> int:
        """``seconds`` as a whole number of frames at the measured rate (at least 1)."""
        if self._interval is None:
            return 1
        return max(1, round(seconds / self._interval))

    @property
    def fps(self) -> float | None:
        """Frames per second, or None before two frames were seen."""
        return None if self._interval is None else 1.0 / self._interval

    def reset(self) -> None:
        self._last = None
        self._interval = None


class Detections:
    """The results-like view BYTETracker reads: ``conf``, ``cls``, ``xywh``, ``xyxy``, ``[mask]``.

    (ultralytics 8.4's ``BYTETracker.update`` reads ``conf`` and ``xywh`` (``xywhr`` would mean
    oriented boxes, so it must be absent), indexes with boolean masks, and builds tracks from
    ``xywh``, ``conf`` and ``cls``; BOT-SORT's motion compensation reads ``xyxy``.)
    """

    __slots__ = ("cls", "conf", "xywh", "xyxy")

    def __init__(
        self, xyxy: np.ndarray, conf: np.ndarray, cls: np.ndarray, xywh: np.ndarray | None = None
    ) -> None:
        self.xyxy = xyxy
        self.conf = conf
        self.cls = cls
        if xywh is None:
            wh = xyxy[:, 2:4] - xyxy[:, 0:2]
            xywh = np.concatenate([xyxy[:, 0:2] + wh / 2, wh], axis=1)
        self.xywh = xywh

    @classmethod
    def of(cls, detections: Sequence[DetectedObject]) -> Detections:
        """The view of a frame's detections, in their order (a track's ``idx`` points back)."""
        n = len(detections)
        xyxy = np.array([d.box for d in detections], dtype=np.float32).reshape(n, 4)
        conf = np.array([d.confidence for d in detections], dtype=np.float32)
        classes = np.array([d.class_id for d in detections], dtype=np.float32)
        return cls(xyxy, conf, classes)

    def __len__(self) -> int:
        return len(self.conf)

    def __getitem__(self, index: Any) -> Detections:
        # xywh is elementwise in xyxy: indexing it gives what recomputing it would.
        return Detections(self.xyxy[index], self.conf[index], self.cls[index], self.xywh[index])


def kalman_update_many(kf: Any, means: np.ndarray, covs: np.ndarray, xyah: np.ndarray) -> Any:
    """``KalmanFilterXYAH.update`` for n tracks at once: (n, 8) means, (n, 8, 8) covariances.

    The same arithmetic as ultralytics' per-track update (measurement noise from the height,
    gain by solving with the projected covariance), in one batched solve instead of n.
    """
    n = len(means)
    std = np.square(kf._std_weight_position * means[:, 3])
    noise = np.zeros((n, 4, 4))
    noise[:, 0, 0] = noise[:, 1, 1] = noise[:, 3, 3] = std
    noise[:, 2, 2] = 1e-2
    projected = covs[:, :4, :4] + noise
    gain = np.linalg.solve(projected, covs[:, :, :4].transpose(0, 2, 1)).transpose(0, 2, 1)
    innovation = xyah - means[:, :4]
    new_means = means + np.einsum("nij,nj->ni", gain, innovation)
    new_covs = covs - gain @ projected @ gain.transpose(0, 2, 1)
    return new_means, new_covs


def tlwh_to_xyah_many(tlwh: np.ndarray) -> np.ndarray:
    """``STrack.tlwh_to_xyah`` of (n, 4) boxes at once, in the same arithmetic (and dtype)."""
    xyah = tlwh.copy()
    xyah[:, :2] += xyah[:, 2:] / 2
    xyah[:, 2] /= xyah[:, 3]
    return xyah


def boxes_xyxy(stracks: Sequence[Any]) -> np.ndarray:
    """``STrack.xyxy`` of many tracks at once, in the same arithmetic.

    A track's box comes from its XYAH Kalman mean (centre, aspect, height) once it has one, from
    its detection's ``_tlwh`` before.
    """
    if all(s.mean is not None for s in stracks):
        m = np.array([s.mean[:4] for s in stracks])
        w, h = m[:, 2] * m[:, 3], m[:, 3]
        x1, y1 = m[:, 0] - w / 2, m[:, 1] - h / 2
        return np.stack([x1, y1, x1 + w, y1 + h], axis=1)
    if all(s.mean is None for s in stracks):
        t = np.array([s._tlwh for s in stracks])
        return np.concatenate([t[:, :2], t[:, :2] + t[:, 2:]], axis=1)
    return np.array([s.xyxy for s in stracks])


def iou_cost(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """ultralytics' ``matching.iou_distance`` (1 - IoU, float32) of two (n, 4) xyxy arrays.

    The same arithmetic as its ``bbox_ioa(..., iou=True)``, without the list round trip.
    """
    a = np.ascontiguousarray(a, dtype=np.float32)
    b = np.ascontiguousarray(b, dtype=np.float32)
    if not len(a) or not len(b):
        return np.ones((len(a), len(b)), dtype=np.float32)
    a_x1, a_y1, a_x2, a_y2 = a.T
    b_x1, b_y1, b_x2, b_y2 = b.T
    inter = (np.minimum(a_x2[:, None], b_x2) - np.maximum(a_x1[:, None], b_x1)).clip(0) * (
        np.minimum(a_y2[:, None], b_y2) - np.maximum(a_y1[:, None], b_y1)
    ).clip(0)
    area = (b_x2 - b_x1) * (b_y2 - b_y1)
    area = area + ((a_x2 - a_x1) * (a_y2 - a_y1))[:, None] - inter
    return np.asarray(1 - inter / (area + 1e-7))


def remove_duplicates(a: list[Any], b: list[Any]) -> tuple[list[Any], list[Any]]:
    """ultralytics' ``remove_duplicate_stracks`` (IoU above 0.85: the younger track goes), its
    boxes computed at once."""
    pairs = np.nonzero(iou_cost(boxes_xyxy(a), boxes_xyxy(b)) < 0.15)
    drop_a, drop_b = set(), set()
    for p, q in zip(*pairs, strict=True):
        if a[p].frame_id - a[p].start_frame > b[q].frame_id - b[q].start_frame:
            drop_b.add(q)
        else:
            drop_a.add(p)
    return (
        [t for i, t in enumerate(a) if i not in drop_a],
        [t for i, t in enumerate(b) if i not in drop_b],
    )


def _byte_tracker_class() -> Any:
    """ultralytics' BYTETracker with batched Kalman updates, imported without letting it
    pip-install ``lap`` at run time."""
    if importlib.util.find_spec("lap") is None:
        raise InferenceError(
            "tracking needs the 'lap' package (pinned in requirements.txt); it is not installed"
        )
    configure_ultralytics()
    from ultralytics.trackers.basetrack import TrackState
    from ultralytics.trackers.byte_tracker import BYTETracker, STrack
    from ultralytics.trackers.utils import matching
    from ultralytics.trackers.utils.stracks import joint_stracks, sub_stracks

    tracked_state, new_state = TrackState.Tracked, TrackState.New
    predict_diagonal = np.arange(8)

    class BatchedBYTETracker(BYTETracker):  # type: ignore[misc]  # ultralytics is untyped here
        """BYTETracker whose matched tracks take their Kalman update in one batch.

        Per-track updates (a 4x4 solve each) were half of its time per frame, and the
        matching costs read each box through a property chain; both are batched. The matches,
        states and ids are ultralytics' own (tests/inference/objects/test_tracker.py holds the
        tracks equal to the stock tracker's). ``update`` returns no rows: CameraTracker reads
        the track objects.

        ``update`` is BYTETracker's own, step for step, with the per-frame Python around the
        steps cut: detections become tracks in one array pass (``init_track``), the Kalman
        predict builds its noise without ``np.r_`` (``multi_predict``), the end-of-frame pool
        bookkeeping keeps the removed tracks' ids counted instead of re-reading up to 1000
        removed tracks per frame, and the duplicate check is skipped when a pool is empty.
        """

        tracked_stracks: list[Any]
        lost_stracks: list[Any]
        removed_stracks: list[Any]
        removed_stracks_frame: list[Any]

        def __init__(self, args: Any) -> None:
            super().__init__(args)
            # track_id -> how many times it is in removed_stracks (a track found again after
            # being removed can be removed twice); sub_stracks(lost, removed) reads only ids.
            self._removed_ids: dict[int, int] = {}

        def reset(self) -> None:
            super().reset()
            self._removed_ids = {}

        def update(self, results: Any, img: Any = None, feats: Any = None, **kwargs: Any) -> Any:
            # BYTETracker.update (ultralytics 8.4), without GMC, ReID or oriented boxes, which a
            # BYTETracker on boxes never uses; the hooks it calls are the same, in the same order.
            self.frame_id += 1
            activated: list[Any] = []
            refind: list[Any] = []
            lost: list[Any] = []
            removed: list[Any] = []

            results_high, results_low, mask_high, mask_low = self._split_detections(results)
            detections = self._new_tracks(results_high, np.flatnonzero(mask_high))
            detections_second = self._new_tracks(results_low, np.flatnonzero(mask_low))

            unconfirmed, tracked = self._split_tracked()
            pool = joint_stracks(tracked, self.lost_stracks)
            self.multi_predict(pool)

            u_track, u_detection = self._first_association(pool, detections, activated, refind)
            self._second_association(pool, u_track, detections_second, activated, refind, lost)
            u_detection, detections = self._unconfirmed_association(
                unconfirmed, u_detection, detections, activated, removed
            )
            self._init_new_tracks(u_detection, detections, activated, refind)
            self._remove_stale_lost(removed)
            self._merge_pools(activated, refind, lost, removed)
            return self._format_output()

        def _new_tracks(self, results: Any, indices: np.ndarray) -> list[Any]:
            # init_track plus the idx / next_id that update sets, for all detections at once:
            # STrack.__init__'s attributes with its arithmetic (parse_bboxes' float64 xywh,
            # xywh2ltwh, then float32), without a numpy call per detection.
            n = len(indices)
            if n == 0:
                return []
            xywh = results.xywh.astype(np.float64)
            ltwh = xywh.copy()
            ltwh[:, 0] = xywh[:, 0] - xywh[:, 2] / 2
            ltwh[:, 1] = xywh[:, 1] - xywh[:, 3] / 2
            ltwhs = ltwh.astype(np.float32)
            next_id = self._ids.__next__
            out = []
            new = STrack.__new__
            for tlwh, score, cls, idx in zip(
                ltwhs, results.conf, results.cls, indices, strict=True
            ):
                track = new(STrack)
                track.__dict__.update(
                    track_id=0,
                    is_activated=False,
                    state=new_state,
                    score=score,
                    start_frame=0,
                    frame_id=0,
                    _tlwh=tlwh,
                    kalman_filter=None,
                    mean=None,
                    covariance=None,
                    tracklet_len=0,
                    cls=cls,
                    idx=idx,
                    angle=None,
                    next_id=next_id,
                )
                out.append(track)
            return out

        def multi_predict(self, tracks: list[Any]) -> None:
            # STrack.multi_predict and KalmanFilterXYAH.multi_predict in the same arithmetic,
            # the process noise built without np.r_.
            if not tracks:
                return
            kf = STrack.shared_kalman
            mean = np.array([t.mean for t in tracks])
            covariance = np.array([t.covariance for t in tracks])
            for i, t in enumerate(tracks):
                if t.state != tracked_state:
                    mean[i, 7] = 0
            height = mean[:, 3]
            position = np.square(kf._std_weight_position * height)
            velocity = np.square(kf._std_weight_velocity * height)
            sqr = np.empty((len(tracks), 8))
            sqr[:, 0] = sqr[:, 1] = sqr[:, 3] = position
            sqr[:, 4] = sqr[:, 5] = sqr[:, 7] = velocity
            sqr[:, 2] = np.square(1e-2)
            sqr[:, 6] = np.square(1e-5)
            motion_cov = np.zeros((len(tracks), 8, 8))
            motion_cov[:, predict_diagonal, predict_diagonal] = sqr
            # F P F^T as batched matmuls rather than np.dot on a 3-d array (5x faster at 20
            # tracks). F's entries are 0 and 1 (unit time step), so every product is exact and
            # each sum has at most two non-zero terms: any summation order gives the same bits.
            motion = kf._motion_mat
            mean = mean @ motion.T
            covariance = motion @ covariance @ motion.T + motion_cov
            for t, m, c in zip(tracks, mean, covariance, strict=True):
                t.mean, t.covariance = m, c

        def _second_association(
            self,
            pool: list[Any],
            u_track: Any,
            detections_second: list[Any],
            activated: list[Any],
            refind: list[Any],
            lost: list[Any],
        ) -> None:
            # BYTETracker's, its IoU cost on boxes computed at once.
            remaining = [pool[i] for i in u_track if pool[i].state == tracked_state]
            if remaining and detections_second:
                dists = iou_cost(boxes_xyxy(remaining), boxes_xyxy(detections_second))
                matches, u_track, _ = matching.linear_assignment(dists, thresh=0.5)
                self._apply_matches(matches, remaining, detections_second, activated, refind)
            else:
                u_track = range(len(remaining))
            for i in u_track:
                track = remaining[i]
                track.mark_lost()
                lost.append(track)

        def _merge_pools(
            self, activated: list[Any], refind: list[Any], lost: list[Any], removed: list[Any]
        ) -> None:
            # ultralytics' merge_track_pools, the same lists in the same order.
            tracked = [t for t in self.tracked_stracks if t.state == tracked_state]
            tracked = joint_stracks(joint_stracks(tracked, activated), refind)
            lost_pool = sub_stracks(self.lost_stracks, tracked)
            lost_pool.extend(lost)
            gone = self._removed_ids
            if gone:
                lost_pool = [t for t in lost_pool if t.track_id not in gone]
            if tracked and lost_pool:
                tracked, lost_pool = remove_duplicates(tracked, lost_pool)
            self.tracked_stracks, self.lost_stracks = tracked, lost_pool
            self.removed_stracks_frame = removed
            if removed:
                self.removed_stracks.extend(removed)
                for t in removed:
                    gone[t.track_id] = gone.get(t.track_id, 0) + 1
                if len(self.removed_stracks) > 1000:
                    for t in self.removed_stracks[:-1000]:
                        if gone[t.track_id] == 1:
                            del gone[t.track_id]
                        else:
                            gone[t.track_id] -= 1
                    self.removed_stracks = self.removed_stracks[-1000:]

        def _apply_matches(
            self,
            matches: Any,
            pool: list[Any],
            detections: list[Any],
            activated: list[Any],
            refind: list[Any],
        ) -> None:
            tracked = [
                (pool[i], detections[j]) for i, j in matches if pool[i].state == TrackState.Tracked
            ]
            if tracked:
                means, covs = kalman_update_many(
                    self.kalman_filter,
                    np.array([t.mean for t, _ in tracked]),
                    np.array([t.covariance for t, _ in tracked]),
                    tlwh_to_xyah_many(np.array([d._tlwh for _, d in tracked])),
                )
                for (track, det), mean, cov in zip(tracked, means, covs, strict=True):
                    # What STrack.update does besides the Kalman step (no angles: boxes only).
                    track.mean, track.covariance = mean, cov
                    track.frame_id = self.frame_id
                    track.tracklet_len += 1
                    track.state = TrackState.Tracked
                    track.is_activated = True
                    track.score, track.cls, track.idx = det.score, det.cls, det.idx
                    activated.append(track)
            for i, j in matches:
                if pool[i].state != TrackState.Tracked:
                    self._apply_match(pool[i], detections[j], activated, refind)

        def get_dists(self, tracks: list[Any], detections: list[Any]) -> np.ndarray:
            # BYTETracker's own cost (1 - IoU, optionally fused with the score), with the boxes
            # computed for all tracks at once rather than by a property call per track.
            if not tracks or not detections:
                return np.asarray(super().get_dists(tracks, detections))
            dists = iou_cost(boxes_xyxy(tracks), boxes_xyxy(detections))
            if self.args.fuse_score:
                dists = matching.fuse_score(dists, detections)
            return np.asarray(dists)

        def _format_output(self) -> np.ndarray:
            # CameraTracker reads the track objects; the rows would be built and thrown away.
            return np.empty((0, 8), dtype=np.float32)

    return BatchedBYTETracker


@dataclass(slots=True)
class _Track:
    first_seen: float
    track_id: int | None = None  # allocated when ultralytics confirms the track


class CameraTracker:
    """One camera's (and inference group's) tracker: full-frame detections in, tracked objects out.

    Owned by the camera runner, one per inference group; all of a camera's trackers share its
    ``TrackIds``. ``update`` returns the objects tracked in this frame, with the detector's own
    box, confidence and class, ordered by track id. A track is reported from its second frame
    (ultralytics confirms a track when it matches again; on a tracker's very first frame, at
    once); its ``first_seen`` is the frame it was first detected in.
    A gap in frame times longer than ``max_lost_s`` (a stalled stream) ends every track, as
    ``reset`` does; ids are never reused.
    """

    def __init__(self, ids: TrackIds, *, params: TrackerParams | None = None) -> None:
        self.ids = ids
        self.params = params or TrackerParams()
        p = self.params
        self._args = types.SimpleNamespace(
            tracker_type="bytetrack",
            track_high_thresh=p.high_thresh,
            track_low_thresh=p.low_thresh,
            new_track_thresh=p.new_track_thresh,
            track_buffer=1,
            match_thresh=p.match_thresh,
            fuse_score=p.fuse_score,
        )
        self._tracker: Any = _byte_tracker_class()(self._args)
        self._frame_rate = FrameRate(max_interval=self.params.max_lost_s)
        # Keyed by the ultralytics track object itself (identity hash): its own ids are not ours.
        self._tracks: dict[Any, _Track] = {}

    @property
    def fps(self) -> float | None:
        """The frame rate measured so far (None before the second frame)."""
        return self._frame_rate.fps

    def reset(self) -> None:
        """End every track (the next detections start new tracks with new ids)."""
        self._tracker.reset()
        self._tracks.clear()
        self._frame_rate.reset()

    def update(
        self, detections: Sequence[DetectedObject], frame_time: float
    ) -> list[TrackedObject]:
        """Track one frame's detections (full-frame boxes) taken at ``frame_time`` (Unix s)."""
        dt = self._frame_rate.observe(frame_time)
        if dt is not None and dt > self.params.max_lost_s:
            self._tracker.reset()
            self._tracks.clear()
        # The lost-track buffer in frames at the measured rate, so it lasts max_lost_s.
        self._tracker.max_frames_lost = self._frame_rate.frames(self.params.max_lost_s)

        self._tracker.update(Detections.of(detections))

        tracker = self._tracker
        live: dict[Any, _Track] = {}
        out: list[TrackedObject] = []
        for strack in tracker.tracked_stracks:
            track = self._tracks.get(strack) or _Track(first_seen=frame_time)
            live[strack] = track
            if not strack.is_activated or strack.frame_id != tracker.frame_id:
                continue
            if track.track_id is None:
                track.track_id = self.ids.next()
            out.append(TrackedObject(detections[int(strack.idx)], track.track_id, track.first_seen))
        for strack in tracker.lost_stracks:
            if (lost := self._tracks.get(strack)) is not None:
                live[strack] = lost
        self._tracks = live
        out.sort(key=lambda o: o.track_id)
        return out
