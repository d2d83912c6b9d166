"""Offline English recognition with CMU PocketSphinx, streaming.

Its wheel carries the US English acoustic model, a 3-gram language model and the CMU pronouncing
dictionary. Partial results come while a person talks, a final one when the voice activity detector
hears the utterance end.
"""

from __future__ import annotations

import threading

import numpy as np

from engines.speech.segments import SAMPLE_RATE, Segment
from engines.speech.vad import as_int16

NAME = "PocketSphinx (CMU Sphinx US English, offline)"
PARTIAL_EVERY_S = 0.25  # seconds of speech between two partial results


class SphinxStream:
    """One audio stream through its own pocketsphinx decoder and endpointer."""

    def __init__(self, decoder, vad_mode: int = 1, partials: bool = True) -> None:
        from pocketsphinx import Endpointer

        self.partials = partials
        self._decoder = decoder
        self._ep = Endpointer(window=0.3, ratio=0.9, vad_mode=vad_mode, sample_rate=SAMPLE_RATE)
        self._frame = self._ep.frame_bytes // 2
        self._pending = np.zeros(0, np.int16)
        self._since_partial = 0
        self._last_partial = ""

    def _hyp(self) -> str:
        hyp = self._decoder.hyp()
        return hyp.hypstr.strip() if hyp is not None and hyp.hypstr else ""

    def _feed(self, frame: np.ndarray, out: list[Segment]) -> None:
        was_speech = self._ep.in_speech
        speech = self._ep.process(frame.tobytes())
        if speech is None:
            return
        if not was_speech:
            self._decoder.start_utt()
            self._since_partial, self._last_partial = 0, ""
        self._decoder.process_raw(speech, False, False)
        if not self._ep.in_speech:
            self._decoder.end_utt()
            self._emit_final(out, self._ep.speech_start, self._ep.speech_end)
            return
        self._since_partial += len(speech) // 2
        if self.partials and self._since_partial >= PARTIAL_EVERY_S * SAMPLE_RATE:
            self._since_partial = 0
            text = self._hyp()
            if text and text != self._last_partial:
                self._last_partial = text
                start = self._ep.speech_start
                out.append(Segment(text, start, start + self._decoder.n_frames() / 100, final=False))

    def _emit_final(self, out: list[Segment], start: float, end: float) -> None:
        text = self._hyp()
        if text:
            out.append(Segment(text, float(start), float(max(end, start)), final=True))

    def accept(self, chunk: np.ndarray) -> list[Segment]:
        """Feed 16 kHz mono samples; returns partial and final segments."""
        samples = np.concatenate([self._pending, as_int16(chunk)])
        whole = len(samples) - len(samples) % self._frame
        self._pending = samples[whole:]
        out: list[Segment] = []
        for i in range(0, whole, self._frame):
            self._feed(samples[i : i + self._frame], out)
        return out

    def finish(self) -> list[Segment]:
        """End of the audio: the open utterance's final result."""
        out: list[Segment] = []
        if self._ep.in_speech:
            tail = np.zeros(self._frame, np.int16)
            tail[: len(self._pending)] = self._pending[: self._frame]
            speech = self._ep.end_stream(tail.tobytes())
            if speech:
                self._decoder.process_raw(speech, False, False)
            self._decoder.end_utt()
            self._emit_final(out, self._ep.speech_start, self._ep.speech_end)
        self._pending = np.zeros(0, np.int16)
        return out


class SphinxRecognizer:
    """PocketSphinx behind the Recognizer interface; each stream gets its own decoder (0.7 s, 80 MB to make)."""

    name = NAME
    language = "en"

    def __init__(self, vad_mode: int = 1) -> None:
        self.vad_mode = vad_mode
        self._spare = None
        self._lock = threading.Lock()
        self._spare = self._new_decoder()

    @staticmethod
    def _new_decoder():
        from pocketsphinx import Decoder

        return Decoder(samprate=SAMPLE_RATE, loglevel="FATAL")

    def stream(self, partials: bool = True) -> SphinxStream:
        """A new stream, with partial results unless ``partials`` is False.

        The first stream takes the decoder made at start-up; later ones make their own.
        """
        with self._lock:
            decoder, self._spare = self._spare, None
        return SphinxStream(decoder or self._new_decoder(), self.vad_mode, partials)
