"""What the news aggregator ships, so its first feed needs no training, no encoder and no scikit-learn.

The category classifier trained on the bundled sample, and what the first feed needs of the sample articles,
computed ahead: their MiniLM embeddings, the categories that classifier gives them and their grouping into stories (importing scikit-learn and
loading MiniLM take seconds on a cold server; the page loads both in the background for what comes later).
Both follow the model lifecycle (:mod:`engines.core.lifecycle`): built by ``python -m engines.build_models --only
news`` into ``assets/models/news/``, verified by sha256 before loading. The embeddings are keyed by the sample
file's checksum, the shipped classifier's key and the encoder's identity (the weights' sha256, :mod:`engines.encoder_identity`), so the page
tests' tiny random encoder never reads what was shipped for the real one. With them, the sample feed is ranked with
MiniLM similarities at once, while the encoder itself loads in the background (invented topics need it).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from engines.core.artifacts import EngineCache, trainer_for
from engines.core.data_sources import ResolvedDataset, bundled_sample
from engines.core.errors import SourceError
from engines.core.hashing import sha256_bytes
from engines.core.lifecycle import ModelRequest
from engines.core.progress import Progress, null_progress, scaled
from engines.news.categorise import BBC_NEWS, CACHE, PIPELINES, CategoriserConfig, NewsClassifier, read_sample, train
from engines.news.clean import Cluster, cluster
from engines.news.feeds import Article
from engines.news.samples import SAMPLE_PATH, load_samples

VECTORS_ENGINE = "news_vectors"
VECTORS_VERSION = 1  # bump when the saved layout changes
VECTOR_LIBRARIES = ("numpy", "torch", "transformers")
VECTORS, TEXTS = "vectors.npy", "texts.json"


# ---------------------------------------------------------------- the category classifier


def request(config: CategoriserConfig, data: tuple[ResolvedDataset, pd.DataFrame]) -> ModelRequest[NewsClassifier]:
    """The classifier a page wants for ``config`` on ``data`` (what ``load_training_data`` returned); no work done."""
    resolved, frame = data
    return ModelRequest(
        CACHE,
        config,
        resolved.sha256,
        trainer_for(train, config, frame, resolved),
        title=f"Training the category classifier on {len(frame):,} articles",
        label=f"{'sample' if resolved.is_sample else 'BBC News'} / {PIPELINES[config.pipeline]['title']}",
    )


def sample_request(config: CategoriserConfig | None = None) -> ModelRequest[NewsClassifier]:
    """The classifier shipped for the bundled sample articles."""
    resolved = bundled_sample(BBC_NEWS)
    return request(config or CategoriserConfig(), (resolved, read_sample(resolved.paths["sample"])))


# ---------------------------------------------------------------- the sample articles' embeddings


@dataclass(frozen=True)
class VectorsConfig:
    """What the embeddings depend on besides the articles: the encoder's identity (its weights' sha256)."""

    encoder: str


@dataclass
class TextVectors:
    """Unit-length embeddings of some texts, and their categories, found by each text's sha256.

    Attributes:
        text_sha: sha256 of each text (row order of ``vectors``).
        vectors: One row per text.
        categories: Text sha256 -> [category, probability] from the classifier shipped for the sample.
        groups: The sample's stories as ``[representative id, [[other id, similarity], ...]]``, in the order
            :func:`engines.news.clean.cluster` gives them (default settings).
        metrics_: How many texts.
        card_: None (embeddings, not a classifier).
    """

    text_sha: tuple[str, ...]
    vectors: np.ndarray
    categories: dict[str, list] = field(default_factory=dict)
    groups: list = field(default_factory=list)
    metrics_: dict[str, float] = field(default_factory=dict)
    card_: None = None
    engine_version: int = VECTORS_VERSION

    def lookup(self, texts: Sequence[str]) -> np.ndarray | None:
        """The rows of ``texts`` in order, or None when any text is missing."""
        rows = {s: i for i, s in enumerate(self.text_sha)}
        wanted = [rows.get(_sha(t)) for t in texts]
        return None if any(i is None for i in wanted) else self.vectors[wanted]

    def clusters(self, articles: Sequence[Article]) -> list[Cluster] | None:
        """``cluster(articles)`` as computed ahead, for exactly the articles grouped then (else None)."""
        by_id = {a.id: a for a in articles}
        grouped = [g[0] for g in self.groups] + [o[0] for g in self.groups for o in g[1]]
        if not self.groups or len(grouped) != len(by_id) or set(grouped) != set(by_id):
            return None
        return [
            Cluster(by_id[lead], tuple(by_id[o] for o, _ in others), tuple(float(sim) for _, sim in others))
            for lead, others in self.groups
        ]


class VectorsCache(EngineCache[TextVectors]):
    """The vectors as ``.npy`` (no pickle), the checksums as JSON."""

    def write(self, model: TextVectors, folder: Path) -> None:
        """Save the rows and the checksums that name them."""
        np.save(folder / VECTORS, np.asarray(model.vectors, dtype=np.float32), allow_pickle=False)
        texts = {
            "texts": list(model.text_sha),
            "categories": model.categories,
            "groups": model.groups,
            "metrics": model.metrics_,
        }
        (folder / TEXTS).write_text(json.dumps(texts))

    def read(self, folder: Path) -> TextVectors:
        """Read what :meth:`write` saved; rows and checksums that disagree raise."""
        texts = json.loads((folder / TEXTS).read_text())
        vectors = np.load(folder / VECTORS, allow_pickle=False)
        if len(vectors) != len(texts["texts"]):
            raise ValueError("news vectors: rows and checksums disagree")
        return TextVectors(tuple(texts["texts"]), vectors, texts["categories"], texts["groups"], texts["metrics"])


VECTORS_CACHE = VectorsCache(VECTORS_ENGINE, VECTORS_VERSION, TextVectors, VECTOR_LIBRARIES)


def _sha(text: str) -> str:
    return sha256_bytes(text.encode("utf-8"))


def sample_leads(path: Path = SAMPLE_PATH) -> list[str]:
    """What the index embeds of each sample article (its lead: title and the start of its text)."""
    return [a.lead for a in load_samples(path=path)]


def sample_groups(path: Path = SAMPLE_PATH) -> list:
    """The sample articles' stories as :class:`TextVectors` stores them (what ``cluster`` finds, default settings)."""
    return [
        [c.representative.id, [[a.id, sim] for a, sim in zip(c.others, c.similarity, strict=True)]]
        for c in cluster(load_samples(path=path))
    ]


