"""Hybrid retrieval: Okapi BM25 over stemmed words plus MiniLM sentence embeddings, fused.

Each passage gets a BM25 score (scaled by the query's best, so 1.0 is the top lexical match) and an embedding
similarity to the question: the mean of the passage's cosine and its best sentence's (a passage of 200 words
can hold the one sentence that answers among others about something else, and MiniLM reads only its first 256
word pieces); the hybrid score is their weighted sum. ``confidence`` says
how well the best passage answers the question in absolute terms (the embedding similarity and the share of
the question's informative words it contains), which is what decides "I don't know".
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

import numpy as np

from engines.chatbot.knowledge import Passage, sentences
from engines.core.errors import InputError
from engines.core.hashing import sha256_bytes
from engines.core.progress import Progress, null_progress

DENSE_WEIGHT = 0.7  # hybrid = w * similarity + (1 - w) * BM25 / best BM25 (0.3 to 0.8 tried on the dev questions)
SENTENCE_WEIGHT = 0.5  # similarity = w * best sentence's cosine + (1 - w) * passage's (0 to 1 tried on dev)
ENCODER_TOKENS = 256  # MiniLM reads this many word pieces of a passage (its default 128 cut passages short)
_TOKEN = re.compile(r"[a-z0-9]+(?:['.][a-z0-9]+)*")
STOPWORDS = frozenset(
    """a about above after again all am an and any are as at be because been before being below between both but by
    can could did do does doing down during each few for from further had has have having he her here hers him his
    how i if in into is it its itself just me more most my no nor not now of off on once only or other our ours out
    over own same she should so some such than that the their theirs them then there these they this those through
    to too under until up very was we were what when where which while who whom why will with would you your yours
    tell explain please show give get know want like use used using much many also""".split()  # noqa: SIM905
)


class Mode(StrEnum):
    """Which scores rank the passages."""

    HYBRID = "hybrid"
    BM25 = "bm25"
    DENSE = "dense"


_KNOWN_STEMS: dict[str, str] = {}  # Porter stems computed ahead (the shipped index carries its words' stems)


@lru_cache(maxsize=50_000)
def _stem(word: str) -> str:
    if len(word) <= 3:
        return word
    known = _KNOWN_STEMS.get(word)
    return known if known is not None else _porter().stem(word)


def remember_stems(table: dict[str, str]) -> None:
    """Stems computed ahead by the same Porter stemmer: importing nltk takes seconds on a cold server.

    Words not in the table are stemmed by nltk as before, so the table changes no result, only when nltk loads.
    """
    _KNOWN_STEMS.update(table)


def stem_table(texts: list[str]) -> dict[str, str]:
    """Every stemmed word of ``texts`` (what :func:`terms` would stem) and its Porter stem."""
    words = {w for text in texts for w in _TOKEN.findall(text.lower()) if w not in STOPWORDS and len(w) > 3}
    return {w: _porter().stem(w) for w in sorted(words)}


@lru_cache(maxsize=1)
def _porter():
    from nltk.stem.porter import PorterStemmer

    return PorterStemmer()


def terms(text: str) -> list[str]:
    """Lower-cased, stemmed words without stop words (what BM25 counts)."""
    return [_stem(w) for w in _TOKEN.findall(text.lower()) if w not in STOPWORDS]


@dataclass(frozen=True)
class Hit:
    """A passage and why it was retrieved."""

    passage: Passage
    score: float  # the ranking score of the mode used
    bm25: float  # BM25 / best BM25 for this question, 0..1
    dense: float  # cosine similarity of the passage's embedding, -1..1 (0 without an encoder)
    coverage: float  # share of the question's informative words (IDF-weighted) found in the passage
    rank: int
    sentence: float = 0.0  # cosine similarity of its best sentence (ranking blends it in; confidence does not)


class BM25:
    """Okapi BM25 (k1 = 1.5, b = 0.75) over a fixed list of texts."""

    def __init__(self, texts: list[str], k1: float = 1.5, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.docs = [Counter(terms(t)) for t in texts]
        self.lengths = np.array([sum(d.values()) for d in self.docs], dtype=float)
        self.average = float(self.lengths.mean()) if len(self.docs) else 0.0
        frequency = Counter(term for d in self.docs for term in d)
        n = len(self.docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in frequency.items()}
        self._default_idf = math.log(1 + (n + 0.5) / 0.5) if n else 0.0

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every text for ``query``."""
        out = np.zeros(len(self.docs))
        norm = self.k1 * (1 - self.b + self.b * self.lengths / max(self.average, 1e-9))
        for term in set(terms(query)):
            idf = self.idf.get(term)
            if idf is None:
                continue
            tf = np.array([d.get(term, 0) for d in self.docs], dtype=float)
            out += idf * tf * (self.k1 + 1) / (tf + norm)
        return out

    def coverage(self, query: str, index: int) -> float:
        """IDF-weighted share of the query's terms that occur in text ``index`` (0 when the query has none)."""
        wanted = set(terms(query))
        if not wanted:
            return 0.0
        weights = {t: self.idf.get(t, self._default_idf) for t in wanted}
        found = sum(w for t, w in weights.items() if t in self.docs[index])
        return found / sum(weights.values())


