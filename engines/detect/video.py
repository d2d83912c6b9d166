"""A video file through a detector: every frame annotated, objects tracked and counted, a WebM out.

The upload is decoded from memory with PyAV, frame by frame (never all at once), and written back as VP8
WebM (which browsers play) into a temporary folder the caller owns. Untrusted files are bounded (issue 26):
the frame size the file declares is checked before a frame is decoded (:data:`MAX_FRAME_PIXELS`), FFmpeg's
decoder refuses larger frames itself (its ``max_pixels`` option, for a file whose header lies), each frame is
checked again and scaled down to the working size inside the conversion (the full-size RGB frame is never
made), decoding uses one thread, and the loop stops at :data:`MAX_FRAMES` frames or :data:`MAX_SECONDS`.
"""

from __future__ import annotations

import io
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from engines.core.errors import InputError
from engines.core.progress import Progress, null_progress
from engines.detect.detectors import Detector, check_frame, check_threshold, shrink
from engines.detect.drawing import annotate
from engines.detect.tracking import IoUTracker

MAX_VIDEO_BYTES = 200 * 1024 * 1024  # a bigger file is refused before anything is written
MAX_FRAMES = 1800  # frames processed at most (a minute at 30 fps); the rest is left out, and the summary says so
MAX_FRAME_PIXELS = 4096 * 2160  # a 4K frame; videos with larger frames are refused before a frame is decoded
MAX_SECONDS = 300.0  # processing time at most; the frames done by then are kept, and the summary says so
VIDEO_EXTENSIONS = (".mp4", ".mov", ".m4v", ".avi", ".webm", ".mkv")
OUTPUT_NAME = "annotated.webm"


@dataclass
class VideoSummary:
    """What the detector saw in a video, and where the annotated copy is."""

    output: Path
    frames: int  # frames processed
    total_frames: int  # frames the file says it has (0 when it does not say)
    fps: float  # the source's frame rate (also the output's)
    size: tuple[int, int]  # width, height of the output
    seconds: float  # processing time
    objects: dict[str, int] = field(default_factory=dict)  # distinct tracked objects per label
    timeline: list[dict[str, float]] = field(default_factory=list)  # per frame: time (s) and count per label
    notes: list[str] = field(default_factory=list)

    @property
    def frames_per_second(self) -> float:
        """Frames processed per second of work."""
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def annotate_video(
    data: bytes,
    filename: str,
    detector: Detector,
    *,
    workdir: Path,
    threshold: float = 0.5,
    max_side: int = 960,
    max_frames: int = MAX_FRAMES,
    max_seconds: float = MAX_SECONDS,
    max_frame_pixels: int = MAX_FRAME_PIXELS,
    progress: Progress = null_progress,
    stop: threading.Event | None = None,
) -> VideoSummary:
    """Detect, track and annotate every frame of an uploaded video.

    Args:
        data: The file's bytes.
        filename: Its name (the extension decides whether it is tried).
        detector: Any detector with ``detect(frame, threshold)``.
        workdir: A temporary folder the caller owns and removes; the output goes there.
        threshold: Confidence threshold, 0..1.
        max_side: Frames are shrunk to this longer side before detection and in the output.
        max_frames: Frames processed at most.
        max_seconds: Processing stops after this long (the output holds what was done).
        max_frame_pixels: Videos whose frames have more pixels are refused before decoding.
        progress: Reports ``(fraction, message)``.
        stop: When set, processing ends after the current frame (the output holds what was done).

    Raises:
        InputError: Empty, too large, not a video, corrupt, frames too large, or without a single frame.
    """
    import av

    threshold = check_threshold(threshold)
    suffix = Path(filename or "").suffix.lower()
    if not data:
        raise InputError(f"`{filename}` is empty: upload a video file ({', '.join(VIDEO_EXTENSIONS)}).")
    if len(data) > MAX_VIDEO_BYTES:
        raise InputError(
            f"`{filename}` is {len(data) / 2**20:,.0f} MB; the limit is {MAX_VIDEO_BYTES // 2**20} MB. "
            "Cut a shorter clip."
        )
    if suffix not in VIDEO_EXTENSIONS:
        raise InputError(f"`{filename}` is not a video this page reads; use {', '.join(VIDEO_EXTENSIONS)}.")
    # FFmpeg's probe of the streams parses frame headers without decoding pixels (skip_frame): the sizes it finds
    # are checked below, before a frame is decoded; the decoder then refuses larger frames itself (max_pixels).
    probe = {"skip_frame": "all", "threads": "1"}
    try:
        container = av.open(io.BytesIO(data), mode="r", options=probe, metadata_errors="ignore")
    except (av.error.FFmpegError, ValueError, OSError, IndexError) as exc:
        raise InputError(
            f"`{filename}` could not be opened as a video: it may be damaged or in an unknown codec."
        ) from exc
    try:
        if not container.streams.video:
            raise InputError(f"`{filename}` holds no video track (no readable frame): it may be audio only or damaged.")
        stream = container.streams.video[0]
        context = stream.codec_context
        _check_frame_size(filename, context.width, context.height, max_frame_pixels)
        context.options = {"max_pixels": str(max_frame_pixels)}
        context.thread_count = 1
        total = max(0, int(stream.frames or 0))
        rate = stream.average_rate or stream.guessed_rate or 0
        fps = float(rate) if rate else 0.0
        fps = fps if 1.0 <= fps <= 120.0 else 25.0
        frames = _decoded(container, stream, filename, max_side, max_frame_pixels)
        bgr = next(frames, None)
        if bgr is None:
            raise InputError(f"`{filename}` holds no readable frame: it may be empty or damaged.")
        limits = (max_frames, max_seconds)
        return _process(frames, bgr, detector, workdir, threshold, max_side, limits, fps, total, progress, stop)
    finally:
        container.close()


