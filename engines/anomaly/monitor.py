"""What the page and the benchmark call: detect on one series, compare detectors on a corpus, replay a stream."""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from engines.anomaly.alerts import Alert, AlertManager, AlertRule
from engines.anomaly.data import Corpus, LabelledSeries, stand_in_corpus
from engines.anomaly.detectors import (
    ADAPTIVE_THRESHOLDS,
    DEFAULT_COOLDOWN,
    DEFAULT_DETECTOR,
    DEFAULT_THRESHOLDS,
    DETECTORS,
    DetectorName,
    OnlineDetector,
    WindowedGaussian,
    online_detector,
    score_series,
)
from engines.anomaly.multivariate import (
    RESULT_VERSION,
    TRANSACTIONS_SHA256,
    ScoredTransactions,
    TransactionsConfig,
    score_transactions,
)
from engines.anomaly.scoring import (
    AdaptiveThreshold,
    detections_from_scores,
    normalised,
    optimise_threshold,
    probationary_rows,
    score_file,
    window_precision_recall,
)
from engines.core.artifacts import EngineCache, library_versions
from engines.core.card import ModelCard
from engines.core.errors import InputError
from engines.core.lifecycle import ModelRequest
from engines.core.progress import Progress, null_progress, scaled

ENGINE = "anomaly"
ENGINE_VERSION = 1  # bump when Comparison or the detectors change, so stored comparisons are recomputed
LIBRARIES = ("numpy", "pandas", "scikit-learn", "statsmodels")


@dataclass(frozen=True)
class DetectConfig:
    """How to detect anomalies in one series.

    Attributes:
        detector: Which detector.
        threshold: Score at or above which a point is anomalous (None: the detector's default, adaptive where
            the detector has an adaptive rule and ``adaptive`` is on).
        adaptive: With no threshold given, choose it per series from the detector's own scores in NAB's
            probationary period (:data:`ADAPTIVE_THRESHOLDS`); off: the fixed corpus threshold.
        cooldown: Points of silence after a detection.
        seed: Seed of the randomised detectors.
    """

    detector: DetectorName = DEFAULT_DETECTOR  # online ensemble: best NAB score in benchmarks/anomaly.py
    threshold: float | None = None  # adaptive (ADAPTIVE_THRESHOLDS) or DEFAULT_THRESHOLDS[detector]
    adaptive: bool = True  # never below the corpus threshold; fewer false alarms on noisier series (issue 28)
    cooldown: int = DEFAULT_COOLDOWN  # one detection per incident
    seed: int = 0  # fixed: same series, same detections

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "detector", DetectorName(self.detector))
        except ValueError as exc:
            raise InputError(f"Unknown detector {self.detector!r}; choose one of {', '.join(DetectorName)}.") from exc
        if self.cooldown < 0:
            raise InputError("cooldown must be 0 or more points.")

    @property
    def cut(self) -> float:
        """The fixed threshold: the one given, else the detector's corpus threshold."""
        return DEFAULT_THRESHOLDS[self.detector] if self.threshold is None else float(self.threshold)

    @property
    def rule(self) -> AdaptiveThreshold | None:
        """The adaptive rule in force, or None when the threshold is fixed."""
        if self.threshold is not None or not self.adaptive:
            return None
        return ADAPTIVE_THRESHOLDS.get(self.detector)

    def threshold_for(self, scores: np.ndarray) -> float:
        """The threshold in force on a series with these scores."""
        rule = self.rule
        return self.cut if rule is None else rule(scores)


@dataclass(frozen=True)
class Detection:
    """Detections on one series.

    Attributes:
        series: The series.
        scores: One anomaly score per point.
        detections: Row indices flagged.
        threshold: Threshold used.
        how: How the threshold was chosen, in words.
        metrics: nab_score (this series alone), window precision and recall (labelled series only).
        seconds: Wall time of scoring.
    """

    series: LabelledSeries
    scores: np.ndarray
    detections: np.ndarray
    threshold: float
    how: str = ""
    metrics: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    def frame(self) -> pd.DataFrame:
        """Time, value, score, detected flag and in-window flag: the chart's data."""
        values = self.series.values
        flag = np.zeros(len(values), dtype=bool)
        flag[self.detections] = True
        window = np.zeros(len(values), dtype=bool)
        for a, b in self.series.windows:
            window[a : b + 1] = True
        return pd.DataFrame(
            {
                "time": values.index,
                "value": values.to_numpy(),
                "score": self.scores,
                "detected": flag,
                "in_window": window,
            }
        )


