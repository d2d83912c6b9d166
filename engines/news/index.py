"""Everything the ranking needs, computed once per refresh: clusters, categories, embeddings, topics, summaries.

:func:`build_index` does the slow part (classifier, embeddings, summaries); after it,
:func:`engines.news.rank.rank` re-ranks for any profile in milliseconds, without embedding again.
Adding or editing invented topics (:meth:`ArticleIndex.with_topics`) embeds only the topics.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from engines.core.errors import InputError
from engines.core.progress import Progress, null_progress, scaled
from engines.news.categorise import Encoder, HashingEncoder, Topic, assign_topics, check_topics, embed_topics, zero_shot
from engines.news.clean import Cluster, DedupeConfig, cluster

if TYPE_CHECKING:
    from engines.news.categorise import NewsClassifier
    from engines.news.feeds import Article

log = logging.getLogger(__name__)

MAX_ARTICLES = 2000  # a refresh of 50 feeds brings ~1,000; beyond this the page would not be interactive
SUMMARY_CHARS = 300  # a description up to this long is shown as is
SUMMARY_SENTENCES = 2  # longer texts get this many sentences from the extractive summariser


def short_summary(article: Article, *, max_chars: int = SUMMARY_CHARS, sentences: int = SUMMARY_SENTENCES) -> str:
    """A short summary: the article's own description when short, else an extractive summary of its text.

    Uses :func:`engines.summarizer.model.summarize` (position-aware centrality + MMR); text it cannot
    summarise (too short, not English) is cut at a word boundary instead.
    """
    if article.summary and len(article.summary) <= max_chars:
        return article.summary
    text = article.text or article.summary
    if not text:
        return ""
    if len(text) <= max_chars:
        return text
    from engines.summarizer.model import SummarizerConfig, summarize

    try:
        summary = summarize(text, SummarizerConfig(sentences=sentences)).text.replace("\n\n", " ")
    except InputError:
        summary = ""
    if summary and len(summary) <= 2 * max_chars:
        return summary
    cut = (summary or text)[:max_chars].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:") + "…"


@dataclass(frozen=True, eq=False)
class ArticleIndex:
    """De-duplicated, categorised, embedded articles ready to rank.

    Attributes:
        clusters: One per story; ``clusters[i].representative`` is ``articles[i]`` before categorising.
        articles: The representatives, categorised.
        vectors: Unit-length embeddings of ``articles`` (rows).
        summaries: Short summary of each article.
        topics: The invented topics scored so far.
        topic_scores: Cosine of each article (rows) with each topic (columns).
        topic_vectors: Embedding of each topic.
        encoder_name: Which embedding is in use (shown on the page).
        notes: What a reader should know (classifier on the sample data, fallback encoder...).
        seconds: Time the index took to build.
    """

    clusters: tuple[Cluster, ...]
    articles: tuple[Article, ...]
    vectors: np.ndarray
    summaries: tuple[str, ...]
    topics: tuple[Topic, ...] = ()
    topic_scores: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    topic_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    encoder_name: str = ""
    notes: tuple[str, ...] = ()
    seconds: float = 0.0

    def __len__(self) -> int:
        return len(self.articles)

    @property
    def ids(self) -> tuple[str, ...]:
        """Article ids, in index order."""
        return tuple(a.id for a in self.articles)

    @property
    def categories(self) -> tuple[str, ...]:
        """Categories present, sorted."""
        return tuple(sorted({a.category for a in self.articles if a.category}))

    def position(self, article_id: str) -> int | None:
        """Row of an article id (representatives and the versions grouped under them), or None."""
        for i, c in enumerate(self.clusters):
            if c.representative.id == article_id or any(o.id == article_id for o in c.others):
                return i
        return None

    def topics_of(self, row: int) -> tuple[str, ...]:
        """Invented topics article ``row`` reaches the threshold of, best first."""
        if not self.topics:
            return ()
        return assign_topics(self.topic_scores[row : row + 1], self.topics)[0]

    def with_topics(self, topics: Sequence[Topic], encoder: Encoder | None = None) -> ArticleIndex:
        """A copy scoring ``topics`` (only the topics are embedded; topics already scored are reused).

        Args:
            topics: The invented topics (replace the current ones).
            encoder: The encoder the index was built with (None: the hashing fallback; it must match
                ``encoder_name`` for cosines to mean anything).
        """
        topics = check_topics(topics)
        encoder = encoder or HashingEncoder()
        if _encoder_name(encoder) != self.encoder_name:
            raise InputError(
                f"This index was embedded with {self.encoder_name}; pass the same encoder to score topics."
            )
        known = {t: i for i, t in enumerate(self.topics)}
        new = [t for t in topics if t not in known]
        new_vectors = embed_topics(new, encoder) if new else np.zeros((0, self.vectors.shape[1]), dtype=np.float32)
        rows = []
        fresh = iter(range(len(new)))
        for t in topics:
            rows.append(self.topic_vectors[known[t]] if t in known else new_vectors[next(fresh)])
        vectors = np.asarray(rows, dtype=np.float32).reshape(len(topics), self.vectors.shape[1])
        return replace(self, topics=topics, topic_vectors=vectors, topic_scores=zero_shot(self.vectors, vectors))


def _encoder_name(encoder: Encoder) -> str:
    if isinstance(encoder, HashingEncoder):
        return HashingEncoder.name
    path = getattr(encoder, "path", None)
    return f"sentence embeddings ({getattr(path, 'name', type(encoder).__name__)})"


def build_index(
    articles: Sequence[Article],
    *,
    classifier: NewsClassifier | None = None,
    encoder: Encoder | None = None,
    topics: Sequence[Topic] = (),
    dedupe: DedupeConfig | None = None,
    summarise: bool = True,
    clusters: Sequence[Cluster] | None = None,
    progress: Progress = null_progress,
) -> ArticleIndex:
    """Group duplicates, categorise, embed, score topics and summarise, once per refresh.

    Args:
        articles: From :func:`engines.news.gather.refresh` or :func:`engines.news.samples.load_samples`.
        classifier: Sets each article's category (None keeps the categories articles carry).
        encoder: MiniLM from :func:`engines.core.embeddings.load_encoder` (None: the hashing fallback).
        topics: Invented topics to score now (more later with :meth:`ArticleIndex.with_topics`).
        dedupe: Near-duplicate threshold.
        summarise: Compute short summaries (off: the description is used as is).
        clusters: ``cluster(articles, dedupe)`` computed ahead (the bundled sample's grouping ships with the
            gallery, so its first feed needs no scikit-learn); None groups the articles here.
        progress: Reports each stage; ends at 1.0.

    Raises:
        InputError: when there are no articles or more than MAX_ARTICLES.
    """
    if not articles:
        raise InputError(
            "There are no articles to rank: every source failed or was empty. See the source health table."
        )
    if len(articles) > MAX_ARTICLES:
        raise InputError(f"{len(articles):,} articles; at most {MAX_ARTICLES:,} are ranked. Use fewer sources.")
    started = time.perf_counter()
    notes: list[str] = []
    progress(0.02, f"Grouping near-duplicates among {len(articles)} articles")
    clusters = list(clusters) if clusters is not None else cluster(articles, dedupe)
    merged = len(articles) - len(clusters)
    if merged:
        notes.append(f"{merged} duplicate or near-duplicate article(s) grouped under {len(clusters)} stories.")
    reps = [c.representative for c in clusters]
    if classifier is not None:
        progress(0.15, "Categorising")
        reps = classifier.categorise(reps)
        if classifier.trained_on_sample_:
            notes.append("Categories come from a classifier trained on the bundled sample, not on BBC News.")
    encoder = encoder or HashingEncoder()
    if isinstance(encoder, HashingEncoder):
        notes.append("MiniLM is not available: similarities use a hashed bag of words (word matches only).")
    progress(0.25, f"Embedding {len(reps)} stories")
    vectors = np.asarray(encoder.encode([a.lead for a in reps], progress=scaled(progress, 0.25, 0.8)), dtype=np.float32)
    summaries: list[str] = []
    for i, a in enumerate(reps):
        summaries.append(short_summary(a) if summarise else (a.summary or a.text[:SUMMARY_CHARS]))
        if i % 50 == 0:
            progress(0.8 + 0.15 * i / len(reps), "Summarising")
    index = ArticleIndex(
        clusters=tuple(clusters),
        articles=tuple(reps),
        vectors=vectors,
        summaries=tuple(summaries),
        topic_vectors=np.zeros((0, vectors.shape[1]), dtype=np.float32),
        topic_scores=np.zeros((len(reps), 0), dtype=np.float32),
        encoder_name=_encoder_name(encoder),
        notes=tuple(notes),
    )
    if topics:
        progress(0.96, "Scoring your topics")
        index = index.with_topics(topics, encoder)
    index = replace(index, seconds=time.perf_counter() - started)
    progress(1.0, f"{len(reps)} stories ready")
    return index
