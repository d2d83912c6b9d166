"""The sentiment models, each behind one interface: texts in, signed scores in [-1, 1] out.

A score above 0 leans positive, below 0 negative. Probability models give ``2 * P(positive) - 1``;
VADER gives its compound score; a pretrained three-class pipeline gives ``P(positive) - P(negative)``.
Each scorer saves itself into a folder: scikit-learn parts with joblib (files this project wrote,
sha256-verified by the artifact store), torch weights as safetensors.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from engines.core.errors import SourceError
from engines.core.model_sources import ModelSpec, resolve_model
from engines.sentiment.finetune import INFERENCE_BATCH, FineTunedClassifier

KIND_FILE = "scorer.json"
HUB_MODEL = ModelSpec(
    name="distilbert-base-uncased-finetuned-sst-2-english",
    title="DistilBERT fine-tuned on SST-2 (Hugging Face)",
    offline="the project's own models",
    hub_id="distilbert/distilbert-base-uncased-finetuned-sst-2-english",
)


def countvec_lr(seed: int = 0) -> Pipeline:
    """The tutorial baseline: word counts + logistic regression, scikit-learn defaults."""
    return Pipeline([("counts", CountVectorizer()), ("logreg", LogisticRegression(max_iter=1000, random_state=seed))])


def tfidf_lr(seed: int = 0) -> Pipeline:
    """TF-IDF word 1-2 grams + character 2-5 grams (within words) + logistic regression.

    Values fixed beforehand (common defaults for short texts), not tuned on the benchmark folds.
    """
    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, lowercase=True)),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)),
        ]
    )
    return Pipeline([("features", features), ("logreg", LogisticRegression(C=10.0, max_iter=2000, random_state=seed))])


def _prob_to_score(p: np.ndarray) -> np.ndarray:
    return np.clip(2.0 * np.asarray(p, dtype=float) - 1.0, -1.0, 1.0)


class Scorer:
    """Base class: ``scores(texts)`` -> signed scores; ``save``/``load`` a folder."""

    kind: ClassVar[str] = ""

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """Signed scores in [-1, 1], one per text."""
        raise NotImplementedError

    def save(self, folder: Path) -> None:
        """Write the scorer into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        (folder / KIND_FILE).write_text(json.dumps({"kind": self.kind}))

    @classmethod
    def load(cls, folder: Path) -> Scorer:
        """Read a scorer written by :meth:`save`."""
        raise NotImplementedError


class VaderScorer(Scorer):
    """VADER's rule-based lexicon (the ``vaderSentiment`` package carries it: offline, no training)."""

    kind = "vader"

    def __init__(self) -> None:
        """Load the lexicon."""
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # lazy: reads the lexicon file

        self.analyzer = SentimentIntensityAnalyzer()

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """VADER's compound score per text."""
        return np.array([self.analyzer.polarity_scores(str(t))["compound"] for t in texts], dtype=float)

    @classmethod
    def load(cls, folder: Path) -> VaderScorer:  # noqa: ARG003 (the interface passes a folder)
        """Nothing is stored: the lexicon comes with the package."""
        return cls()

    def __getstate__(self) -> dict:
        """Pickle nothing: the lexicon is reloaded from the package."""
        return {}

    def __setstate__(self, state: dict) -> None:
        """Reload the lexicon."""
        self.__init__()


class PipelineScorer(Scorer):
    """A scikit-learn pipeline with ``predict_proba`` over labels 0/1 (1 = positive)."""

    kind = "pipeline"

    def __init__(self, pipeline: Pipeline) -> None:
        """Wrap a fitted pipeline."""
        self.pipeline = pipeline

    def positive_probability(self, texts: Sequence[str]) -> np.ndarray:
        """P(positive) per text."""
        column = list(self.pipeline.classes_).index(1)
        return self.pipeline.predict_proba([str(t) for t in texts])[:, column]

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """``2 P(positive) - 1``."""
        return _prob_to_score(self.positive_probability(texts))

    def save(self, folder: Path) -> None:
        """Save with joblib (this project's own file, verified by the artifact store before it is read)."""
        import joblib

        super().save(folder)
        joblib.dump(self.pipeline, folder / "pipeline.joblib")

    @classmethod
    def load(cls, folder: Path) -> PipelineScorer:
        """Read the pipeline back."""
        import joblib

        return cls(joblib.load(folder / "pipeline.joblib"))