def _check_frame_size(filename: str, width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise InputError(
            f"`{filename}` has frames of {width:,}×{height:,} pixels ({width * height * 3 / 2**20:,.0f} MB each "
            f"decoded); the limit is {max_pixels / 1e6:.1f} megapixels (4K, 4096×2160). "
            "Export it at 1080p or 4K and upload it again."
        )


def _decoded(container, stream, filename: str, max_side: int, max_pixels: int):
    """BGR frames at most ``max_side`` on their longer side, upright; each frame's size checked before converting.

    A file damaged after its first frame ends early (``_process`` says how many frames the file promised).
    """
    import av

    produced = False
    try:
        for frame in container.decode(stream):
            _check_frame_size(filename, frame.width, frame.height, max_pixels)
            side = max(frame.width, frame.height)
            factor = max(1.0, side / max_side)
            width, height = max(1, round(frame.width / factor)), max(1, round(frame.height / factor))
            bgr = frame.to_ndarray(format="bgr24", width=width, height=height, interpolation="AREA")
            turns = round((getattr(frame, "rotation", 0) or 0) / 90) % 4  # the display matrix, counter-clockwise
            produced = True
            yield np.ascontiguousarray(np.rot90(bgr, turns)) if turns else bgr
    except InputError:
        raise
    except (av.error.FFmpegError, ValueError, OSError, IndexError, MemoryError) as exc:
        if not produced:
            raise InputError(
                f"`{filename}` holds no readable frame ({type(exc).__name__}): it may be damaged, in an unknown "
                "codec, or have frames larger than 4K."
            ) from exc


def _process(frames, bgr, detector, workdir, threshold, max_side, limits, fps, total, progress, stop):
    max_frames, max_seconds = limits
    started = time.perf_counter()
    tracker = IoUTracker(max_missed=max(2, round(fps / 2)))
    writer = None
    output = Path(workdir) / OUTPUT_NAME
    timeline: list[dict[str, float]] = []
    notes: list[str] = []
    count = 0
    expected = min(total, max_frames) if total else max_frames
    try:
        while bgr is not None:
            rgb, _factor = shrink(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), max_side)
            if writer is None:
                size = (rgb.shape[1], rgb.shape[0])
                writer = cv2.VideoWriter(str(output), cv2.VideoWriter_fourcc(*"VP80"), fps, size)
                if not writer.isOpened():
                    raise InputError(
                        "This machine's OpenCV cannot write WebM video; the annotated copy is unavailable."
                    )
            if (rgb.shape[1], rgb.shape[0]) != size:  # the file changed its frame size mid-way
                rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
            tracks = tracker.update(detector.detect(rgb, threshold))
            elapsed = time.perf_counter() - started
            count += 1
            writer.write(
                cv2.cvtColor(annotate(rgb, tracks, fps=count / elapsed if elapsed > 0 else None), cv2.COLOR_RGB2BGR)
            )
            counts = Counter(track.detection.label for track in tracks)
            timeline.append({"time": (count - 1) / fps, **counts})
            if count % 10 == 0:
                progress(min(0.99, count / expected), f"Frame {count:,}" + (f" of {expected:,}" if total else ""))
            if stop is not None and stop.is_set():
                notes.append(f"Stopped after {count:,} frames.")
                break
            if count >= max_frames:
                if total > max_frames or next(frames, None) is not None:
                    notes.append(f"Only the first {max_frames:,} frames were processed.")
                break
            if time.perf_counter() - started > max_seconds:
                notes.append(f"Stopped after {max_seconds:g} seconds of work: {count:,} frames were processed.")
                break
            bgr = next(frames, None)
    finally:
        if writer is not None:
            writer.release()
    if total and count < min(total, max_frames) and not notes:
        notes.append(f"The file says {total:,} frames but only {count:,} could be read; it may be damaged at the end.")
    progress(1.0, f"Processed {count:,} frames")
    return VideoSummary(
        output=output,
        frames=count,
        total_frames=total,
        fps=fps,
        size=size,
        seconds=time.perf_counter() - started,
        objects=dict(tracker.seen),
        timeline=timeline,
        notes=notes,
    )


