"""NAB scoring (Lavin & Ahmad 2015) and window-level precision/recall, from the paper's description.

A series has labelled anomaly windows (row index ranges, inclusive). A detector's
detections are row indices. The rules of the Numenta Anomaly Benchmark:

- rows of the probationary period (the first 15% of the file, at most 750 rows, as in
  NAB's code) are ignored: a detector is still learning there;
- each window counts once, scored by its first detection with the scaled sigmoid
  ``σ(y) = 2 / (1 + e^{5y}) - 1`` of the detection's relative position ``y``
  (-1 at the window's first row, 0 just past its last), times ``A_TP / σ(-1)``, so that a
  detection at a window's first row earns exactly ``A_TP`` (as NAB's sweeper does);
  a window lying wholly inside the probationary period is not scored;
- a window without a detection costs ``-A_FN``;
- a detection outside every window is a false positive: ``A_FP * σ(y)`` where ``y`` is
  its distance past the preceding window's end in units of that window's length
  (σ is negative for y > 0, near 0 right after a window, exactly -1 from y = 3 on), or ``-A_FP``
  when no window precedes it;
- the corpus score is normalised, ``100 * (raw - null) / (perfect - null)``, where the null
  detector never fires and the perfect one fires at the first row of every window.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engines.core.errors import InputError

PROBATIONARY_PERCENT = 0.15  # NAB: the first 15% of each file is the detectors' learning period
PROBATIONARY_CAP_ROWS = 750  # NAB's code caps it at 15% of 5,000 rows


@dataclass(frozen=True)
class Profile:
    """Weights of one NAB application profile.

    Attributes:
        tp: Reward for a detected window (A_TP).
        fp: Cost of a false positive far from any window (A_FP).
        fn: Cost of a missed window (A_FN).
    """

    tp: float = 1.0  # standard profile
    fp: float = 0.11  # standard profile
    fn: float = 1.0  # standard profile


STANDARD = Profile()


@dataclass(frozen=True)
class FileScore:
    """NAB score of one series.

    Attributes:
        raw: The detector's raw score.
        null: Score of the detector that never fires.
        perfect: Score of the detector that fires at the start of every window.
        tp: Windows detected.
        fn: Windows missed.
        fp: Detections outside the windows (after the probationary period).
    """

    raw: float
    null: float
    perfect: float
    tp: int
    fn: int
    fp: int


def scaled_sigmoid(y: float) -> float:
    """NAB's ``σ(y) = 2 / (1 + e^{5y}) - 1``: about 0.987 at y=-1, 0 at y=0, and -1 from y=3 on (as in NAB's code)."""
    if y >= 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


def probationary_rows(n_points: int) -> int:
    """Rows at the start of a series that scoring ignores."""
    return int(min(math.floor(PROBATIONARY_PERCENT * n_points), PROBATIONARY_PERCENT * 5000))


def check_windows(n_points: int, windows: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Windows as sorted ``(first, last)`` row indices; raises InputError when one is empty or out of range."""
    out = sorted((int(a), int(b)) for a, b in windows)
    for a, b in out:
        if not 0 <= a <= b < n_points:
            raise InputError(f"Window ({a}, {b}) is not inside rows 0..{n_points - 1}; give first <= last row indices.")
    for (_, b), (c, _) in itertools.pairwise(out):
        if c <= b:
            raise InputError("Anomaly windows overlap; merge them first.")
    return out


def score_file(
    n_points: int,
    windows: Sequence[tuple[int, int]],
    detections: Sequence[int],
    profile: Profile = STANDARD,
) -> FileScore:
    """NAB score of one series.

    Args:
        n_points: Rows in the series.
        windows: Labelled anomaly windows as inclusive ``(first, last)`` row indices.
        detections: Row indices where the detector fired (any order; duplicates ignored).
        profile: NAB weights.

    Returns:
        The raw score with the null and perfect scores of the same series.
    """
    start = probationary_rows(n_points)
    # A window that ends inside the probationary period has no scorable row: NAB leaves it out.
    wins = [w for w in check_windows(n_points, windows) if w[1] >= start]
    best: list[float | None] = [None] * len(wins)
    max_tp = scaled_sigmoid(-1.0)
    fp_score, n_fp = 0.0, 0
    starts = [a for a, _ in wins]
    for i in sorted({int(d) for d in detections}):
        if i < start or i >= n_points:
            continue
        k = int(np.searchsorted(starts, i, side="right")) - 1  # last window starting at or before i
        if k >= 0 and i <= wins[k][1]:
            a, b = wins[k]
            length = b - a + 1
            y = -(b - i + 1) / length
            value = profile.tp * scaled_sigmoid(y) / max_tp
            if best[k] is None:
                best[k] = value  # the first detection in a window is its best (σ decreases with position)
            continue
        n_fp += 1
        if k < 0:
            fp_score -= profile.fp
        else:
            a, b = wins[k]
            y = (i - b) / max(b - a, 1)
            fp_score += profile.fp * scaled_sigmoid(y)
    tp = sum(v is not None for v in best)
    fn = len(wins) - tp
    raw = sum(v for v in best if v is not None) - profile.fn * fn + fp_score
    null = -profile.fn * len(wins)
    perfect = profile.tp * len(wins)
    return FileScore(raw=raw, null=null, perfect=perfect, tp=tp, fn=fn, fp=n_fp)


