"""A simple IoU tracker (stable ids across frames) and a pacer that holds the frame rate.

No heavy imports: the frame callback of the live page calls these on every frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engines.core.errors import InputError
from engines.detect.detectors import Detection


def iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes; 0 when either is empty."""
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _jump(a: Detection, b: Detection) -> float:
    """Distance between the boxes' centres in units of ``a``'s size; infinite when the sizes differ over 2x."""
    area_a, area_b = a.area, b.area
    if area_a <= 0 or area_b <= 0 or not 0.5 <= area_b / area_a <= 2.0:
        return float("inf")
    ax, ay = (a.box[0] + a.box[2]) / 2, (a.box[1] + a.box[3]) / 2
    bx, by = (b.box[0] + b.box[2]) / 2, (b.box[1] + b.box[3]) / 2
    return ((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5 / area_a**0.5


@dataclass
class Track:
    """One object followed across frames."""

    id: int
    detection: Detection
    hits: int = 1  # frames in which it was detected
    missed: int = 0  # frames since it was last detected


@dataclass
class IoUTracker:
    """Greedy IoU matching of each frame's detections to the live tracks of the same label.

    What is left unmatched gets a second, greedy pass by distance: a detection whose centre lies within
    ``max_jump`` box sizes of a leftover track's centre, with an area between half and twice the track's,
    continues that track (an object that moved fast, or between frames the live video did not search).
    A detection matched by neither starts a new track with the next id; a track unmatched for more than
    ``max_missed`` frames is dropped. ``seen`` counts every id ever given, per label.
    """

    min_iou: float = 0.3  # overlap needed to be the same object as in the previous frame
    max_missed: int = 10  # frames an object may vanish (a missed detection, an occlusion) and keep its id
    max_jump: float = 1.0  # second pass: centres this close (in box sizes) and a similar size are the same object
    tracks: list[Track] = field(default_factory=list)
    next_id: int = 1
    seen: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.0 < self.min_iou <= 1.0:
            raise InputError(f"The tracker's overlap must be between 0 and 1 (got {self.min_iou!r}).")
        if not self.max_jump >= 0.0:
            raise InputError(f"The tracker's largest jump must be 0 or more box sizes (got {self.max_jump!r}).")
        if not isinstance(self.max_missed, int) or self.max_missed < 0:
            raise InputError(f"Frames an object may be missed must be 0 or more (got {self.max_missed!r}).")

    def update(self, detections: list[Detection]) -> list[Track]:
        """Match this frame's detections; returns the tracks seen in this frame (new ones included)."""
        used_tracks: set[int] = set()
        used_dets: set[int] = set()
        current: list[Track] = []

        def match(pairs: list[tuple[float, int, int]], good) -> None:
            """Greedily pair tracks and detections in the order of ``pairs`` while ``good(score)`` holds."""
            for score, t, d in pairs:
                if not good(score):
                    break
                if t in used_tracks or d in used_dets:
                    continue
                track = self.tracks[t]
                track.detection, track.hits, track.missed = detections[d], track.hits + 1, 0
                used_tracks.add(t)
                used_dets.add(d)
                current.append(track)

        def candidates(score) -> list[tuple[float, int, int]]:
            return [
                (score(track.detection, det), t, d)
                for t, track in enumerate(self.tracks)
                for d, det in enumerate(detections)
                if t not in used_tracks and d not in used_dets and track.detection.label == det.label
            ]

        match(sorted(candidates(lambda a, b: iou(a.box, b.box)), reverse=True), lambda o: o >= self.min_iou)
        match(sorted(candidates(_jump)), lambda distance: distance <= self.max_jump)
        for t, track in enumerate(self.tracks):
            if t not in used_tracks:
                track.missed += 1
        self.tracks = [track for track in self.tracks if track.missed <= self.max_missed]
        for d, det in enumerate(detections):
            if d in used_dets:
                continue
            track = Track(self.next_id, det)
            self.next_id += 1
            self.seen[det.label] = self.seen.get(det.label, 0) + 1
            self.tracks.append(track)
            current.append(track)
        return sorted(current, key=lambda track: track.id)


@dataclass
class Pacer:
    """Holds a target frame rate by shrinking the frame the detector sees, then by skipping frames.

    Call ``plan()`` before a frame (the scale to run the detector at, or None to reuse the last
    result) and ``done(seconds)`` after running it. The detector's time is smoothed (an exponential
    moving average); when it exceeds the frame budget the scale drops by a step (down to
    ``min_scale``), and at the minimum scale frames are skipped so the video itself keeps its rate.
    When there is room, the scale grows back.
    """

    target_fps: float = 15.0  # frames per second the video should keep
    min_scale: float = 0.35  # never shrink the detector's input below this fraction of the frame's side
    step: float = 0.85  # scale multiplier per adjustment
    smoothing: float = 0.3  # weight of the newest time in the moving average
    scale: float = 1.0
    average: float | None = None
    _skip_every: int = 1
    _count: int = 0

    def __post_init__(self) -> None:
        if not 1.0 <= self.target_fps <= 120.0:
            raise InputError(f"The target frame rate must be between 1 and 120 (got {self.target_fps!r}).")

    @property
    def budget(self) -> float:
        """Seconds per frame at the target rate."""
        return 1.0 / self.target_fps

    def plan(self) -> float | None:
        """The scale for this frame's detection, or None to skip detection on this frame."""
        self._count += 1
        if self._skip_every > 1 and self._count % self._skip_every:
            return None
        return self.scale

    def done(self, seconds: float) -> None:
        """Record how long the detector took and adjust the scale or the skipping."""
        self.average = (
            seconds if self.average is None else (1 - self.smoothing) * self.average + self.smoothing * seconds
        )
        if self.average > self.budget:
            if self.scale > self.min_scale:
                self.scale = max(self.min_scale, self.scale * self.step)
            else:
                self._skip_every = min(8, self._skip_every + 1)
        elif self.average < 0.6 * self.budget:
            if self._skip_every > 1:
                self._skip_every -= 1
            else:
                self.scale = min(1.0, self.scale / self.step)
