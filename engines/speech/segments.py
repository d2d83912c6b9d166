"""What every recognizer returns, and the interfaces they share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

SAMPLE_RATE = 16_000  # every recognizer takes 16 kHz mono


@dataclass(frozen=True)
class Segment:
    """A stretch of transcript with its time in the audio."""

    text: str
    start: float  # seconds from the start of the audio (or of the live stream)
    end: float
    final: bool = True  # False: a partial result that a later segment replaces


class RecognizerStream(Protocol):
    """One stream of audio through a recognizer: feed chunks, get partial and final segments."""

    def accept(self, chunk: np.ndarray) -> list[Segment]:
        """Feed 16 kHz mono int16 samples (any length); returns the segments this chunk produced."""
        ...

    def finish(self) -> list[Segment]:
        """End of the audio: the last final segment, if an utterance was still open."""
        ...


class Recognizer(Protocol):
    """A speech recognizer: its name, its language, and a new stream."""

    name: str
    language: str  # ISO 639-1 code of the language it recognizes ("en"), or "multi"

    def stream(self, partials: bool = True) -> RecognizerStream:
        """A fresh stream (each has its own state; a recognizer may hand out several).

        ``partials=False`` skips the running guesses: a whole file needs only the final text.
        """
        ...


def transcribe(recognizer: Recognizer, samples: np.ndarray, progress=None, chunk_s: float = 0.5) -> list[Segment]:
    """Final segments of a whole clip, fed through a stream chunk by chunk (with progress)."""
    from engines.speech.vad import as_int16

    stream = recognizer.stream(partials=False)
    samples = as_int16(samples)
    step = max(1, int(chunk_s * SAMPLE_RATE))
    finals: list[Segment] = []
    for i in range(0, len(samples), step):
        finals += [s for s in stream.accept(samples[i : i + step]) if s.final]
        if progress is not None:
            progress(
                min(0.99, (i + step) / max(1, len(samples))), f"{min(i + step, len(samples)) / SAMPLE_RATE:.0f} s heard"
            )
    finals += [s for s in stream.finish() if s.final]
    if progress is not None:
        progress(1.0, f"{len(finals)} utterance{'s' if len(finals) != 1 else ''}")
    return finals