def embed_texts(
    texts: list[str], classifier: NewsClassifier | None = None, progress: Progress = null_progress
) -> TextVectors:
    """Embed ``texts`` with the MiniLM found here (the pages' shared encoder's settings); categorise them too.

    ``classifier``, when given, sets the categories the first feed shows.

    Raises:
        SourceError: when MiniLM cannot be loaded here.
    """
    from engines.core.embeddings import load_encoder

    encoder, resolved = load_encoder(progress=scaled(progress, 0.0, 0.3))
    if encoder is None:
        raise SourceError(resolved.notice)
    unique = sorted(set(texts))
    vectors = encoder.encode(unique, progress=scaled(progress, 0.3, 0.95))
    categories = {}
    if classifier is not None:
        predictions = classifier.predict(unique)
        categories = {_sha(t): [p.category, round(p.probability, 4)] for t, p in zip(unique, predictions, strict=True)}
    progress(1.0, f"{len(unique)} articles embedded")
    return TextVectors(tuple(_sha(t) for t in unique), vectors, categories, metrics_={"texts": len(unique)})


def vectors_request(encoder: str) -> ModelRequest[TextVectors]:
    """The sample articles' embeddings (encoder of that identity) and shipped-classifier categories; no work done."""
    resolved, classifier = bundled_sample(BBC_NEWS), sample_request()
    return ModelRequest(
        VECTORS_CACHE,
        VectorsConfig(encoder),
        sha256_bytes(f"{resolved.sha256}|{classifier.engine}/{classifier.shipped_key}".encode()),
        lambda progress: replace(
            embed_texts(
                sample_leads(resolved.paths["sample"]),
                classifier.load_or_train(progress=scaled(progress, 0, 0.2))[0],
                scaled(progress, 0.2, 1.0),
            ),
            groups=sample_groups(resolved.paths["sample"]),
        ),
        title="Embedding and categorising the sample articles",
        label="sample articles / MiniLM embeddings and categories",
    )


class ShippedEncoder:
    """An encoder that answers from embeddings computed ahead (the same MiniLM), for texts it holds.

    It carries the real encoder's ``path``, so an index built with it names the same encoder and invented topics
    can later be scored with the real one. A text it does not hold raises ``KeyError``: the caller must then wait for
    the real encoder.
    """

    def __init__(self, vectors: TextVectors, path: Path) -> None:
        """Answer from ``vectors``, in the name of the encoder loaded from ``path``."""
        self.vectors, self.path = vectors, Path(path)

    def covers(self, texts: Sequence[str]) -> bool:
        """Whether every text is held."""
        return self.vectors.lookup(texts) is not None

    def encode(self, texts: Sequence[str], progress: Progress = null_progress) -> np.ndarray:
        """The held rows of ``texts``, in order."""
        rows = self.vectors.lookup(list(texts))
        if rows is None:
            raise KeyError("ShippedEncoder: a text has no embedding computed ahead")
        progress(1.0, f"{len(texts)} embeddings computed ahead")
        return rows


class ShippedCategories:
    """The sample classifier's categories of the sample articles, computed ahead (``categorise`` like the model's).

    An article it does not hold raises ``KeyError``: the caller then uses the classifier itself.
    """

    trained_on_sample_ = True

    def __init__(self, vectors: TextVectors) -> None:
        """Answer from the categories ``vectors`` carries."""
        self.vectors = vectors

    def covers(self, articles: Sequence[Article]) -> bool:
        """Whether every article's category was computed ahead."""
        return bool(self.vectors.categories) and all(_sha(a.lead) in self.vectors.categories for a in articles)

    def categorise(self, articles: Sequence[Article]) -> list[Article]:
        """Copies of ``articles`` with ``category`` and ``category_score`` set as the shipped classifier set them."""
        out = []
        for article in articles:
            category, score = self.vectors.categories[_sha(article.lead)]
            out.append(replace(article, category=category, category_score=score))
        return out


def shipped_requests() -> list[ModelRequest]:
    """The classifier of the bundled sample and (where MiniLM is installed) the sample articles' embeddings."""
    from engines.encoder_identity import NO_ENCODER, encoder_identity

    identity = encoder_identity()
    return [sample_request(), *([] if identity == NO_ENCODER else [vectors_request(identity)])]