def detect(
    series: LabelledSeries, config: DetectConfig | None = None, *, scored: tuple[np.ndarray, float] | None = None
) -> Detection:
    """Score a series and flag anomalies; labelled series also get their NAB score and window precision/recall.

    ``scored``: the detector's scores of this series and the seconds they took, computed earlier (see
    :class:`CorpusScores`); the threshold and cooldown are applied to them as to fresh scores.
    """
    config = config or DetectConfig()
    if scored is None:
        started = time.perf_counter()
        scores = score_series(series.values.to_numpy(), config.detector, season=series.season, seed=config.seed)
        seconds = time.perf_counter() - started
    else:
        scores, seconds = np.asarray(scored[0], dtype=float), float(scored[1])
        if len(scores) != len(series.values):
            raise InputError(f"{len(scores)} precomputed scores for a series of {len(series.values)} points.")
    if series.values.nunique() <= 1:
        scores = np.zeros(len(scores))  # a constant series has nothing that stands out
    cut = config.threshold_for(scores)
    found = detections_from_scores(scores, cut, config.cooldown)
    how = threshold_how(config, scores, cut)
    metrics: dict[str, float] = {}
    if series.has_labels:
        n = len(scores)
        metrics["nab_score"] = normalised([score_file(n, series.windows, found)])
        precision, recall = window_precision_recall(n, series.windows, found)
        metrics |= {"window_precision": precision, "window_recall": recall}
    return Detection(series, scores, found, cut, how, metrics, seconds)


def threshold_how(config: DetectConfig, scores: np.ndarray, cut: float) -> str:
    """How the threshold ``cut`` of one series was chosen, in words."""
    rule = config.rule
    if rule is None:
        if cut != DEFAULT_THRESHOLDS[config.detector]:
            return f"Threshold {cut:.4g}, set by hand."
        return f"Threshold {cut:.4g}: the detector's fixed threshold, chosen on NAB realKnownCause."
    learn = len(rule.learning_scores(scores))
    if learn < rule.min_points:
        return (
            f"Threshold {cut:.4g}: the series is too short to learn its own (fewer than {rule.min_points} scored "
            "points in its first 15%), so the corpus threshold is used."
        )
    if cut > rule.floor:
        return (
            f"Threshold {cut:.4g}, adapted to this series: {rule.factor:g} times the {rule.quantile:.0%} quantile of "
            f"its own scores over its first {learn:,} scored points (NAB's learning period), above the corpus "
            f"threshold {rule.floor:g}."
        )
    return (
        f"Threshold {cut:.4g}: the corpus threshold; this series' own scores over its first {learn:,} scored "
        f"points (NAB's learning period) did not call for a higher one."
    )


