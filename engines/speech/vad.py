"""Voice activity detection: a stream of 16 kHz samples cut into utterances (pocketsphinx's endpointer).

``UtteranceSplitter.accept(chunk)`` takes int16 samples of any length and returns the utterances that ended
in them, each with its samples and its start and end in seconds from the start of the stream; ``finish()``
closes the one still open. ``in_speech`` and ``open_samples()`` let a caller show something while a person
is still talking.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engines.speech.segments import SAMPLE_RATE

MAX_UTTERANCE_S = 20.0  # an utterance longer than this is cut (one never-ending sentence, or steady noise)


@dataclass(frozen=True)
class Utterance:
    """One stretch of speech."""

    samples: np.ndarray  # int16, 16 kHz mono
    start: float
    end: float


def as_int16(chunk: np.ndarray) -> np.ndarray:
    """16 kHz samples as int16: int16 passes through, floats in [-1, 1] are scaled (and clipped)."""
    chunk = np.asarray(chunk)
    if chunk.dtype == np.int16:
        return chunk.ravel()
    if np.issubdtype(chunk.dtype, np.floating):
        return (np.clip(np.nan_to_num(chunk.ravel()), -1.0, 1.0) * 32767).astype(np.int16)
    return np.clip(chunk.ravel(), -32768, 32767).astype(np.int16)


class UtteranceSplitter:
    """Cuts a stream into utterances with pocketsphinx's WebRTC-style VAD and a smoothing window."""

    def __init__(
        self, window: float = 0.3, ratio: float = 0.9, mode: int = 1, max_utterance_s: float = MAX_UTTERANCE_S
    ):
        from pocketsphinx import Endpointer

        self._ep = Endpointer(window=window, ratio=ratio, vad_mode=mode, sample_rate=SAMPLE_RATE)
        self._frame = self._ep.frame_bytes // 2  # samples per VAD frame
        self._pending = np.zeros(0, np.int16)
        self._speech: list[np.ndarray] = []
        self._start = 0.0
        self._max = max_utterance_s

    @property
    def in_speech(self) -> bool:
        """Whether an utterance is open."""
        return bool(self._speech)

    @property
    def open_start(self) -> float | None:
        """Where the open utterance started (seconds from the start of the stream), or None when none is open."""
        return float(self._start) if self._speech else None

    def open_samples(self) -> np.ndarray:
        """The samples of the utterance still open (empty when none)."""
        return np.concatenate(self._speech) if self._speech else np.zeros(0, np.int16)

    def accept(self, chunk: np.ndarray) -> list[Utterance]:
        """Feed samples; the utterances that ended in them."""
        samples = np.concatenate([self._pending, as_int16(chunk)])
        whole = len(samples) - len(samples) % self._frame
        self._pending = samples[whole:]
        done: list[Utterance] = []
        for i in range(0, whole, self._frame):
            was_speech = self._ep.in_speech
            speech = self._ep.process(samples[i : i + self._frame].tobytes())
            if speech is None:
                continue
            if not was_speech:
                self._speech, self._start = [], self._ep.speech_start
            self._speech.append(np.frombuffer(speech, np.int16))
            if not self._ep.in_speech:
                done.append(self._close(self._ep.speech_end))
            elif sum(len(s) for s in self._speech) >= self._max * SAMPLE_RATE:
                end = self._start + sum(len(s) for s in self._speech) / SAMPLE_RATE
                done.append(self._close(end))
                self._start = end
        return done

    def finish(self) -> list[Utterance]:
        """End of the stream: the open utterance, if any."""
        if not self._ep.in_speech and not self._speech:
            return []
        if self._ep.in_speech:
            tail = np.zeros(self._frame, np.int16)
            tail[: len(self._pending)] = self._pending[: self._frame]
            speech = self._ep.end_stream(tail.tobytes())
            if speech:
                self._speech.append(np.frombuffer(speech, np.int16))
        self._pending = np.zeros(0, np.int16)
        if not self._speech:
            return []
        end = self._start + sum(len(s) for s in self._speech) / SAMPLE_RATE
        return [self._close(end)]

    def _close(self, end: float) -> Utterance:
        samples = np.concatenate(self._speech) if self._speech else np.zeros(0, np.int16)
        self._speech = []
        return Utterance(samples, float(self._start), float(max(end, self._start)))
