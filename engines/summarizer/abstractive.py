"""Abstractive summaries with a pretrained sequence-to-sequence model (DistilBART-CNN or T5-small), when available.

The model is found on the offline-first ladder (``GALLERY_MODEL_DIR/<name>`` -> Hugging Face cache -> hub when
allowed); when no rung answers, :func:`resolve` says so and the page offers the extractive methods. A long
document is split at sentence boundaries into chunks that fit the model's input, each chunk is summarised
(map), and the joined chunk summaries are summarised once more when there are several (reduce). Generation is
always bounded by ``max_new_tokens`` and the number of chunks by ``max_chunks``, so nothing can run forever.
torch and transformers are imported only inside the functions that need them.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engines.core.errors import InputError
from engines.core.model_sources import ModelSpec, ResolvedModel, resolve_model
from engines.core.progress import Progress, null_progress, scaled
from engines.core.text import split_sentences
from engines.summarizer.model import check_text, compression
from engines.summarizer.preprocess import prepare

log = logging.getLogger(__name__)

OFFLINE = "the extractive summariser (position-aware centrality + MMR)"
DISTILBART = ModelSpec(
    name="distilbart-cnn-12-6",
    title="DistilBART-CNN-12-6 (abstractive, 306M parameters)",
    offline=OFFLINE,
    hub_id="sshleifer/distilbart-cnn-12-6",
)
T5_SMALL = ModelSpec(
    name="t5-small",
    title="T5-small (abstractive, 60M parameters)",
    offline=OFFLINE,
    hub_id="google-t5/t5-small",
)
MODELS = (DISTILBART, T5_SMALL)  # tried in this order


@dataclass(frozen=True)
class AbstractiveConfig:
    """How to generate.

    Attributes:
        max_input_tokens: Tokens per chunk at most (the model's own limit wins when smaller).
        max_new_tokens: Tokens generated per chunk and for the final pass: the hard bound on generation.
        min_new_tokens: Tokens generated at least per summary.
        num_beams: Beam width.
        max_chunks: Chunks summarised at most; the rest of a very long document is left out, with a note.
        reduce: Summarise the joined chunk summaries once more when there are several chunks.
    """

    max_input_tokens: int = 1024  # BART's position limit; T5 is trained on 512 and its tokenizer says so
    max_new_tokens: int = 120  # about 90 words: a CNN/DM-style summary
    min_new_tokens: int = 10  # a summary says at least something
    num_beams: int = 2  # most of beam search's gain at half the time of 4 beams, on a CPU
    max_chunks: int = 12  # ~9,000 words with BART: minutes on a CPU, not hours
    reduce: bool = True  # one summary, not a list of chunk summaries

    def __post_init__(self) -> None:
        if not 16 <= self.max_input_tokens <= 4096:
            raise InputError(f"max_input_tokens must be between 16 and 4096, got {self.max_input_tokens}.")
        if not 1 <= self.min_new_tokens <= self.max_new_tokens <= 512:
            raise InputError("Need 1 <= min_new_tokens <= max_new_tokens <= 512.")
        if not 1 <= self.num_beams <= 8 or not 1 <= self.max_chunks <= 100:
            raise InputError("num_beams must be 1-8 and max_chunks 1-100.")


@dataclass
class AbstractiveSummary:
    """A generated summary.

    Attributes:
        text: The final summary.
        chunks: The source chunks (text), in order.
        chunk_summaries: One summary per chunk (map step).
        model: The model's title.
        seconds: Wall time.
        notes: What a user should know (chunks left out, reduce skipped).
        source_words: Words in the source.
        source_sentences: Sentences in the source.
    """

    text: str
    chunks: list[str]
    chunk_summaries: list[str]
    model: str
    seconds: float
    notes: tuple[str, ...]
    source_words: int
    source_sentences: int

    @property
    def stats(self) -> dict[str, float]:
        """Compression figures, as for an extractive summary."""
        return compression(self.source_words, self.source_sentences, self.text, len(split_sentences(self.text)))


def resolve(progress: Progress = null_progress) -> ResolvedModel:
    """The first abstractive model found on the ladder, or the offline fallback of the first one."""
    first: ResolvedModel | None = None
    for i, spec in enumerate(MODELS):
        found = resolve_model(spec, scaled(progress, i / len(MODELS), (i + 1) / len(MODELS)))
        if not found.is_offline:
            progress(1.0, found.notice)
            return found
        first = first or found
    assert first is not None
    progress(1.0, first.notice)
    return first


class AbstractiveSummarizer:
    """A loaded sequence-to-sequence model with its tokenizer.

    Attributes:
        path: Folder the weights came from.
        title: Human name of the model.
        prefix: Text put before every input (T5 needs ``"summarize: "``).
        max_input: Tokens per chunk.
        max_new_tokens: Tokens generated at most per call (the config's bound, or less for a short decoder).
    """

    def __init__(self, path: Path, title: str, config: AbstractiveConfig | None = None) -> None:
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer  # lazy: heavy
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        self.config = config or AbstractiveConfig()
        self.path = Path(path)
        self.title = title
        self.tokenizer = AutoTokenizer.from_pretrained(self.path)
        self.model = AutoModelForSeq2SeqLM.from_pretrained(self.path)
        self.model.eval()
        self.prefix = "summarize: " if getattr(self.model.config, "model_type", "") == "t5" else ""
        limits = [self.config.max_input_tokens]
        tokenizer_max = getattr(self.tokenizer, "model_max_length", None)
        if isinstance(tokenizer_max, int) and 0 < tokenizer_max < 100_000:
            limits.append(tokenizer_max)
        positions = getattr(self.model.config, "max_position_embeddings", None)
        if isinstance(positions, int) and positions > 0:
            limits.append(positions)
        self.max_input = max(8, min(limits) - len(self._ids(self.prefix)) - 2)  # room for special tokens
        # The decoder cannot go past its position table either: a small model gets a shorter summary, not a crash.
        self.max_new_tokens = self.config.max_new_tokens
        if isinstance(positions, int) and positions > 0:
            self.max_new_tokens = max(1, min(self.max_new_tokens, positions - 2))

    def _ids(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"] if text else []

    def chunk(self, sentences: list[str]) -> list[str]:
        """Pack sentences, in order, into chunks of at most ``max_input`` tokens (a longer sentence is its own chunk)."""
        chunks: list[str] = []
        current: list[str] = []
        used = 0
        for sentence in sentences:
            size = len(self._ids(" " + sentence))
            if current and used + size > self.max_input:
                chunks.append(" ".join(current))
                current, used = [], 0
            current.append(sentence)
            used += size
        if current:
            chunks.append(" ".join(current))
        return chunks

    def generate(self, text: str) -> str:
        """One bounded generation for one chunk (input truncated to ``max_input`` tokens)."""
        import torch  # lazy: heavy

        cfg = self.config
        batch = self.tokenizer(self.prefix + text, truncation=True, max_length=self.max_input + 2, return_tensors="pt")
        with torch.inference_mode():
            output = self.model.generate(
                **batch,
                max_new_tokens=self.max_new_tokens,
                min_new_tokens=min(cfg.min_new_tokens, self.max_new_tokens),
                num_beams=cfg.num_beams,
                no_repeat_ngram_size=3,
                early_stopping=True,
            )
        return self.tokenizer.decode(output[0], skip_special_tokens=True).strip()

    def summarize(self, text: str, progress: Progress = null_progress) -> AbstractiveSummary:
        """Map-reduce summary of a document of any length.

        Raises:
            InputError: for empty, wordless or non-English text.
        """
        started = time.perf_counter()
        progress(0.02, "Cleaning the text")
        clean = check_text(text)
        document = prepare(clean.text)
        sentences = [s.text for s in document.body] or [clean.text]
        notes = list(clean.notes)
        chunks = self.chunk(sentences)
        if len(chunks) > self.config.max_chunks:
            notes.append(
                f"The document makes {len(chunks)} chunks of up to {self.max_input} tokens; the first "
                f"{self.config.max_chunks} were summarised."
            )
            chunks = chunks[: self.config.max_chunks]
        steps = len(chunks) + (1 if self.config.reduce and len(chunks) > 1 else 0)
        partial: list[str] = []
        for i, chunk in enumerate(chunks):
            progress(0.05 + 0.9 * i / steps, f"Summarising part {i + 1} of {len(chunks)}")
            partial.append(self.generate(chunk))
        final = " ".join(partial)
        if self.config.reduce and len(chunks) > 1:
            progress(0.05 + 0.9 * len(chunks) / steps, "Combining the part summaries")
            final = self.generate(final)
        progress(1.0, "Summarised")
        return AbstractiveSummary(
            text=final,
            chunks=chunks,
            chunk_summaries=partial,
            model=self.title,
            seconds=time.perf_counter() - started,
            notes=tuple(notes),
            source_words=document.words,
            source_sentences=len(document.body),
        )


def load(
    resolved: ResolvedModel, config: AbstractiveConfig | None = None, progress: Progress = null_progress
) -> AbstractiveSummarizer | None:
    """Load the resolved model; None for the offline fallback or weights that fail to load (logged)."""
    if resolved.is_offline or resolved.path is None:
        progress(1.0, resolved.notice)
        return None
    progress(0.2, f"Loading {resolved.spec.title}")
    try:
        model = AbstractiveSummarizer(resolved.path, resolved.spec.title, config)
    except Exception as exc:  # noqa: BLE001 (broken weights: fall back to extractive, do not crash the page)
        log.warning("Could not load %s from %s: %s", resolved.spec.name, resolved.path, exc)
        progress(1.0, f"Could not load {resolved.spec.title}")
        return None
    progress(1.0, f"Loaded {resolved.spec.title}")
    return model


def as_extra(model: AbstractiveSummarizer) -> dict[str, Any]:
    """The model as an ``extra`` entry for :func:`engines.summarizer.model.compare_methods`."""
    return {model.title: lambda text, progress: model.summarize(text, progress=progress)}