class EmbeddingScorer(Scorer):
    """Logistic regression on frozen all-MiniLM-L6-v2 sentence embeddings.

    A scorer read from disk holds only its classifier: the encoder is the one a page already shares
    (:meth:`attach`), or it is loaded on the offline-first ladder the first time the scorer is used.
    """

    kind = "embedding_lr"

    def __init__(self, encoder: Any, logreg: LogisticRegression) -> None:
        """Wrap a sentence encoder (None: loaded when first needed) and a fitted classifier."""
        self.encoder, self.logreg = encoder, logreg

    @property
    def has_encoder(self) -> bool:
        """Whether the encoder is there (scoring loads it otherwise: seconds on a cold server)."""
        return self.encoder is not None

    def attach(self, encoder: Any) -> None:
        """Use an encoder already loaded (the same MiniLM weights: the artifact's key names them)."""
        self.encoder = encoder

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """``2 P(positive) - 1`` from the embeddings."""
        if self.encoder is None:
            from engines.core.embeddings import load_encoder

            encoder, resolved = load_encoder()
            if encoder is None:
                raise SourceError(resolved.notice)
            self.encoder = encoder
        vectors = self.encoder.encode([str(t) for t in texts])
        return _prob_to_score(self.logreg.predict_proba(vectors)[:, list(self.logreg.classes_).index(1)])

    def save(self, folder: Path) -> None:
        """The classifier only; the encoder is reloaded from its source."""
        import joblib

        super().save(folder)
        joblib.dump(self.logreg, folder / "logreg.joblib")

    @classmethod
    def load(cls, folder: Path) -> EmbeddingScorer:
        """The classifier from disk; the encoder is attached or loaded when first needed."""
        import joblib

        return cls(None, joblib.load(folder / "logreg.joblib"))

    def __getstate__(self) -> dict:
        """Refuse pickling (the encoder holds torch weights)."""
        raise TypeError("EmbeddingScorer is saved with save(), never pickled.")


class FineTunedScorer(Scorer):
    """all-MiniLM-L6-v2 fine-tuned end to end with a linear head."""

    kind = "finetuned"

    def __init__(self, classifier: FineTunedClassifier) -> None:
        """Wrap a fine-tuned classifier."""
        self.classifier = classifier

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """``2 P(positive) - 1``."""
        return _prob_to_score(self.classifier.positive_probability(texts))

    def save(self, folder: Path) -> None:
        """Save the weights (safetensors), tokenizer and head."""
        super().save(folder)
        self.classifier.save(folder / "encoder")

    @classmethod
    def load(cls, folder: Path) -> FineTunedScorer:
        """Read the weights back."""
        return cls(FineTunedClassifier.load(folder / "encoder"))


