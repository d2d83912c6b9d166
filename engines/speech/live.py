"""Live transcription: microphone frames in (WebRTC's thread), a recognizer in a worker thread, the page reading.

The WebRTC sink calls ``feed_frame`` on every audio frame from aiortc's event loop, so that call only
resamples and queues; a worker thread of this session runs the recognizer, and the page reads ``snapshot()``
(copies, under one lock) from its own thread. The worker starts with the first audio and stops after
``IDLE_STOP_S`` without any. If recognition falls more than ``MAX_BACKLOG_S`` behind, the oldest audio is
dropped and the snapshot says so, rather than the transcript lagging further and further.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from engines.speech.audio import level_dbfs
from engines.speech.segments import SAMPLE_RATE, Recognizer, Segment
from engines.speech.vad import as_int16

IDLE_STOP_S = 30.0  # the worker thread ends after this long without audio (and starts again with the next)
MAX_BACKLOG_S = 10.0  # audio waiting for the recognizer beyond this is dropped
LEVEL_SMOOTHING = 0.3


@dataclass(frozen=True)
class LiveSnapshot:
    """What the live transcriber has heard so far (copies)."""

    partial: str  # the words of the utterance still being spoken
    finals: tuple[Segment, ...]
    delays: tuple[float, ...]  # per final: seconds from the end of the utterance's audio arriving to its text
    level_dbfs: float  # recent loudness of the microphone
    seconds_heard: float
    dropped_s: float  # audio dropped because recognition fell behind
    error: str | None
    recognizer: str


class LiveTranscriber:
    """One listener's live transcription."""

    def __init__(self, recognizer: Recognizer) -> None:
        self.recognizer = recognizer
        self._lock = threading.Lock()
        self._queue: queue.Queue = queue.Queue()
        self._stream = recognizer.stream()
        self._resampler = None
        self._worker: threading.Thread | None = None
        self._arrivals: deque = deque(maxlen=2000)  # (stream seconds at the end of a chunk, wall time it arrived)
        self._received = 0  # samples queued
        self._queued = 0  # samples waiting
        self._partial = ""
        self._finals: list[Segment] = []
        self._delays: list[float] = []
        self._level = -100.0
        self._dropped = 0
        self._error: str | None = None
        self._generation = 0  # bumped by reset(): audio queued before it is ignored

    # -------------------------------------------------------------- the WebRTC side (must stay cheap)
    def feed_frame(self, frame) -> None:
        """One ``av.AudioFrame`` from the browser (any rate and layout)."""
        if self._resampler is None:
            from engines.speech.audio import FrameResampler

            self._resampler = FrameResampler()
        self.feed(self._resampler(frame))

    def feed(self, samples: np.ndarray) -> None:
        """16 kHz mono samples; queued for the worker, which is started when needed."""
        samples = as_int16(samples)
        if samples.size == 0:
            return
        now = time.perf_counter()
        level = level_dbfs(samples)
        with self._lock:
            self._received += len(samples)
            self._queued += len(samples)
            self._arrivals.append((self._received / SAMPLE_RATE, now))
            smoothed = (1 - LEVEL_SMOOTHING) * self._level + LEVEL_SMOOTHING * level
            self._level = level if self._level <= -100 else smoothed
            self._queue.put((self._generation, samples))  # under the lock: the worker looks for work under it too
            self._ensure_worker()

    def _ensure_worker(self) -> None:
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._work, name="live-transcriber", daemon=True)
            self._worker.start()

    # -------------------------------------------------------------- the worker
    def _work(self) -> None:
        while True:
            try:
                generation, samples = self._queue.get(timeout=IDLE_STOP_S)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._worker = None
                        return
                continue
            if isinstance(samples, threading.Event):  # finish(): the queued audio is done, close the utterance
                with self._lock:
                    stream, current = self._stream, generation == self._generation
                if current:
                    self._record(stream.finish(), generation)
                samples.set()
                continue
            with self._lock:
                self._queued -= len(samples)
                stale = generation != self._generation
                behind = self._queued / SAMPLE_RATE > MAX_BACKLOG_S
                if behind:
                    self._dropped += len(samples)
                stream = self._stream
            if stale or behind:
                continue
            try:
                segments = stream.accept(samples)
            except Exception as exc:  # noqa: BLE001 (a recognizer failure must not end the stream; the page shows it)
                with self._lock:
                    self._error = f"{self.recognizer.name} failed: {type(exc).__name__}: {exc}"
                continue
            self._record(segments, generation)

    def _record(self, segments: list[Segment], generation: int) -> None:
        now = time.perf_counter()
        with self._lock:
            if generation != self._generation:
                return
            self._error = None
            for segment in segments:
                if not segment.final:
                    self._partial = segment.text
                    continue
                self._partial = ""
                self._finals.append(segment)
                arrived = next((wall for t, wall in self._arrivals if t >= segment.end), now)
                self._delays.append(max(0.0, now - arrived))

    # -------------------------------------------------------------- the page side
    def finish(self, wait: float = 3.0) -> bool:
        """The stream ended (STOP): after the audio still queued, the open utterance becomes final.

        The worker does it, in order and on its own thread (the decoder is not shared between threads); this
        waits up to ``wait`` seconds for it and says whether it was done in time.
        """
        done = threading.Event()
        with self._lock:
            self._queue.put((self._generation, done))
            self._ensure_worker()
        return done.wait(wait)

    def reset(self) -> None:
        """Forget the transcript and start a fresh stream (queued audio is ignored)."""
        fresh = self.recognizer.stream()  # outside the lock: a new decoder takes a second to make
        with self._lock:
            self._generation += 1
            self._stream = fresh
            self._arrivals.clear()
            self._received = 0
            self._partial, self._finals, self._delays = "", [], []
            self._level, self._dropped, self._error = -100.0, 0, None

    def snapshot(self) -> LiveSnapshot:
        """What has been heard so far."""
        with self._lock:
            return LiveSnapshot(
                partial=self._partial,
                finals=tuple(self._finals),
                delays=tuple(self._delays),
                level_dbfs=self._level,
                seconds_heard=self._received / SAMPLE_RATE,
                dropped_s=self._dropped / SAMPLE_RATE,
                error=self._error,
                recognizer=self.recognizer.name,
            )