def compare_detectors(
    corpus: Corpus,
    detectors: tuple[DetectorName, ...] = tuple(DetectorName),
    *,
    cooldown: int = DEFAULT_COOLDOWN,
    progress: Progress = null_progress,
) -> pd.DataFrame:
    """NAB leaderboard: each detector with its corpus-optimised threshold (NAB's protocol).

    Every series counts: one without a labelled window cannot be detected or missed, but each of its
    detections is a false positive (``-A_FP``), as in NAB's scoring. Window precision and recall are
    means over the labelled series.

    Returns:
        One row per detector: nab_score, threshold, windows detected, false positives (on every series),
        window precision and recall at that threshold, and scoring seconds.

    Raises:
        InputError: when no series has a labelled window (the NAB score is then undefined).
    """
    every = list(corpus.series.values())
    if not any(s.has_labels for s in every):
        raise InputError("No labelled series to compare detectors on.")
    rows = []
    for i, name in enumerate(detectors):
        step = scaled(progress, i / len(detectors), (i + 1) / len(detectors))
        step(0.0, f"Scoring {DETECTORS[name]['title']}")
        started = time.perf_counter()
        scored = [(score_series(s.values.to_numpy(), name, season=s.season), s.windows) for s in every]
        seconds = time.perf_counter() - started
        best = optimise_threshold(scored, cooldown=cooldown)
        labelled = [(scores, windows) for scores, windows in scored if windows]
        precision = recall = 0.0
        for scores, windows in labelled:
            p, r = window_precision_recall(
                len(scores), windows, detections_from_scores(scores, best.threshold, cooldown)
            )
            precision, recall = precision + p / len(labelled), recall + r / len(labelled)
        rows.append(
            {
                "detector": DETECTORS[name]["title"],
                "key": name.value,
                "nab_score": best.score,
                "threshold": best.threshold,
                "windows_detected": sum(f.tp for f in best.files),
                "windows": sum(f.tp + f.fn for f in best.files),
                "false_positives": sum(f.fp for f in best.files),
                "window_precision": precision,
                "window_recall": recall,
                "seconds": seconds,
            }
        )
        step(1.0, f"Scored {DETECTORS[name]['title']}")
    progress(1.0, "Compared")
    return pd.DataFrame(rows).sort_values("nab_score", ascending=False, ignore_index=True)


@dataclass(frozen=True)
class CompareConfig:
    """How the detectors are compared on a corpus (NAB's protocol).

    Attributes:
        cooldown: Points of silence after a detection, for every detector.
        detectors: The detectors compared.
    """

    cooldown: int = DEFAULT_COOLDOWN  # the page's default
    detectors: tuple[DetectorName, ...] = tuple(DetectorName)  # all nine

    def __post_init__(self) -> None:
        if self.cooldown < 0:
            raise InputError("cooldown must be 0 or more points.")
        try:
            object.__setattr__(self, "detectors", tuple(DetectorName(d) for d in self.detectors))
        except ValueError as exc:
            raise InputError(f"Unknown detector in {self.detectors!r}; choose from {', '.join(DetectorName)}.") from exc


@dataclass
class Comparison:
    """The NAB leaderboard of the detectors on one corpus (see :func:`compare_detectors`).

    Attributes:
        config: How they were compared.
        table: One row per detector, best first.
        corpus: Which series, in words.
        seconds: Wall time of the whole comparison.
        engine_version: Layout version (a stored comparison of another version is recomputed).
    """

    config: CompareConfig
    table: pd.DataFrame
    corpus: str
    seconds: float
    engine_version: int = ENGINE_VERSION


def compare(corpus: Corpus, config: CompareConfig | None = None, progress: Progress = null_progress) -> Comparison:
    """Every detector of ``config`` on every series of ``corpus``, timed, in a form the artifact store keeps."""
    config = config or CompareConfig()
    started = time.perf_counter()
    table = compare_detectors(corpus, config.detectors, cooldown=config.cooldown, progress=progress)
    title = corpus.source.spec.title if corpus.is_nab else "the generated series"
    return Comparison(config, table, title, time.perf_counter() - started)


@dataclass(frozen=True)
class ScoresConfig:
    """Which detectors score every series of a corpus.

    Attributes:
        detectors: The detectors.
        seed: Seed of the randomised ones (the page's DetectConfig seed).
    """

    detectors: tuple[DetectorName, ...] = tuple(DetectorName)  # all nine: any choice in the sidebar
    seed: int = 0  # DetectConfig's

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "detectors", tuple(DetectorName(d) for d in self.detectors))
        except ValueError as exc:
            raise InputError(f"Unknown detector in {self.detectors!r}; choose from {', '.join(DetectorName)}.") from exc