def normalised(scores: Sequence[FileScore]) -> float:
    """Corpus score: 0 for the null detector, 100 for the perfect one."""
    raw = sum(s.raw for s in scores)
    null = sum(s.null for s in scores)
    perfect = sum(s.perfect for s in scores)
    if perfect == null:
        return 0.0  # no windows anywhere: nothing to detect
    return 100.0 * (raw - null) / (perfect - null)


def window_precision_recall(
    n_points: int, windows: Sequence[tuple[int, int]], detections: Sequence[int]
) -> tuple[float, float]:
    """Window-level precision (detections inside a window) and recall (windows with a detection).

    Detections in the probationary period are ignored, as in NAB scoring. Precision is 0 with no detection.
    """
    wins = check_windows(n_points, windows)
    start = probationary_rows(n_points)
    kept = [int(d) for d in detections if start <= int(d) < n_points]
    inside = [any(a <= d <= b for a, b in wins) for d in kept]
    hit = [any(a <= d <= b for d in kept) for a, b in wins]
    precision = sum(inside) / len(kept) if kept else 0.0
    recall = sum(hit) / len(wins) if wins else 0.0
    return precision, recall


def detections_from_scores(scores: np.ndarray, threshold: float, cooldown: int = 0) -> np.ndarray:
    """Row indices where ``scores >= threshold``, keeping at most one firing per ``cooldown + 1`` rows."""
    above = np.flatnonzero(np.asarray(scores, dtype=float) >= threshold)
    if cooldown <= 0 or len(above) == 0:
        return above
    kept = []
    next_allowed = -1
    for i in above.tolist():
        if i >= next_allowed:
            kept.append(i)
            next_allowed = i + cooldown + 1
    return np.asarray(kept, dtype=int)


@dataclass(frozen=True)
class AdaptiveThreshold:
    """A threshold chosen per series from the detector's own scores in NAB's probationary period.

    NAB lets a detector learn on the first 15% of a file (at most 750 rows), where nothing is scored. The
    threshold of a series is ``max(floor, factor * quantile(scores there, q))``: the corpus threshold,
    raised where the series' normal behaviour already scores high (a noisier series, one whose scale or
    noise differs from the tuning data), so it does not fire on its everyday wiggles. A series too short
    to leave ``min_points`` scored points in that period keeps the floor.

    Attributes:
        floor: The lowest threshold (a fixed corpus threshold).
        quantile: Quantile of the learning-period scores.
        factor: Multiplier of that quantile.
        skip: Rows at the start whose scores are not scores yet (the detector's warm-up).
        min_points: Scored points the learning period must hold to be used.
    """

    floor: float
    quantile: float = 0.9
    factor: float = 1.15
    skip: int = 0
    min_points: int = 50

    def __post_init__(self) -> None:
        if not 0.0 < self.quantile <= 1.0 or self.factor <= 0 or self.skip < 0 or self.min_points < 1:
            raise InputError("quantile must be in (0, 1], factor > 0, skip >= 0 and min_points >= 1.")

    def learning_scores(self, scores: np.ndarray) -> np.ndarray:
        """The finite scores of the learning period: after the warm-up, inside NAB's probationary rows."""
        s = np.asarray(scores, dtype=float)[self.skip : probationary_rows(len(scores))]
        return s[np.isfinite(s)]

    def __call__(self, scores: np.ndarray) -> float:
        """The threshold for one series' scores."""
        learn = self.learning_scores(scores)
        if len(learn) < self.min_points:
            return float(self.floor)
        return float(max(self.floor, self.factor * np.quantile(learn, self.quantile)))


@dataclass(frozen=True)
class ThresholdResult:
    """The threshold that maximised the corpus score (NAB's protocol), and that score.

    Attributes:
        threshold: The chosen threshold on the anomaly score.
        score: Normalised NAB score at that threshold.
        files: Per-series scores at that threshold.
    """

    threshold: float
    score: float
    files: tuple[FileScore, ...]


def optimise_threshold(
    series: Sequence[tuple[np.ndarray, Sequence[tuple[int, int]]]],
    *,
    cooldown: int = 0,
    candidates: Sequence[float] | None = None,
    profile: Profile = STANDARD,
) -> ThresholdResult:
    """Pick one threshold for the whole corpus that maximises the normalised NAB score.

    Args:
        series: ``(anomaly scores, windows)`` for every series of the corpus.
        cooldown: Rows after a detection during which the detector stays silent.
        candidates: Thresholds to try (default: a grid over the scores' quantiles).
        profile: NAB weights.

    Returns:
        The best threshold (the highest one among ties), its score and per-series scores.
    """
    if not series:
        raise InputError("No series to score.")
    if candidates is None:
        pooled = np.concatenate([np.asarray(s, dtype=float) for s, _ in series])
        pooled = pooled[np.isfinite(pooled)]
        qs = np.concatenate([np.linspace(0.5, 0.99, 50), 1 - np.geomspace(1e-2, 1e-6, 60)])
        candidates = np.unique(np.quantile(pooled, qs)) if len(pooled) else np.array([1.0])
    best: ThresholdResult | None = None
    for threshold in sorted(float(t) for t in candidates):
        files = tuple(score_file(len(s), w, detections_from_scores(s, threshold, cooldown), profile) for s, w in series)
        value = normalised(files)
        if best is None or value >= best.score:
            best = ThresholdResult(threshold, value, files)
    assert best is not None
    return best