def pan_frames(image, size: tuple[int, int] = (640, 480), frames: int = 60, zoom: float = 1.25):
    """Frames of a slow pan and zoom across a photo (a camera moving past a still scene), as RGB arrays.

    The sample clip of the page and the fake camera of the browser test are made this way: objects move
    between frames, so the tracker has something to follow.
    """
    if frames < 1:
        raise InputError(f"A clip needs at least one frame (got {frames}).")
    width, height = size
    rgb = check_frame(image)
    fit = max(width * zoom / rgb.shape[1], height * zoom / rgb.shape[0])
    big = cv2.resize(rgb, (max(width, round(rgb.shape[1] * fit)), max(height, round(rgb.shape[0] * fit))))
    span_x, span_y = big.shape[1] - width, big.shape[0] - height
    for i in range(frames):
        t = i / max(1, frames - 1)
        x, y = round(span_x * t), round(span_y * (0.5 + 0.5 * (t - 0.5)))
        yield np.ascontiguousarray(big[y : y + height, x : x + width])


def write_webm(frames, path: Path, fps: float = 15.0) -> Path:
    """RGB frames written as a VP8 WebM at ``path`` (what browsers play)."""
    writer = None
    try:
        for frame in frames:
            if writer is None:
                writer = cv2.VideoWriter(
                    str(path), cv2.VideoWriter_fourcc(*"VP80"), fps, (frame.shape[1], frame.shape[0])
                )
                if not writer.isOpened():
                    raise InputError("This machine's OpenCV cannot write WebM video.")
            writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    finally:
        if writer is not None:
            writer.release()
    if writer is None:
        raise InputError("No frames to write.")
    return Path(path)
