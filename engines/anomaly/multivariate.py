"""Multivariate mode: generated card transactions with injected fraud-like rows, scored unsupervised.

Isolation Forest, Local Outlier Factor, One-Class SVM and their rank-average ensemble never see
the labels; the labels only score them (ROC AUC, precision at k) afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from engines.core.errors import InputError
from engines.core.hashing import sha256_bytes
from engines.core.progress import Progress, null_progress

FEATURES = ("amount", "hour", "distance_km", "merchant_frequency", "transactions_24h")
RESULT_VERSION = 1  # bump when ScoredTransactions or the scoring changes, so stored results are recomputed
# The transactions follow from the config (seeded); this names the generator's version in artifact keys.
TRANSACTIONS_SHA256 = sha256_bytes(b"engines.anomaly.multivariate.generate_transactions v1")


class Method(StrEnum):
    """Unsupervised multivariate detectors."""

    IFOREST = "Isolation Forest"
    LOF = "Local Outlier Factor"
    OCSVM = "One-Class SVM"
    ENSEMBLE = "Ensemble (mean rank)"


def generate_transactions(n: int = 2000, fraud_share: float = 0.02, seed: int = 0) -> pd.DataFrame:
    """Card transactions with a ``fraud`` label (1 for the injected anomalies).

    Normal rows: lognormal amounts, daytime hours, short distances, familiar merchants.
    Fraud-like rows: large amounts at night, far from home, at unfamiliar merchants, in bursts.
    """
    if not 100 <= n <= 100_000 or not 0.0 < fraud_share < 0.5:
        raise InputError("n must be 100..100,000 and fraud_share between 0 and 0.5.")
    rng = np.random.default_rng(seed)
    k = max(1, round(n * fraud_share))
    m = n - k
    normal = pd.DataFrame(
        {
            "amount": rng.lognormal(3.5, 0.7, m),
            "hour": np.clip(rng.normal(14, 4, m), 0, 23.99),
            "distance_km": rng.exponential(5, m),
            "merchant_frequency": rng.beta(5, 2, m),
            "transactions_24h": rng.poisson(3, m).astype(float),
        }
    )
    fraud = pd.DataFrame(
        {
            "amount": rng.lognormal(5.5, 0.6, k),
            "hour": rng.uniform(0, 5, k),
            "distance_km": rng.uniform(80, 900, k),
            "merchant_frequency": rng.beta(1, 8, k),
            "transactions_24h": rng.poisson(12, k).astype(float),
        }
    )
    # Half the fraud rows disguise one feature as normal, so no single feature gives them away.
    for i, col in enumerate(rng.choice(list(FEATURES), k // 2)):
        fraud.loc[i, col] = normal[col].iloc[int(rng.integers(m))]
    frame = pd.concat([normal.assign(fraud=0), fraud.assign(fraud=1)], ignore_index=True)
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True).round(3)


@dataclass(frozen=True)
class MultivariateResult:
    """Scores, metrics and a 2-D view.

    Attributes:
        scores: One column per method (higher = more anomalous).
        metrics: One row per method: roc_auc, precision_at_k (k = number of true anomalies), flagged.
        flagged: Method -> boolean mask of the top-k rows.
        pca: Two principal components of the standardised features (columns pc1, pc2).
    """

    scores: pd.DataFrame
    metrics: pd.DataFrame
    flagged: dict[str, np.ndarray]
    pca: pd.DataFrame


def detect(
    frame: pd.DataFrame,
    *,
    features: tuple[str, ...] = FEATURES,
    label: str | None = "fraud",
    contamination: float = 0.02,
    seed: int = 0,
    progress: Progress = null_progress,
) -> MultivariateResult:
    """Score every row with each unsupervised method and their ensemble.

    Args:
        frame: Rows to score.
        features: Numeric columns used.
        label: Column with the ground truth (0/1), or None.
        contamination: Expected anomaly share; the top share of rows is flagged.
        seed: Model seed.
        progress: Called per method; ends at 1.0.

    Raises:
        InputError: for missing or non-numeric feature columns or too few rows.
    """
    from sklearn.decomposition import PCA
    from sklearn.ensemble import IsolationForest
    from sklearn.metrics import roc_auc_score
    from sklearn.neighbors import LocalOutlierFactor
    from sklearn.preprocessing import RobustScaler
    from sklearn.svm import OneClassSVM

    missing = [f for f in features if f not in frame.columns]
    if missing:
        raise InputError(f"Missing feature columns: {', '.join(missing)}.")
    if len(frame) < 20:
        raise InputError("At least 20 rows are needed.")
    if not 0.0 < contamination < 0.5:
        raise InputError("contamination must be between 0 and 0.5.")
    x = frame[list(features)].apply(pd.to_numeric, errors="coerce")
    if x.isna().any().any():
        raise InputError("Feature columns must be numeric without gaps.")
    xs = RobustScaler().fit_transform(np.log1p(x.clip(lower=0)))
    models = {
        Method.IFOREST: lambda: -IsolationForest(n_estimators=200, random_state=seed).fit(xs).score_samples(xs),
        Method.LOF: lambda: -LocalOutlierFactor(n_neighbors=35).fit(xs).negative_outlier_factor_,
        Method.OCSVM: lambda: -OneClassSVM(nu=contamination, gamma="scale").fit(xs).score_samples(xs),
    }
    scores = {}
    for i, (method, run) in enumerate(models.items()):
        progress(i / 4, f"Scoring with {method.value}")
        scores[method.value] = run()
    table = pd.DataFrame(scores)
    table[Method.ENSEMBLE.value] = table.rank(pct=True).mean(axis=1)
    k = max(1, round(contamination * len(frame)))
    flagged = {m: table[m].rank(ascending=False, method="first").to_numpy() <= k for m in table.columns}
    rows = []
    for m in table.columns:
        row = {"method": m, "flagged": int(flagged[m].sum())}
        if label is not None and label in frame.columns and frame[label].nunique() == 2:
            y = frame[label].astype(int).to_numpy()
            top = table[m].rank(ascending=False, method="first").to_numpy() <= int(y.sum())
            row |= {"roc_auc": float(roc_auc_score(y, table[m])), "precision_at_k": float(y[top].mean())}
        rows.append(row)
    coords = PCA(n_components=2, random_state=seed).fit_transform(xs)
    progress(1.0, "Scored")
    return MultivariateResult(table, pd.DataFrame(rows), flagged, pd.DataFrame(coords, columns=["pc1", "pc2"]))


@dataclass(frozen=True)
class TransactionsConfig:
    """Which generated transactions to score, and how many rows to flag.

    Attributes:
        n: Transactions generated.
        fraud_share: Share of injected fraud-like rows.
        contamination: Share of rows each detector flags (its top scores).
        seed: Seed of the generator and the models.
    """

    n: int = 2000  # the page's default: every detector in about two seconds on one CPU
    fraud_share: float = 0.02  # one card in fifty: rare, as fraud is
    contamination: float = 0.02  # flag as many rows as are injected
    seed: int = 0  # fixed: the same config gives the same rows and scores

    def __post_init__(self) -> None:
        if not 100 <= self.n <= 100_000 or not 0.0 < self.fraud_share < 0.5:
            raise InputError("n must be 100..100,000 and fraud_share between 0 and 0.5.")
        if not 0.0 < self.contamination < 0.5:
            raise InputError("contamination must be between 0 and 0.5.")


@dataclass(frozen=True)
class ScoredTransactions:
    """Generated transactions and every unsupervised detector's scores of them (what the page draws).

    Attributes:
        config: What was generated and flagged.
        frame: The transactions, with their ``fraud`` label.
        result: The detectors' scores, metrics, flags and 2-D view.
        engine_version: Layout version (a stored result of another version is recomputed).
    """

    config: TransactionsConfig
    frame: pd.DataFrame
    result: MultivariateResult
    engine_version: int = RESULT_VERSION


def score_transactions(
    config: TransactionsConfig | None = None, progress: Progress = null_progress
) -> ScoredTransactions:
    """Generate transactions by ``config`` and score them with every unsupervised detector."""
    config = config or TransactionsConfig()
    frame = generate_transactions(n=config.n, fraud_share=config.fraud_share, seed=config.seed)
    result = detect(frame, contamination=config.contamination, seed=config.seed, progress=progress)
    return ScoredTransactions(config, frame, result)
