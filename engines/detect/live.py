"""The live camera's per-frame work, shared safely between the frame thread and the page.

``LiveSession.process(frame)`` is what the WebRTC frame callback calls on every frame (in a worker
thread): detect (paced to hold the frame rate), track, annotate with boxes and the rate. The page
changes the settings with ``configure`` and reads what is in view with ``stats`` from its own
thread; one lock guards everything the two threads share, and ``stats`` returns copies.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from engines.core.errors import InputError
from engines.detect.detectors import Detection, Detector, check_frame, check_threshold, shrink
from engines.detect.drawing import annotate
from engines.detect.tracking import IoUTracker, Pacer, Track

RATE_WINDOW = 2.0  # seconds of frame times behind the frames-per-second figure
HISTORY_SECONDS = 60.0  # seconds of counts kept for the page's chart
MAX_LIVE_SIDE = 960  # a camera frame larger than this (a 4K webcam) is shrunk before anything else
HOLD = 3  # searched frames an object stays on screen after the detector last found it (no flicker)


@dataclass(frozen=True)
class LiveStats:
    """A copy of what the live session has seen, for the page."""

    frames: int  # frames received
    detected_frames: int  # frames the detector actually ran on (the others reused the last result)
    fps: float  # frames processed per second over the last RATE_WINDOW seconds
    detector_ms: float | None  # the detector's smoothed time per frame
    scale: float  # the pacer's current scale of the detector's input
    in_view: tuple[Track, ...]  # the objects on screen: found in the last HOLD searched frames
    seen: dict[str, int]  # distinct tracked objects per label since the start
    history: tuple[dict[str, float], ...]  # per processed frame: time (s since start) and count per label
    frame_size: tuple[int, int] | None  # width, height of the latest frame as received
    error: str | None  # the last problem, if the detector failed on a frame
    detector: str  # the detector's name


def _rate(times: deque[float], now: float) -> float:
    while times and now - times[0] > RATE_WINDOW:
        times.popleft()
    if len(times) < 2:
        return 0.0
    span = times[-1] - times[0]
    return (len(times) - 1) / span if span > 0 else 0.0


@dataclass
class LiveSession:
    """One viewer's live detection: settings from the page, frames from the camera thread."""

    detector: Detector
    threshold: float = 0.5
    classes: frozenset[str] | None = None  # None keeps every label
    target_fps: float = 25.0  # the detector's time budget per frame is 1 / target_fps; decoding, encoding and
    # drawing need the rest of the CPU, so this is set above the 15 frames a second the video should keep
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _tracker: IoUTracker = field(default_factory=IoUTracker, repr=False)
    _pacer: Pacer = field(init=False, repr=False)
    _times: deque = field(default_factory=lambda: deque(maxlen=600), repr=False)
    _history: deque = field(default_factory=lambda: deque(maxlen=3000), repr=False)
    _last: list[Detection] = field(default_factory=list, repr=False)
    _tracks: list[Track] = field(default_factory=list, repr=False)
    _frames: int = 0
    _detected: int = 0
    _started: float | None = None
    _size: tuple[int, int] | None = None
    _error: str | None = None
    _snapshot: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.threshold = check_threshold(self.threshold)
        self._pacer = Pacer(target_fps=self.target_fps)

    def configure(
        self, detector: Detector | None = None, threshold: float | None = None, classes: Iterable[str] | None = None
    ) -> None:
        """Change the settings (from the page's thread); a new detector starts tracking afresh."""
        threshold = None if threshold is None else check_threshold(threshold)
        wanted = None if classes is None else frozenset(str(c) for c in classes)
        with self._lock:
            if detector is not None and detector is not self.detector:
                self.detector = detector
                self._tracker = IoUTracker()
                self._pacer = Pacer(target_fps=self.target_fps)
                self._last, self._tracks, self._error = [], [], None
            if threshold is not None:
                self.threshold = threshold
            self.classes = wanted

    def reset(self) -> None:
        """Forget the counts, the history and the rate (a new stream starts)."""
        with self._lock:
            self._tracker = IoUTracker()
            self._times.clear()
            self._history.clear()
            self._last, self._tracks = [], []
            self._frames = self._detected = 0
            self._started, self._size, self._error, self._snapshot = None, None, None, None

    def process(self, frame: np.ndarray) -> np.ndarray:
        """Detect, track and annotate one camera frame (RGB); returns the frame to show.

        Never raises on a frame: a detector failure is recorded (``stats().error``) and the frame goes
        back with what was last seen, so the video keeps playing.
        """
        now = time.perf_counter()
        try:
            frame = check_frame(frame)
        except InputError as exc:
            with self._lock:
                self._error = str(exc)
            return frame if isinstance(frame, np.ndarray) else np.zeros((480, 640, 3), np.uint8)
        size = (frame.shape[1], frame.shape[0])
        frame, _ = shrink(frame, MAX_LIVE_SIDE)
        with self._lock:
            detector, threshold, classes = self.detector, self.threshold, self.classes
            scale = self._pacer.plan()
            if self._started is None:
                self._started = now
        detections, error, took = None, None, 0.0
        if scale is not None:
            small, _ = shrink(frame, max(64, round(max(frame.shape[:2]) * scale)))
            factor = frame.shape[1] / small.shape[1]
            started = time.perf_counter()
            try:
                found = detector.detect(small, threshold)
                detections = [_rescale(d, factor, frame.shape) for d in found]
            except Exception as exc:  # noqa: BLE001 (a detector must not stop the video; the page shows the message)
                error = f"{getattr(detector, 'name', 'The detector')} failed on a frame: {type(exc).__name__}: {exc}"
            took = time.perf_counter() - started
        with self._lock:
            self._frames += 1
            if scale is not None:
                self._pacer.done(took)
                if detections is not None:
                    self._detected += 1
                    self._last = [d for d in detections if classes is None or d.label in classes]
                    self._tracker.update(self._last)
                    self._tracks = [t for t in self._tracker.tracks if t.missed <= HOLD]
                    self._error = None
                else:
                    self._error = error
            self._size = size
            self._times.append(now)
            fps = _rate(self._times, now)
            tracks = list(self._tracks)
            counts = Counter(t.detection.label for t in tracks)
            if self._started is None:  # reset() ran while this frame was being searched
                self._started = now
            self._history.append({"time": now - self._started, **counts})
        out = annotate(frame, tracks, fps=fps)
        with self._lock:
            self._snapshot = out
        return out

    def snapshot(self) -> np.ndarray | None:
        """The latest annotated frame (a copy), or None before the first."""
        with self._lock:
            return None if self._snapshot is None else self._snapshot.copy()

    def stats(self) -> LiveStats:
        """What has been seen so far (copies, safe to use while frames keep coming)."""
        with self._lock:
            now = time.perf_counter()
            fresh = bool(self._times) and now - self._times[-1] < RATE_WINDOW
            return LiveStats(
                frames=self._frames,
                detected_frames=self._detected,
                fps=_rate(deque(self._times), now) if fresh else 0.0,
                detector_ms=None if self._pacer.average is None else self._pacer.average * 1000,
                scale=self._pacer.scale,
                in_view=tuple(self._tracks) if fresh else (),
                seen=dict(self._tracker.seen),
                history=tuple(self._history),
                frame_size=self._size,
                error=self._error,
                detector=getattr(self.detector, "name", type(self.detector).__name__),
            )


def _rescale(detection: Detection, factor: float, shape: tuple[int, ...]) -> Detection:
    if factor == 1.0:
        return detection
    height, width = shape[:2]
    x0, y0, x1, y1 = detection.box
    box = (
        max(0, round(x0 * factor)),
        max(0, round(y0 * factor)),
        min(width, round(x1 * factor)),
        min(height, round(y1 * factor)),
    )
    return Detection(detection.label, detection.score, box)