@dataclass
class CorpusScores:
    """Every detector's scores of every series of a corpus, and how long each took.

    Attributes:
        config: Which detectors, which seed.
        scores: Series name -> detector -> one score per point.
        seconds: Series name -> detector -> scoring seconds.
        engine_version: Layout version (stored scores of another version are recomputed).
    """

    config: ScoresConfig
    scores: dict[str, dict[str, np.ndarray]]
    seconds: dict[str, dict[str, float]]
    engine_version: int = ENGINE_VERSION

    def get(self, series: LabelledSeries, detector: DetectorName | str) -> tuple[np.ndarray, float] | None:
        """The scores of ``series`` by ``detector`` and their seconds, or None when they were not computed."""
        name = DetectorName(detector).value
        found = self.scores.get(series.name, {}).get(name)
        if found is None or len(found) != len(series.values):
            return None
        return found, self.seconds[series.name][name]


def score_corpus(
    corpus: Corpus, config: ScoresConfig | None = None, progress: Progress = null_progress
) -> CorpusScores:
    """Score every series of ``corpus`` with every detector of ``config``."""
    config = config or ScoresConfig()
    scores: dict[str, dict[str, np.ndarray]] = {}
    seconds: dict[str, dict[str, float]] = {}
    for i, (name, series) in enumerate(corpus.series.items()):
        progress(i / len(corpus.series), f"Scoring {name}")
        for detector in config.detectors:
            started = time.perf_counter()
            values = score_series(series.values.to_numpy(), detector, season=series.season, seed=config.seed)
            scores.setdefault(name, {})[detector.value] = values
            seconds.setdefault(name, {})[detector.value] = time.perf_counter() - started
    progress(1.0, "Scored")
    return CorpusScores(config, scores, seconds)


CACHE = EngineCache(ENGINE, ENGINE_VERSION, Comparison, LIBRARIES)
SCORES_CACHE = EngineCache(ENGINE, ENGINE_VERSION, CorpusScores, LIBRARIES)
TRANSACTIONS_CACHE = EngineCache(ENGINE, RESULT_VERSION, ScoredTransactions, LIBRARIES)


def request(config: CompareConfig, data: Corpus) -> ModelRequest[Comparison]:
    """The detector comparison a page wants for ``config`` on the corpus ``data`` (described, not computed)."""
    where = "NAB realKnownCause" if data.is_nab else "generated"
    return ModelRequest(
        CACHE,
        config,
        data.source.sha256,
        lambda progress: compare(data, config, progress),
        title=f"Scoring {len(config.detectors)} detectors on {len(data.series)} series",
        label=f"compare / {where} / cooldown {config.cooldown}",
    )


def transactions_request(config: TransactionsConfig) -> ModelRequest[ScoredTransactions]:
    """The scored transactions a page wants for ``config`` (described, not computed)."""
    return ModelRequest(
        TRANSACTIONS_CACHE,
        config,
        TRANSACTIONS_SHA256,
        lambda progress: score_transactions(config, progress),
        title=f"Scoring {config.n:,} transactions with every unsupervised detector",
        label=f"transactions / {config.n} / flag {config.contamination:g}",
    )


def scores_request(corpus: Corpus, config: ScoresConfig | None = None) -> ModelRequest[CorpusScores]:
    """Every detector's scores of every series of ``corpus`` (described, not computed)."""
    config = config or ScoresConfig()
    return ModelRequest(
        SCORES_CACHE,
        config,
        corpus.source.sha256,
        lambda progress: score_corpus(corpus, config, progress),
        title=f"Scoring {len(corpus.series)} series with {len(config.detectors)} detectors",
        label=f"scores / {'NAB realKnownCause' if corpus.is_nab else 'generated'}",
    )


def shipped_requests() -> list[ModelRequest]:
    """What the repository ships, all on the generated stand-in corpus (the offline default) or generated rows.

    The detector comparison, every detector's scores of every stand-in series (any detector picked in the sidebar
    answers at once) and the default transactions' scores.
    """
    corpus = stand_in_corpus()
    return [
        request(CompareConfig(), corpus),
        scores_request(corpus),
        transactions_request(TransactionsConfig()),
    ]


