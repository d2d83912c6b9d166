"""Text summariser engine: configuration, extractive summaries, ROUGE, method comparison, samples, model card.

Default method (``centrality``): PacSum-style position-aware centrality over a TF-IDF sentence graph
(Zheng & Lapata 2019), then maximal-marginal-relevance selection (Carbonell & Goldstein 1998) under a
length budget. How its hyper-parameters were chosen is in :class:`SummarizerConfig`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from engines.core.card import ModelCard
from engines.core.errors import InputError
from engines.core.progress import Progress, null_progress, scaled
from engines.core.text import CleanText, english_text, inert_html
from engines.summarizer import extractive
from engines.summarizer.preprocess import DocSentence, Prepared, prepare

if TYPE_CHECKING:
    from engines.core.embeddings import SentenceEncoder

ROOT = Path(__file__).resolve().parents[2]
SAMPLES_DIR = ROOT / "data" / "summarizer_samples"
MAX_SENTENCES = 60  # the most a summary may hold, whatever the ratio
MAX_REFERENCE_CHARS = 20_000  # a reference summary is short; this is generous
ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")
LIBRARIES = ("scikit-learn", "numpy", "scipy", "rouge-score")


class Method(StrEnum):
    """The extractive methods."""

    LEAD = "lead"
    TEXTRANK = "textrank"
    CENTRALITY = "centrality"


class Similarity(StrEnum):
    """How sentence similarity is measured for the graph methods."""

    TFIDF = "tfidf"
    MINILM = "minilm"


METHODS: dict[Method, dict[str, str]] = {
    Method.LEAD: {
        "title": "Lead-k (first k sentences)",
        "why": "News puts the essentials first; on CNN/DailyMail the first three sentences are a famously strong baseline.",
    },
    Method.TEXTRANK: {
        "title": "TextRank (PageRank over TF-IDF cosine)",
        "why": "The classic unsupervised graph ranker (Mihalcea & Tarau 2004): a sentence is central when central sentences resemble it.",
    },
    Method.CENTRALITY: {
        "title": "Position-aware centrality + MMR (default)",
        "why": (
            "PacSum's directed centrality (Zheng & Lapata 2019) rewards a sentence that later sentences elaborate on, "
            "which captures how articles open with their point; MMR then skips near-duplicates. It runs offline in "
            "milliseconds and, in our benchmark on 100 CNN/DailyMail articles, scores at least as high as Lead-3 on "
            "ROUGE-1/2/L."
        ),
    },
}
DEFAULT_METHOD = Method.CENTRALITY


@dataclass(frozen=True)
class SummarizerConfig:
    """How to summarise.

    The default method's hyper-parameters (``beta``, ``lambda1``, ``redundancy``) were tuned by grid search on
    the first 50 of the 100 CNN/DailyMail sample articles (``python -m benchmarks.summarizer``) and are reported
    on the other 50 and on all 100 by ``python -m benchmarks summarizer``.

    Attributes:
        method: Which extractive method.
        similarity: Sentence similarity for the graph methods (MiniLM needs the encoder passed in).
        sentences: Summary length in sentences (used when ``ratio`` is None).
        ratio: Summary length as a share of the document's sentences (overrides ``sentences``).
        strip_boilerplate: Remove bylines, datelines and scraping artefacts first.
        beta: Edge threshold, as a fraction of the similarity range (PacSum's beta).
        lambda1: Weight lost per unit of similarity to *earlier* sentences (PacSum; lambda2 = 1 - lambda1).
        redundancy: MMR weight of the similarity to sentences already chosen.
        min_words: Sentences shorter than this are never chosen by the graph methods.
        max_graph_sentences: Sentences ranked by the graph at most; longer documents are pre-ranked.
        damping: TextRank's PageRank damping factor.
    """

    method: Method = DEFAULT_METHOD  # best ROUGE in benchmarks/summarizer.py
    similarity: Similarity = Similarity.TFIDF  # offline, instant; MiniLM is a benchmark variant
    sentences: int = 3  # the CNN/DailyMail convention (Lead-3)
    ratio: float | None = None  # None: use ``sentences``
    strip_boilerplate: bool = True  # a reader never wants the byline in a summary
    beta: float = 0.0  # grid winner on CNN/DM sample articles 0-49 (keep every positive edge)
    lambda1: float = 0.3  # grid winner on articles 0-49: similarity to earlier sentences costs 0.3, to later gains 0.7
    redundancy: float = 0.5  # grid winner on articles 0-49 (among 0, 0.25, 0.5, 1)
    min_words: int = 5  # "Police said." is rarely a summary
    max_graph_sentences: int = 800  # 800 x 800 similarities: ~5 MB, well under a second
    damping: float = 0.85  # Brin & Page; TextRank's value

    def __post_init__(self) -> None:
        for name, enum in (("method", Method), ("similarity", Similarity)):
            try:
                object.__setattr__(self, name, enum(getattr(self, name)))
            except ValueError:
                valid = ", ".join(m.value for m in enum)
                raise InputError(f"Unknown {name} {getattr(self, name)!r}. Choose one of: {valid}.") from None
        if not 1 <= int(self.sentences) <= MAX_SENTENCES:
            raise InputError(
                f"The summary length must be between 1 and {MAX_SENTENCES} sentences, got {self.sentences}."
            )
        if self.ratio is not None and not 0.0 < self.ratio <= 1.0:
            raise InputError(f"The ratio must be above 0 and at most 1 (e.g. 0.2 for a fifth), got {self.ratio}.")
        if not 0.0 <= self.beta < 1.0 or not 0.0 <= self.lambda1 <= 1.0 or self.redundancy < 0.0:
            raise InputError("beta must be in [0, 1), lambda1 in [0, 1] and redundancy at least 0.")

    def budget(self, candidates: int) -> int:
        """Sentences to choose from a document with ``candidates`` candidate sentences."""
        k = round(self.ratio * candidates) if self.ratio is not None else int(self.sentences)
        return max(1, min(k, candidates, MAX_SENTENCES))


@dataclass(frozen=True)
class Section:
    """Summary sentences under one heading (None before the first heading), grouped by paragraph."""

    heading: str | None
    paragraphs: tuple[tuple[str, ...], ...]


@dataclass
class Summary:
    """An extractive summary with everything needed to show and explain it.

    Attributes:
        method: The method used.
        config: The configuration.
        document: The prepared source (text, sentences, boilerplate removed).
        chosen: Indices (into ``document.sentences``) of the summary sentences, in document order.
        scores: One row per sentence: position, words, centrality, relevance, redundancy penalty, score, chosen.
        similarity: The similarity actually used ("tfidf", "minilm" or "" for Lead-k).
        seconds: Wall time of the summarisation.
        notes: What a user should know (capping, pre-ranking, fallbacks).
        original_chars: Characters of the input before cleaning.
    """

    method: Method
    config: SummarizerConfig
    document: Prepared
    chosen: tuple[int, ...]
    scores: pd.DataFrame
    similarity: str
    seconds: float
    notes: tuple[str, ...] = ()
    original_chars: int = 0

    @property
    def title(self) -> str:
        """The method's human name."""
        return METHODS[self.method]["title"]

    @property
    def sentences(self) -> list[str]:
        """The summary sentences, in document order."""
        return [self.document.sentences[i].text for i in self.chosen]

    @property
    def text(self) -> str:
        """The summary as one text, a blank line between source paragraphs."""
        return "\n\n".join(" ".join(p) for section in self.sections for p in section.paragraphs)

    @property
    def sections(self) -> list[Section]:
        """The summary in document order, grouped under the source's headings and paragraphs."""
        return group_sections(self.document.sentences, self.chosen)

    @property
    def stats(self) -> dict[str, float]:
        """Compression figures: words and sentences of source and summary, and their ratio."""
        return compression(self.document.words, len(self.document.body), self.text, len(self.chosen))

    def highlighted_html(self) -> str:
        """The prepared source as HTML with the chosen sentences highlighted; all text is escaped."""
        return highlight(self.document, self.chosen)


def compression(source_words: int, source_sentences: int, summary: str, summary_sentences: int) -> dict[str, float]:
    """Compression figures of a summary against its source."""
    words = len(summary.split())
    return {
        "source_words": float(source_words),
        "summary_words": float(words),
        "source_sentences": float(source_sentences),
        "summary_sentences": float(summary_sentences),
        "word_ratio": words / source_words if source_words else 0.0,
    }


def group_sections(sentences: tuple[DocSentence, ...], chosen: tuple[int, ...]) -> list[Section]:
    """Chosen sentences grouped under the heading before them and by source paragraph."""
    picked = set(chosen)
    sections: list[tuple[str | None, list[list[str]]]] = []
    heading: str | None = None
    last_paragraph = -1
    for s in sentences:
        if s.is_heading:
            heading, last_paragraph = s.text.lstrip("# ").strip(), -1
            continue
        if s.index not in picked:
            continue
        if not sections or sections[-1][0] != heading or (sections[-1][1] == [] and heading is None):
            sections.append((heading, []))
            last_paragraph = -1
        if s.paragraph != last_paragraph:
            sections[-1][1].append([])
            last_paragraph = s.paragraph
        sections[-1][1][-1].append(s.text)
    return [Section(h, tuple(tuple(p) for p in paras)) for h, paras in sections]


HIGHLIGHT_STYLE = "background: rgba(250, 204, 21, 0.45); border-radius: 3px; padding: 1px 2px;"
HEADING_STYLE = "font-weight: 600;"


def highlight(document: Prepared, chosen: tuple[int, ...] | list[int]) -> str:
    """The prepared text as HTML paragraphs: chosen sentences in ``<mark>``, headings bold, everything escaped."""
    picked = set(chosen)
    text = document.text
    parts: list[str] = []
    cursor = 0
    for s in document.sentences:
        parts.append(inert_html(text[cursor : s.start]))
        body = inert_html(text[s.start : s.end])
        if s.index in picked:
            parts.append(
                f'<mark style="{HIGHLIGHT_STYLE}" title="sentence {s.index + 1}: in the summary">{body}</mark>'
            )
        elif s.is_heading:
            parts.append(f'<span style="{HEADING_STYLE}">{body}</span>')
        else:
            parts.append(body)
        cursor = s.end
    parts.append(inert_html(text[cursor:]))
    paragraphs = "".join(parts).split("\n\n")
    return "".join(f"<p>{p}</p>" for p in paragraphs if p.strip())


# ---------------------------------------------------------------- input


def check_text(text: Any, *, what: str = "text") -> CleanText:
    """Validate and clean a document at the engine boundary (empty, no words, non-English: InputError)."""
    if not isinstance(text, str):
        raise InputError(f"The {what} must be a string of text, got {type(text).__name__}.")
    return english_text(text, what=what)


# ---------------------------------------------------------------- ranking


def similarity_matrix(
    texts: list[str], similarity: Similarity, encoder: SentenceEncoder | None, progress: Progress = null_progress
) -> tuple[np.ndarray, str]:
    """Cosine similarities between sentences, and the similarity actually used."""
    if similarity is Similarity.MINILM and encoder is not None:
        vectors = encoder.encode(texts, progress=progress)
        return extractive.cosine_matrix(vectors), Similarity.MINILM.value
    return extractive.cosine_matrix(extractive.tfidf_vectors(texts)), Similarity.TFIDF.value


def summarize(
    text: str,
    config: SummarizerConfig | None = None,
    *,
    encoder: SentenceEncoder | None = None,
    progress: Progress = null_progress,
) -> Summary:
    """Summarise one document extractively.

    Args:
        text: The document (pasted or read from a file).
        config: Method and length; the default config when None.
        encoder: A sentence encoder for ``similarity="minilm"`` (TF-IDF is used without one, with a note).
        progress: Reports the stages; ends at 1.0.

    Returns:
        The summary with per-sentence scores.

    Raises:
        InputError: for empty text, text without words, non-English text, or a bad config.
    """
    started = time.perf_counter()
    progress(0.02, "Cleaning the text")
    return _summarize_clean(check_text(text), config, encoder, progress, started)


def summarize_sample(
    sample: Sample,
    config: SummarizerConfig | None = None,
    *,
    encoder: SentenceEncoder | None = None,
    progress: Progress = null_progress,
) -> Summary:
    """Summarise a bundled sample: what :func:`summarize` gives for its text, without the language detector.

    The samples are English text this project wrote, already clean (a test checks both), so the detector,
    whose model takes seconds to load on a cold server, is not needed for the page's first summary.
    """
    started = time.perf_counter()
    clean = CleanText(sample.text, len(sample.text), "en", "English", 1.0)
    return _summarize_clean(clean, config, encoder, progress, started)


def _summarize_clean(
    clean: CleanText,
    config: SummarizerConfig | None,
    encoder: SentenceEncoder | None,
    progress: Progress,
    started: float,
) -> Summary:
    config = config or SummarizerConfig()
    notes = list(clean.notes)
    progress(0.1, "Splitting into sentences")
    document = prepare(clean.text, strip=config.strip_boilerplate)
    if document.tokenised:
        notes.append(
            'The text came tokenised, with every mark a word of its own (" . ", "-lrb-", "``"), as '
            "CNN/DailyMail is distributed: punctuation was put back before finding the sentences."
        )
    if document.removed:
        notes.append(f"Removed {len(document.removed)} piece(s) of boilerplate (bylines, datelines, time-stamps).")
    if not document.body:
        raise InputError("The text has no sentences to summarise (only headings). Paste or upload some prose.")
    summary = rank(document, config, encoder=encoder, progress=scaled(progress, 0.15, 0.98), notes=notes)
    summary.seconds = time.perf_counter() - started
    summary.original_chars = clean.original_chars
    progress(1.0, f"Chose {len(summary.chosen)} sentence(s)")
    return summary


def rank(
    document: Prepared,
    config: SummarizerConfig,
    *,
    encoder: SentenceEncoder | None = None,
    progress: Progress = null_progress,
    notes: list[str] | None = None,
) -> Summary:
    """Score the sentences of a prepared document and choose the summary (no cleaning, no timing)."""
    notes = list(notes or [])
    body = document.body
    rows = pd.DataFrame(
        {
            "sentence": [s.index for s in body],
            "position": np.arange(len(body)),
            "paragraph": [s.paragraph for s in body],
            "words": [s.words for s in body],
            "text": [s.text for s in body],
        }
    )
    for column in ("centrality", "relevance", "redundancy", "score"):
        rows[column] = np.nan
    rows["chosen"] = False
    rows["pick"] = 0
    if config.method is Method.LEAD:
        k = config.budget(len(body))
        picks = list(range(k))
        rows["score"] = 1.0 - rows["position"] / max(len(body), 1)
        used = ""
    else:
        eligible = np.flatnonzero(rows["words"].to_numpy() >= config.min_words)
        if eligible.size == 0:  # every sentence is short: rank them all rather than refuse
            eligible = np.arange(len(body))
        k = config.budget(len(eligible))
        if eligible.size > config.max_graph_sentences:
            progress(0.05, f"Pre-ranking {eligible.size:,} sentences")
            pre = extractive.centroid_scores(extractive.tfidf_vectors([body[i].text for i in eligible]))
            keep = np.sort(extractive.top_k(pre, config.max_graph_sentences))
            notes.append(
                f"The document has {eligible.size:,} sentences; the {config.max_graph_sentences:,} closest to its "
                "overall topic were ranked."
            )
            eligible = eligible[keep]
        texts = [body[i].text for i in eligible]
        if config.similarity is Similarity.MINILM and encoder is None:
            notes.append("The sentence encoder is not available; TF-IDF similarity was used instead.")
        progress(0.2, f"Comparing {len(texts):,} sentences")
        sim, used = similarity_matrix(texts, config.similarity, encoder, scaled(progress, 0.2, 0.8))
        progress(0.85, "Ranking")
        if config.method is Method.TEXTRANK:
            centrality = extractive.pagerank(sim, damping=config.damping)
            relevance = extractive.normalise(centrality)
            local = extractive.top_k(centrality, k)
            penalty = np.zeros(len(eligible))
            score = relevance
        else:
            centrality, _, _ = extractive.directed_centrality(sim, config.beta, config.lambda1, 1.0 - config.lambda1)
            relevance = extractive.normalise(centrality)
            local, penalty = extractive.mmr_select(relevance, sim, k, config.redundancy)
            score = relevance - penalty
        rows.loc[eligible, "centrality"] = centrality
        rows.loc[eligible, "relevance"] = relevance
        rows.loc[eligible, "redundancy"] = penalty
        rows.loc[eligible, "score"] = score
        picks = [int(eligible[i]) for i in local]
    for order, i in enumerate(picks, start=1):
        rows.loc[i, "chosen"] = True
        rows.loc[i, "pick"] = order
    chosen = tuple(sorted(body[i].index for i in picks))
    progress(1.0, "Ranked")
    return Summary(config.method, config, document, chosen, rows, used, 0.0, tuple(notes))


# ---------------------------------------------------------------- evaluation


def check_reference(reference: Any) -> str:
    """Validate a reference summary (InputError when empty, wordless or huge)."""
    if not isinstance(reference, str) or not reference.strip():
        raise InputError("The reference summary is empty. Paste a summary written by a person, or leave it out.")
    if len(reference) > MAX_REFERENCE_CHARS:
        raise InputError(
            f"The reference summary is {len(reference):,} characters; up to {MAX_REFERENCE_CHARS:,} are scored. "
            "Paste a summary, not a whole document."
        )
    if not any(ch.isalnum() for ch in reference):
        raise InputError("The reference summary has no words (only symbols). Paste a summary written in words.")
    return reference


def rouge(summary: str, reference: str) -> dict[str, float]:
    """ROUGE-1, ROUGE-2 and ROUGE-L F1 of ``summary`` against ``reference`` (rouge-score, Porter stemming).

    Raises:
        InputError: for an empty or unusable reference.
    """
    from rouge_score import rouge_scorer

    reference = check_reference(reference)
    scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)
    scores = scorer.score(reference, summary)
    return {name: float(scores[name].fmeasure) for name in ROUGE_TYPES}


