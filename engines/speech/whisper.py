"""OpenAI's Whisper through transformers, offline first, behind the :class:`~engines.speech.segments.Recognizer` protocol.

The ladder (``GALLERY_MODEL_DIR/<name>``, the Hugging Face cache, a download when allowed) is tried for
whisper-tiny.en, then whisper-base.en, then the multilingual whisper-tiny (forced to transcribe English).
Whisper reads 30 s windows: longer audio is cut into pieces of at most 30 s, at the given utterance boundaries
or else at the quietest moment near the limit, and the texts are joined. Generation is greedy and bounded
(a few tokens per second of audio, never past the decoder's position table), so a call always ends.

:class:`WhisperStream` makes it a streaming recognizer: pocketsphinx's endpointer
(:class:`~engines.speech.vad.UtteranceSplitter`) cuts the stream into utterances, each finished utterance is
transcribed into a final :class:`~engines.speech.segments.Segment`, and, while someone is still talking, the
open utterance is transcribed every ``partial_every`` seconds of new speech into a partial one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from engines.core.errors import InputError, SourceError
from engines.core.model_sources import ModelSpec, ResolvedModel, from_folder, load_first, quiet_transformers
from engines.core.progress import Progress, null_progress
from engines.speech.segments import SAMPLE_RATE, Segment
from engines.speech.vad import UtteranceSplitter, as_int16

OFFLINE = "the offline pocketsphinx recognizer"
WHISPER_TINY_EN = ModelSpec(
    name="whisper-tiny.en",
    title="Whisper tiny.en (English, 39M parameters, 150 MB)",
    offline=OFFLINE,
    hub_id="openai/whisper-tiny.en",
)
WHISPER_BASE_EN = ModelSpec(
    name="whisper-base.en",
    title="Whisper base.en (English, 74M parameters, 290 MB)",
    offline=OFFLINE,
    hub_id="openai/whisper-base.en",
)
WHISPER_TINY = ModelSpec(
    name="whisper-tiny",
    title="Whisper tiny (multilingual, 39M parameters, 150 MB)",
    offline=OFFLINE,
    hub_id="openai/whisper-tiny",
)
MODELS = (WHISPER_TINY_EN, WHISPER_BASE_EN, WHISPER_TINY)  # tried in this order

WINDOW_S = 30.0  # Whisper's input window
TOKENS_PER_SECOND = 6  # fast speech is about 4 tokens a second; the rest is headroom
MIN_NEW_TOKENS = 16  # even a 1 s piece may hold a few words
MAX_NEW_TOKENS = 224  # Whisper's own bound per window (max_target_positions // 2)
BATCH = 4  # 30 s pieces decoded together
QUIET_SEARCH_S = 5.0  # without boundaries, a long recording is cut at its quietest 0.1 s in the window's last 5 s


def check_samples(samples: Any) -> np.ndarray:
    """16 kHz mono samples (int16, or floats in [-1, 1]) as float32 in [-1, 1].

    Raises:
        InputError: for something that is not a numeric array of mono samples.
    """
    if isinstance(samples, (str, bytes)) or samples is None:
        raise InputError("Pass the audio as a numpy array of 16 kHz mono samples (int16 or float in [-1, 1]).")
    array = np.asarray(samples)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise InputError("Pass the audio as a numpy array of 16 kHz mono samples (int16 or float in [-1, 1]).")
    if array.ndim > 1 and sorted(array.shape)[-2] > 1:
        raise InputError(f"The audio has shape {array.shape}: mix it down to one channel (mono) first.")
    if np.issubdtype(array.dtype, np.floating):
        return np.clip(np.nan_to_num(array.ravel().astype(np.float32)), -1.0, 1.0)
    return as_int16(array).astype(np.float32) / 32768.0


def _quietest(samples: np.ndarray, lo: int, hi: int) -> int:
    """The middle of the quietest 0.1 s frame of ``samples[lo:hi]``."""
    frame = SAMPLE_RATE // 10
    count = max(1, (hi - lo) // frame)
    energy = (samples[lo : lo + count * frame].reshape(count, frame) ** 2).mean(axis=1)
    return lo + int(np.argmin(energy)) * frame + frame // 2


def split_pieces(
    samples: np.ndarray, cuts: Sequence[float] | None = None, window_s: float = WINDOW_S
) -> list[np.ndarray]:
    """Cut audio into pieces of at most ``window_s`` seconds.

    Args:
        samples: 16 kHz mono samples.
        cuts: Times (seconds) where a cut is welcome (utterance boundaries); the last one that keeps a piece
            within the window is used, else the quietest moment in the window's last few seconds.
        window_s: Longest piece.

    Returns:
        The pieces, in order, together exactly ``samples``.
    """
    limit = int(window_s * SAMPLE_RATE)
    total = len(samples)
    bounds = sorted({round(float(c) * SAMPLE_RATE) for c in (cuts or ()) if np.isfinite(c)})
    if limit < SAMPLE_RATE:
        raise InputError(f"Pieces must be at least 1 s long, got window_s={window_s}.")
    shortest = min(SAMPLE_RATE, limit // 2)  # no piece shorter than this (1 s for Whisper's 30 s window)
    pieces: list[np.ndarray] = []
    begin = 0
    while total - begin > limit:
        high = begin + limit
        inside = [b for b in bounds if begin + shortest <= b <= high]
        if inside:
            cut = inside[-1]
        else:
            low = max(begin + shortest, high - int(QUIET_SEARCH_S * SAMPLE_RATE))
            cut = _quietest(samples, low, high)
        pieces.append(samples[begin:cut])
        begin = cut
    pieces.append(samples[begin:])
    return [piece for piece in pieces if len(piece)]


class WhisperRecognizer:
    """A loaded Whisper checkpoint and its processor; English transcription.

    Attributes:
        name: Shown on pages ("Whisper tiny.en (transformers)").
        language: Always "en": multilingual checkpoints are forced to transcribe English.
        resolved: Where the model was found.
    """

    language = "en"

    def __init__(self, model: Any, processor: Any, resolved: ResolvedModel) -> None:
        self.model, self.processor, self.resolved = model.eval(), processor, resolved
        variant = resolved.spec.name.removeprefix("whisper-")
        self.name = f"Whisper {variant} (transformers)"
        generation = model.generation_config
        lang_to_id = getattr(generation, "lang_to_id", None) or {}
        task_to_id = getattr(generation, "task_to_id", None) or {}
        # English-only checkpoints refuse language/task; a multilingual one would otherwise detect the language
        self._force = (
            {"language": "en", "task": "transcribe"}
            if getattr(generation, "is_multilingual", False) and "<|en|>" in lang_to_id and "transcribe" in task_to_id
            else {}
        )
        positions = int(getattr(model.config, "max_target_positions", 448) or 448)
        self._token_cap = max(1, min(MAX_NEW_TOKENS, positions - 5))  # room for the 4 prompt tokens

    @property
    def notice(self) -> str:
        """Which model is in use, and where it was found."""
        return self.resolved.notice

    def _max_new_tokens(self, seconds: float) -> int:
        return min(self._token_cap, max(MIN_NEW_TOKENS, int(TOKENS_PER_SECOND * seconds) + MIN_NEW_TOKENS))

    def _decode(self, pieces: list[np.ndarray]) -> list[str]:
        """Transcribe up to 30 s pieces in one batch."""
        features = self.processor.feature_extractor(
            pieces, sampling_rate=SAMPLE_RATE, return_tensors="pt"
        ).input_features.to(self.model.dtype)
        longest = max(len(piece) for piece in pieces) / SAMPLE_RATE
        with quiet_transformers(), torch.inference_mode():
            output = self.model.generate(
                features, max_new_tokens=self._max_new_tokens(longest), num_beams=1, do_sample=False, **self._force
            )
        sequences = output.sequences if hasattr(output, "sequences") else output
        return [text.strip() for text in self.processor.tokenizer.batch_decode(sequences, skip_special_tokens=True)]

    def transcribe_samples(self, samples: Any, cuts: Sequence[float] | None = None) -> str:
        """The text spoken in ``samples`` (16 kHz mono, int16 or float in [-1, 1]); '' for no audio.

        Args:
            samples: The audio.
            cuts: Utterance boundaries in seconds, where audio longer than 30 s is best cut.

        Raises:
            InputError: when ``samples`` is not an array of mono samples.
        """
        audio = check_samples(samples)
        if len(audio) < SAMPLE_RATE // 100:  # less than 10 ms: nothing to hear
            return ""
        pieces = split_pieces(audio, cuts)
        texts: list[str] = []
        for i in range(0, len(pieces), BATCH):
            texts.extend(self._decode(pieces[i : i + BATCH]))
        return " ".join(text for text in texts if text)

    def stream(self, partials: bool = True) -> WhisperStream:
        """A fresh stream: final segments per utterance, and partial ones while it is open when ``partials``."""
        return WhisperStream(self, partials=partials)


class WhisperStream:
    """Whisper as a :class:`~engines.speech.segments.RecognizerStream`: one transcription per utterance.

    Args:
        recognizer: The loaded model.
        partials: Transcribe the open utterance every ``partial_every`` seconds of new speech (final=False).
        partial_every: Seconds of new speech between two partial transcriptions.
        splitter: The endpointer (a fresh :class:`UtteranceSplitter` by default).
    """

    def __init__(
        self,
        recognizer: WhisperRecognizer,
        partials: bool = True,
        partial_every: float = 2.0,
        splitter: UtteranceSplitter | None = None,
    ) -> None:
        if not 0.5 <= float(partial_every) <= 60:
            raise InputError(f"partial_every must be between 0.5 and 60 seconds, got {partial_every}.")
        self.recognizer = recognizer
        self.partials = bool(partials)
        self._every = int(float(partial_every) * SAMPLE_RATE)
        self._splitter = splitter or UtteranceSplitter()
        self._fed = 0  # samples fed so far: the stream's clock
        self._partial_at = 0  # open-utterance length at its last partial
        self._last_end = 0.0

    def _finals(self, utterances: list) -> list[Segment]:
        found = []
        for utterance in utterances:
            self._partial_at = 0
            self._last_end = max(self._last_end, utterance.end)
            text = self.recognizer.transcribe_samples(utterance.samples)
            if text:
                found.append(Segment(text, utterance.start, utterance.end, True))
        return found

    def accept(self, chunk: np.ndarray) -> list[Segment]:
        """Feed 16 kHz mono samples (int16, or float in [-1, 1]); the segments they produced."""
        if isinstance(chunk, np.ndarray) and chunk.dtype == np.int16 and chunk.ndim == 1:
            samples = chunk
        else:
            samples = as_int16(check_samples(chunk))
        self._fed += len(samples)
        found = self._finals(self._splitter.accept(samples))
        if self.partials and self._splitter.in_speech:
            open_samples = self._splitter.open_samples()
            if len(open_samples) < self._partial_at:  # a new utterance
                self._partial_at = 0
            if len(open_samples) - self._partial_at >= self._every:
                self._partial_at = len(open_samples)
                text = self.recognizer.transcribe_samples(open_samples)
                if text:
                    now = self._fed / SAMPLE_RATE
                    opened = self._splitter.open_start
                    start = opened if opened is not None else max(self._last_end, now - len(open_samples) / SAMPLE_RATE)
                    found.append(Segment(text, start, max(start, now), False))
        return found

    def finish(self) -> list[Segment]:
        """End of the audio: the final segment of the utterance still open, if any."""
        return self._finals(self._splitter.finish())


def _load_folder(resolved: ResolvedModel) -> WhisperRecognizer:
    from transformers import AutoModelForSpeechSeq2Seq, AutoProcessor

    model, processor = from_folder(resolved, "a Whisper model", AutoModelForSpeechSeq2Seq, AutoProcessor)
    if getattr(model.config, "model_type", "") != "whisper":
        raise SourceError(f"{resolved.path} holds a {model.config.model_type} model, not Whisper.")
    if not (hasattr(processor, "feature_extractor") and hasattr(processor, "tokenizer")):
        raise SourceError(f"{resolved.path} has no WhisperProcessor (feature extractor and tokenizer).")
    return WhisperRecognizer(model, processor, resolved)


def load_whisper(
    progress: Progress = null_progress, specs: ModelSpec | Sequence[ModelSpec] = MODELS
) -> WhisperRecognizer:
    """The first Whisper of ``specs`` found (offline first) and loadable.

    Raises:
        SourceError: when none is; the message says where it looked and how to provide one.
    """
    try:
        return load_first(specs, _load_folder, "Whisper speech recognizer", progress)
    except SourceError as exc:
        first = specs if isinstance(specs, ModelSpec) else specs[0]
        raise SourceError(
            f"{exc} For Whisper, save both WhisperForConditionalGeneration.from_pretrained('{first.hub_id}') "
            f"and WhisperProcessor.from_pretrained('{first.hub_id}') with save_pretrained into "
            f"GALLERY_MODEL_DIR/{first.name}."
        ) from exc