@dataclass
class StreamState:
    """A series being replayed point by point through an online detector and the alert rule.

    Attributes:
        series: The series replayed.
        detector: The online detector.
        alerts: The alert rule and its log.
        position: Points processed so far.
        scores: Scores of the processed points.
        seconds: Time spent in the detector and rule (for the throughput).
    """

    series: LabelledSeries
    detector: OnlineDetector | WindowedGaussian
    alerts: AlertManager
    position: int = 0
    scores: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def done(self) -> bool:
        """True when every point was replayed."""
        return self.position >= len(self.series.values)

    @property
    def points_per_s(self) -> float:
        """Throughput of detector + rule so far."""
        return self.position / self.seconds if self.seconds > 0 else 0.0

    def step(self, batch: int) -> list[Alert]:
        """Push the next ``batch`` points; returns the alerts they raised."""
        if batch < 1:
            raise InputError("batch must be at least 1 point.")
        values = self.series.values
        end = min(self.position + batch, len(values))
        chunk = values.to_numpy(dtype=float)[self.position : end].tolist()
        index = values.index

        def stamp(i: int) -> str:
            return f"{index[i]:%Y-%m-%d %H:%M}"

        raised = []
        update, feed, append = self.detector.update, self.alerts.feed, self.scores.append
        started = time.perf_counter()
        for i, value in enumerate(chunk, start=self.position):
            score = update(value)
            append(score)
            alert = feed(i, stamp, value, score)
            if alert is not None:
                raised.append(alert)
        self.seconds += time.perf_counter() - started
        self.position = end
        return raised


def start_stream(
    series: LabelledSeries, rule: AlertRule | None = None, detector: DetectorName = DEFAULT_DETECTOR
) -> StreamState:
    """A fresh replay of ``series`` with an online detector (the ensemble or NAB's windowed Gaussian)."""
    online = online_detector(detector, series.season)
    return StreamState(series, online, AlertManager(rule or AlertRule(threshold=DEFAULT_THRESHOLDS[detector])))


def _limitations(name: DetectorName) -> tuple[str, ...]:
    common = (
        "Thresholds and the detector's fixed settings were chosen on the same 7 NAB series it is scored on, so its "
        "NAB score is optimistic for new data (the adaptive threshold's knobs were tuned on 4 of them only).",
        "Scores assume a regular sampling interval; irregular series are scored by row, not by time.",
    )
    if name is DetectorName.ONLINE:
        return (
            *common,
            "Scores need about 50 points of warm-up, and a day and a week of history for the seasonal lags.",
            "A sustained new normal is flagged once, then absorbed: the detector adapts instead of alarming forever.",
        )
    if name is DetectorName.WGAUSS:
        return (*common, "One Gaussian over 6,400 points: daily cycles look like anomalies, slow drifts do not.")
    return (
        *common,
        "Batch: it sees the whole series at once (fit on up to 2,000 windows), so it cannot run on a live stream.",
    )


def card_for(name: DetectorName, detection: Detection, provenance: str, data_title: str) -> ModelCard:
    """Model card of detector ``name`` on the series of ``detection``."""
    n = len(detection.scores)
    return ModelCard(
        model=DETECTORS[name]["title"],
        why=DETECTORS[name]["why"],
        data=f"{data_title}: {detection.series.name}",
        provenance=provenance,
        split=(
            "Unsupervised: no labels are used to fit. Scored with NAB's rules on the labelled windows; the first "
            f"{probationary_rows(n):,} points (NAB's probationary period) are not scored. "
            + (detection.how or f"Threshold {detection.threshold:.4g}.")
        ),
        metrics=detection.metrics,
        train_seconds=detection.seconds,
        n_train=0,
        n_test=n,
        limitations=_limitations(name),
        versions=library_versions(LIBRARIES) | {"platform": platform.machine()},
        citation="Lavin & Ahmad 2015 (NAB); Cleveland et al. 1990 (STL); Liu et al. 2008 (Isolation Forest).",
    )