def compare_methods(
    text: str,
    config: SummarizerConfig | None = None,
    *,
    reference: str | None = None,
    encoder: SentenceEncoder | None = None,
    extra: dict[str, Any] | None = None,
    progress: Progress = null_progress,
) -> pd.DataFrame:
    """Every extractive method (and any extra summariser) on the same text with the same length budget.

    Args:
        text: The document.
        config: Length and boilerplate settings shared by every method.
        reference: A reference summary; adds ROUGE columns when given.
        encoder: Adds the MiniLM-similarity variant of the default when given.
        extra: Title -> callable(text, progress) returning an object with ``text`` and ``stats`` (the abstractive model).
        progress: Reports each method; ends at 1.0.

    Returns:
        One row per method: key, method, words, sentences, word_ratio, seconds, rouge1/2/L (NaN without a reference), default.
    """
    config = config or SummarizerConfig()
    if reference is not None and reference.strip():
        check_reference(reference)
    else:
        reference = None
    runs: list[tuple[str, str, Any]] = [
        (m.value, METHODS[m]["title"], replace(config, method=m, similarity=Similarity.TFIDF)) for m in Method
    ]
    if encoder is not None:
        runs.append(
            (
                "centrality_minilm",
                "Position-aware centrality + MMR, MiniLM similarity",
                replace(config, method=Method.CENTRALITY, similarity=Similarity.MINILM),
            )
        )
    runs += [(f"extra_{i}", title, fn) for i, (title, fn) in enumerate((extra or {}).items())]
    rows = []
    for i, (key, title, how) in enumerate(runs):
        step = scaled(progress, i / len(runs), (i + 1) / len(runs))
        step(0.0, f"Running {title}")
        started = time.perf_counter()
        if isinstance(how, SummarizerConfig):
            result = summarize(text, how, encoder=encoder, progress=step)
        else:
            result = how(text, step)
        seconds = time.perf_counter() - started
        stats = result.stats
        row = {
            "key": key,
            "method": title,
            "words": int(stats["summary_words"]),
            "sentences": int(stats["summary_sentences"]),
            "word_ratio": stats["word_ratio"],
            "seconds": seconds,
            **{name: np.nan for name in ROUGE_TYPES},
            "default": key == DEFAULT_METHOD.value,
        }
        if reference is not None:
            row.update(rouge(result.text, reference))
        rows.append(row)
    progress(1.0, "Compared")
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- samples and card