class EnsembleScorer(Scorer):
    """The average of the fine-tuned MiniLM's and the TF-IDF model's P(positive).

    The weight is fixed beforehand (an equal vote), not tuned on test data.
    """

    kind = "ensemble"

    def __init__(self, finetuned: FineTunedScorer, tfidf: PipelineScorer, weight: float = 0.5) -> None:
        """Combine two trained scorers; ``weight`` goes to the fine-tuned model."""
        self.finetuned, self.tfidf, self.weight = finetuned, tfidf, weight

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """``2 P(positive) - 1`` of the weighted average probability."""
        p_ft = self.finetuned.classifier.positive_probability(texts)
        p_tf = self.tfidf.positive_probability(texts)
        return _prob_to_score(self.weight * p_ft + (1.0 - self.weight) * p_tf)

    def save(self, folder: Path) -> None:
        """Both members in sub-folders."""
        super().save(folder)
        self.finetuned.save(folder / "finetuned")
        self.tfidf.save(folder / "tfidf")
        (folder / "weight.json").write_text(json.dumps({"weight": self.weight}))

    @classmethod
    def load(cls, folder: Path) -> EnsembleScorer:
        """Read both members back."""
        weight = json.loads((folder / "weight.json").read_text())["weight"]
        return cls(FineTunedScorer.load(folder / "finetuned"), PipelineScorer.load(folder / "tfidf"), weight)


class HubScorer(Scorer):
    """A pretrained sequence-classification model (two or three classes), used as is."""

    kind = "hub"

    def __init__(self, path: Path) -> None:
        """Load the model and tokenizer from a folder and find its positive/negative labels."""
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        self.path = Path(path)
        self.tokenizer = AutoTokenizer.from_pretrained(self.path)
        self.model = AutoModelForSequenceClassification.from_pretrained(self.path)
        self.model.eval()
        self.positive, self.negative = label_indices(self.model.config.id2label)
        self.max_length = min(256, int(getattr(self.model.config, "max_position_embeddings", 256) or 256))

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """``P(positive) - P(negative)``."""
        import torch

        texts = [str(t) for t in texts]
        out = np.zeros(len(texts), dtype=float)
        with torch.inference_mode():
            for start in range(0, len(texts), INFERENCE_BATCH):
                chunk = texts[start : start + INFERENCE_BATCH]
                batch = self.tokenizer(
                    chunk, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
                )
                probs = torch.softmax(self.model(**batch).logits.float(), dim=1).numpy()
                out[start : start + len(chunk)] = probs[:, self.positive] - probs[:, self.negative]
        return out

    def save(self, folder: Path) -> None:
        """Only where the weights are (they stay in their own source)."""
        super().save(folder)
        (folder / "source.json").write_text(json.dumps({"path": str(self.path)}))

    @classmethod
    def load(cls, folder: Path) -> HubScorer:
        """Reload from the recorded folder."""
        return cls(Path(json.loads((folder / "source.json").read_text())["path"]))

    def __getstate__(self) -> dict:
        """Refuse pickling (torch weights)."""
        raise TypeError("HubScorer is never pickled.")


def label_indices(id2label: dict) -> tuple[int, int]:
    """Indices of the positive and negative classes of a pretrained classifier's labels.

    Names containing "pos"/"neg" win; otherwise the usual orders: (negative, positive) for two
    classes, (negative, neutral, positive) for three.
    """
    names = {int(i): str(name).lower() for i, name in id2label.items()}
    positive = next((i for i, n in names.items() if n.startswith("pos")), None)
    negative = next((i for i, n in names.items() if n.startswith("neg")), None)
    if positive is None or negative is None:
        positive, negative = max(names), 0
    return positive, negative


def load_hub_scorer(spec: ModelSpec = HUB_MODEL) -> HubScorer:
    """The pretrained pipeline from the offline-first ladder.

    Raises:
        SourceError: when no copy of the model can be found here.
    """
    resolved = resolve_model(spec)
    if resolved.is_offline or resolved.path is None:
        raise SourceError(f"{spec.title} is not available here (no local copy, not in the Hugging Face cache).")
    return HubScorer(resolved.path)


SCORERS: dict[str, type[Scorer]] = {
    cls.kind: cls for cls in (VaderScorer, PipelineScorer, EmbeddingScorer, FineTunedScorer, EnsembleScorer, HubScorer)
}


def load_scorer(folder: Path) -> Scorer:
    """Read any scorer written by ``save``."""
    kind = json.loads((Path(folder) / KIND_FILE).read_text())["kind"]
    return SCORERS[kind].load(Path(folder))
