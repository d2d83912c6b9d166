"""The knowledge base's embeddings as a model the gallery ships: every passage's and every sentence's MiniLM vector.

Embedding the default knowledge base (about 130 passages and their sentences, 256 word pieces each) takes close
to a minute on two CPUs, so the repository ships the vectors (``python -m engines.build_models --only chatbot``),
keyed by the passages' text and the encoder's identity (:func:`engines.encoder_identity.encoder_identity`: the
weights' sha256). When the README or a demo's introduction changes, the key changes: the page answers with BM25
while the index is rebuilt in the background queue, and the rebuild embeds only the passages and sentences no
shipped index already holds (a README edit costs seconds, not a minute). Vectors are ``.npy`` files read with
``allow_pickle=False``; the text checksums that map rows to texts are JSON.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engines.chatbot.answer import SUGGESTIONS
from engines.chatbot.knowledge import MAX_WORDS, OVERLAP_WORDS, Passage, sentences
from engines.chatbot.retrieval import ENCODER_TOKENS, stem_table
from engines.core.artifacts import EngineCache
from engines.core.errors import SourceError
from engines.core.hashing import sha256_bytes
from engines.core.lifecycle import SHIPPED_ROOT, ModelRequest
from engines.core.progress import Progress, null_progress, scaled
from engines.registry import DEMOS

log = logging.getLogger(__name__)
ENGINE = "chatbot"
ENGINE_VERSION = 1  # bump when the saved layout changes
LIBRARIES = ("numpy", "torch", "transformers")
VECTORS, SENTENCE_VECTORS, TEXTS = "passages.npy", "sentences.npy", "texts.json"


@dataclass(frozen=True)
class IndexConfig:
    """What the vectors depend on besides the texts.

    Attributes:
        encoder: The encoder's identity (its weights' sha256).
        max_length: Word pieces MiniLM reads of each passage.
        max_words: Passage length the knowledge base was cut to (recorded, so a new chunking is a new key).
        overlap_words: Overlap between passages.
    """

    encoder: str
    max_length: int = ENCODER_TOKENS  # the retriever's own setting
    max_words: int = MAX_WORDS
    overlap_words: int = OVERLAP_WORDS


@dataclass
class PassageIndex:
    """Unit-length vectors of the passages (rows of ``vectors``) and of their sentences, in order.

    Attributes:
        passage_sha: sha256 of each passage's searchable text (row order of ``vectors``).
        sentence_sha: sha256 of each sentence (row order of ``sentence_rows``).
        vectors: One row per passage.
        sentence_rows: One row per sentence, passages' sentences one after the other.
        stems: Porter stem of every word of the passages, the suggested questions and the demo titles (the page
            seeds BM25 with them, so nltk need not load before the first answer).
        metrics_: Counts and the share of rows reused from a shipped index.
        card_: None (an index, not a classifier); the manifest records what it was made from.
    """

    passage_sha: tuple[str, ...]
    sentence_sha: tuple[str, ...]
    vectors: np.ndarray
    sentence_rows: np.ndarray
    stems: dict[str, str] = field(default_factory=dict)
    metrics_: dict[str, float] = field(default_factory=dict)
    card_: None = None
    engine_version: int = ENGINE_VERSION

    def matches(self, passages: list[Passage]) -> bool:
        """Whether the rows belong to exactly these passages."""
        return self.passage_sha == tuple(_sha(t) for t in passage_texts(passages))


class IndexCache(EngineCache[PassageIndex]):
    """Arrays as ``.npy`` (no pickle at all), checksums as JSON."""

    def write(self, model: PassageIndex, folder: Path) -> None:
        """Save the vectors and the checksums that name their rows."""
        np.save(folder / VECTORS, np.asarray(model.vectors, dtype=np.float32), allow_pickle=False)
        np.save(folder / SENTENCE_VECTORS, np.asarray(model.sentence_rows, dtype=np.float32), allow_pickle=False)
        texts = {
            "passages": list(model.passage_sha),
            "sentences": list(model.sentence_sha),
            "stems": model.stems,
            "metrics": model.metrics_,
        }
        (folder / TEXTS).write_text(json.dumps(texts))

    def read(self, folder: Path) -> PassageIndex:
        """Read an index written by :meth:`write`; rows that do not match their checksums raise."""
        texts = json.loads((folder / TEXTS).read_text())
        vectors = np.load(folder / VECTORS, allow_pickle=False)
        rows = np.load(folder / SENTENCE_VECTORS, allow_pickle=False)
        if len(vectors) != len(texts["passages"]) or len(rows) != len(texts["sentences"]):
            raise ValueError("chatbot index: rows and checksums disagree")
        return PassageIndex(
            tuple(texts["passages"]), tuple(texts["sentences"]), vectors, rows, texts.get("stems", {}), texts["metrics"]
        )


CACHE = IndexCache(ENGINE, ENGINE_VERSION, PassageIndex, LIBRARIES)


def _sha(text: str) -> str:
    return sha256_bytes(text.encode("utf-8"))


def passage_texts(passages: list[Passage]) -> list[str]:
    """What the retriever embeds for each passage."""
    return [p.searchable for p in passages]


def sentence_texts(passages: list[Passage]) -> list[str]:
    """Every passage's sentences, in order (the retriever's split: a passage without a break is one sentence)."""
    return [s for p in passages for s in (sentences(p.text) or [p.text])]


def data_sha256(passages: list[Passage]) -> str:
    """The checksum of everything the index embeds."""
    return _sha("\n\x00".join([*passage_texts(passages), "\x01", *sentence_texts(passages)]))


def known_rows(config: IndexConfig, root: Path = SHIPPED_ROOT) -> dict[str, np.ndarray]:
    """Text checksum -> vector from every shipped index made with the same encoder and settings (verified)."""
    from engines.core.lifecycle import ShippedStore

    store, known = ShippedStore(root), {}
    for folder in sorted((root / ENGINE).glob("*/")) if (root / ENGINE).is_dir() else []:
        manifest = store.verify(ENGINE, folder.name)
        if manifest is None or manifest.get("info", {}).get("config") != _plain(config):
            continue
        try:
            index = CACHE.read(folder)
        except (OSError, ValueError, KeyError) as exc:
            log.warning("Shipped chatbot index %s unreadable: %s", folder.name, exc)
            continue
        known.update(zip(index.passage_sha, index.vectors, strict=True))
        known.update(zip(index.sentence_sha, index.sentence_rows, strict=True))
    return known


def shipped_stems(root: Path = SHIPPED_ROOT) -> dict[str, str]:
    """The Porter stems every verified shipped index carries (whatever its key: a stale index's stems are right)."""
    from engines.core.lifecycle import ShippedStore

    store, stems = ShippedStore(root), {}
    for folder in sorted((root / ENGINE).glob("*/")) if (root / ENGINE).is_dir() else []:
        if store.verify(ENGINE, folder.name) is not None:
            try:
                stems.update(json.loads((folder / TEXTS).read_text()).get("stems", {}))
            except (OSError, ValueError) as exc:
                log.warning("Shipped chatbot index %s unreadable: %s", folder.name, exc)
    return stems


def _plain(config: IndexConfig) -> dict:
    from dataclasses import asdict

    return dict(sorted(asdict(config).items()))


def build(
    passages: list[Passage], config: IndexConfig, progress: Progress = null_progress, root: Path = SHIPPED_ROOT
) -> PassageIndex:
    """Embed the passages and their sentences, reusing every row a shipped index already holds.

    Raises:
        SourceError: when MiniLM cannot be loaded here.
    """
    from engines.core.embeddings import load_encoder

    started = time.perf_counter()
    texts, flat = passage_texts(passages), sentence_texts(passages)
    known = known_rows(config, root)
    missing = sorted({t for t in [*texts, *flat] if _sha(t) not in known})
    fresh: dict[str, np.ndarray] = {}
    if missing:
        encoder, resolved = load_encoder(progress=scaled(progress, 0.0, 0.1), max_length=config.max_length)
        if encoder is None:
            raise SourceError(resolved.notice)
        progress(0.1, f"Embedding {len(missing)} new passages and sentences ({len(known)} reused)")
        fresh = {_sha(t): v for t, v in zip(missing, encoder.encode(missing, scaled(progress, 0.1, 0.98)), strict=True)}

    def rows(group: list[str]) -> np.ndarray:
        return np.asarray([fresh.get(_sha(t), known.get(_sha(t))) for t in group], dtype=np.float32)

    progress(1.0, f"{len(texts)} passages indexed")
    reused = 1.0 - len(missing) / max(len(set(texts) | set(flat)), 1)
    metrics = {
        "passages": len(texts),
        "sentences": len(flat),
        "reused": reused,
        "seconds": time.perf_counter() - started,
    }
    stems = stem_table([*texts, *SUGGESTIONS, *(demo.title for demo in DEMOS)])
    return PassageIndex(
        tuple(_sha(t) for t in texts), tuple(_sha(t) for t in flat), rows(texts), rows(flat), stems, metrics
    )


def request(passages: list[Passage], encoder: str) -> ModelRequest[PassageIndex]:
    """The index of these passages made with the encoder of that identity; no work done."""
    config = IndexConfig(encoder=encoder)
    return ModelRequest(
        CACHE,
        config,
        data_sha256(passages),
        lambda progress: build(passages, config, progress),
        title=f"Embedding the knowledge base ({len(passages)} passages)",
        label="knowledge base / MiniLM index",
    )


def default_request() -> ModelRequest[PassageIndex] | None:
    """The index of the default knowledge base with the encoder found here (None without one)."""
    from engines.chatbot.knowledge import default_sources, passages
    from engines.encoder_identity import NO_ENCODER, encoder_identity

    identity = encoder_identity()
    return None if identity == NO_ENCODER else request(passages(default_sources()), identity)


def shipped_requests() -> list[ModelRequest[PassageIndex]]:
    """What the repository ships: the default knowledge base's index (none where MiniLM is not installed)."""
    wanted = default_request()
    return [] if wanted is None else [wanted]