class Retriever:
    """BM25 and (when an encoder is given) embeddings of the passages and of their sentences."""

    def __init__(
        self,
        passages: list[Passage],
        encoder=None,
        progress: Progress = null_progress,
        cache: Path | None = None,
        vectors: np.ndarray | None = None,
        sentence_rows: np.ndarray | None = None,
    ) -> None:
        """Index ``passages``: BM25 always, embeddings when an ``encoder`` is given.

        Args:
            passages: What to search.
            encoder: A sentence encoder (``encode(texts) -> unit rows``), or None for BM25 only.
            progress: Reports the embedding.
            cache: A folder where the embeddings are kept, keyed by the texts and the encoder.
            vectors: Embeddings already computed for the first passages (the rest are computed).
            sentence_rows: Embeddings already computed for those passages' sentences, in order.
        """
        if not passages:
            raise InputError("The knowledge base is empty: add a document first.")
        self.passages = list(passages)
        texts = [p.searchable for p in self.passages]
        progress(0.05, f"Indexing {len(texts)} passages (BM25)")
        self.bm25 = BM25(texts)
        self.encoder = encoder
        self.vectors = self.sentence_rows = None
        split = [sentences(p.text) or [p.text] for p in self.passages]
        self._sentences = split
        self._offsets = np.cumsum([0] + [len(s) for s in split[:-1]])  # each passage's first row in sentence_rows
        if encoder is not None:
            report = lambda start, end: lambda f, m: progress(start + (end - start) * f, m)  # noqa: E731
            self.vectors = self._embed(texts, "passages", report(0.1, 0.4), cache, vectors)
            flat = [sentence for group in split for sentence in group]
            self.sentence_rows = self._embed(flat, "sentences", report(0.4, 0.95), cache, sentence_rows)
        progress(1.0, f"{len(texts)} passages indexed")

    def _embed(self, texts: list[str], what: str, progress: Progress, cache, known) -> np.ndarray:
        identity = f"|{getattr(self.encoder, 'path', '')}|{getattr(self.encoder, 'max_length', '')}"
        key = sha256_bytes(("\n\x00".join(texts) + identity).encode())[:20]
        path = None if cache is None else Path(cache) / f"{what}-{key}.npy"
        if path is not None and path.is_file():
            try:
                stored = np.load(path, allow_pickle=False)
                if stored.shape[0] == len(texts):
                    return stored
            except (OSError, ValueError):
                pass  # a damaged cache file is recomputed
        done = 0 if known is None else len(known)
        progress(0.0, f"Embedding {len(texts) - done} {what}")
        fresh = self.encoder.encode(texts[done:], progress=progress) if done < len(texts) else None
        vectors = known if fresh is None else fresh if known is None else np.vstack([known, fresh])
        vectors = np.asarray(vectors, dtype=np.float32)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".part.npy")
            np.save(tmp, vectors, allow_pickle=False)
            tmp.replace(path)
        return vectors

    def extend(self, passages: list[Passage], progress: Progress = null_progress) -> Retriever:
        """A new retriever over these passages and the new ones (only the new ones are embedded)."""
        from dataclasses import replace

        start = len(self.passages)  # the new passages are numbered after these (caches are keyed by number)
        renumbered = [replace(p, index=start + i) for i, p in enumerate(passages)]
        return Retriever(
            [*self.passages, *renumbered],
            self.encoder,
            progress,
            vectors=self.vectors,
            sentence_rows=self.sentence_rows,
        )

    @property
    def has_dense(self) -> bool:
        """Whether embeddings are available (else hybrid and dense fall back to BM25)."""
        return self.vectors is not None

    def sentence_vectors(self, index: int) -> tuple[list[str], np.ndarray]:
        """A passage's sentences and their embeddings (computed when the passage was indexed)."""
        if self.sentence_rows is None:
            raise RuntimeError("sentence_vectors needs an encoder")
        start = int(self._offsets[index])
        group = self._sentences[index]
        return group, self.sentence_rows[start : start + len(group)]

    def cosines(self, vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each passage's cosine similarity to a question, and its best sentence's."""
        return self.vectors @ vector, np.maximum.reduceat(self.sentence_rows @ vector, self._offsets)

    def similarity(self, vector: np.ndarray) -> np.ndarray:
        """Each passage's embedding similarity to a question: its own cosine blended with its best sentence's."""
        passage, sentence = self.cosines(vector)
        return SENTENCE_WEIGHT * sentence + (1 - SENTENCE_WEIGHT) * passage

    def embed(self, query: str) -> np.ndarray | None:
        """The question's embedding (None without an encoder)."""
        return None if self.encoder is None else self.encoder.encode([query])[0]

    def search(self, query: str, k: int = 5, mode: Mode | str = Mode.HYBRID) -> list[Hit]:
        """The ``k`` best passages for ``query`` under ``mode``, best first."""
        mode = Mode(mode)
        if not query or not query.strip():
            raise InputError("Ask a question: the message is empty.")
        raw = self.bm25.scores(query)
        best = float(raw.max()) if raw.size else 0.0
        lexical = raw / best if best > 0 else np.zeros_like(raw)
        vector = self.embed(query)
        cosine, sentence = self.cosines(vector) if vector is not None else (np.zeros_like(raw), np.zeros_like(raw))
        dense = SENTENCE_WEIGHT * sentence + (1 - SENTENCE_WEIGHT) * cosine
        if mode is Mode.BM25 or vector is None:
            ranking = lexical
        elif mode is Mode.DENSE:
            ranking = dense
        else:
            ranking = DENSE_WEIGHT * dense + (1 - DENSE_WEIGHT) * lexical
        order = np.argsort(-ranking, kind="stable")[: max(1, k)]
        return [
            Hit(
                self.passages[i],
                float(ranking[i]),
                float(lexical[i]),
                float(cosine[i]),
                self.bm25.coverage(query, int(i)),
                rank,
                float(sentence[i]),
            )
            for rank, i in enumerate(order, start=1)
        ]


def confidence(hit: Hit | None, dense: bool = True) -> float:
    """How surely the best passage answers the question, 0..1.

    Half its passage's cosine similarity (clipped at 0; its best sentence's was tried on the dev questions and
    separated them less), half the share of the question's informative words it contains;
    without embeddings (``dense=False``), that share alone.
    """
    if hit is None:
        return 0.0
    return 0.5 * max(0.0, hit.dense) + 0.5 * hit.coverage if dense else hit.coverage