@dataclass(frozen=True)
class Sample:
    """A bundled sample document with a reference summary, both written by this project."""

    key: str
    title: str
    text: str
    reference: str


def load_samples(folder: Path = SAMPLES_DIR) -> dict[str, Sample]:
    """The bundled samples: ``<key>.txt`` (first line ``Title: ...``) with ``<key>.reference.txt``."""
    samples: dict[str, Sample] = {}
    for path in sorted(folder.glob("*.txt")):
        if path.name.endswith(".reference.txt"):
            continue
        head, _, body = path.read_text(encoding="utf-8").partition("\n")
        title = head.removeprefix("Title:").strip()
        reference = path.with_name(f"{path.stem}.reference.txt").read_text(encoding="utf-8").strip()
        samples[path.stem] = Sample(path.stem, title, body.strip(), reference)
    return samples


BENCHMARK_NOTE = (
    "Benchmark: `python -m benchmarks summarizer` scores every method on a 100-article CNN/DailyMail train-split "
    "sample with rouge-score (see README)."
)


def model_card(config: SummarizerConfig | None = None, samples: dict[str, Sample] | None = None) -> ModelCard:
    """The card of a method: its ROUGE against the bundled samples' reference summaries (no training involved)."""
    from engines.core.artifacts import library_versions

    config = config or SummarizerConfig()
    samples = samples if samples is not None else load_samples()
    scores: dict[str, list[float]] = {name: [] for name in ROUGE_TYPES}
    started = time.perf_counter()
    for sample in samples.values():
        result = summarize_sample(sample, config)
        for name, value in rouge(result.text, sample.reference).items():
            scores[name].append(value)
    seconds = time.perf_counter() - started
    return ModelCard(
        model=METHODS[config.method]["title"],
        why=METHODS[config.method]["why"],
        data=f"{len(samples)} bundled sample documents with reference summaries, written by this project",
        provenance="bundled sample",
        split=(
            "Unsupervised: nothing is trained. Metrics are ROUGE F1 (rouge-score, stemming) of the summaries of the "
            f"bundled samples against their references, at {config.sentences} sentences; summarising them took "
            f"{seconds:.2f} s in all (shown as training time). {BENCHMARK_NOTE}"
        ),
        metrics={name: float(np.mean(values)) if values else float("nan") for name, values in scores.items()},
        train_seconds=seconds,
        n_train=0,
        n_test=len(samples),
        limitations=(
            "Extractive: it copies sentences, so a summary can read choppily and pronouns may lose their antecedents.",
            "English only: stop words, sentence splitting and boilerplate rules are English.",
            "The position prior suits news and reports that state their point early; for a story that builds to its point, try TextRank.",
            "ROUGE counts shared words with one reference; a good summary in other words scores low.",
            "Boilerplate rules know common news bylines and datelines; unusual ones stay in the text.",
        ),
        versions=library_versions(LIBRARIES),
    )
